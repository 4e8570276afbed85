/**
 * Every way a store call can fail. `REPLACED`: an import replaced the whole database while a writer
 * was still writing to a record of the old one (a streamed reply, say); that writer should stop.
 * `UNAUTHORIZED` and `FORBIDDEN` come from the edge's HTTP router: no valid credentials, or
 * credentials for another store.
 */
export const STORE_ERROR_CODES = [
  'NOT_FOUND', 'INVALID_ARGUMENT', 'CONFLICT', 'SCHEMA_TOO_NEW', 'MIGRATION_FAILED', 'QUOTA_EXCEEDED', 'BUSY', 'CLOSED', 'STORAGE', 'REPLACED',
  'UNAUTHORIZED', 'FORBIDDEN',
] as const;

/** One of STORE_ERROR_CODES. */
export type StoreErrorCode = (typeof STORE_ERROR_CODES)[number];

/** Structured facts about a failure: the field at fault, the SQLite result code, the versions seen. */
export type StoreErrorDetails = Record<string, string | number | boolean | null>;

/**
 * The one error type a store call throws (or rejects with, across the worker). `code` is stable and
 * meant for programs; `message` is for people.
 *
 * @example
 * try { await store.appendMessage('nope', 'user', 'hi') }
 * catch (e) { if (e instanceof StoreError && e.code === 'NOT_FOUND') showMissingThread() }
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;
  readonly details?: StoreErrorDetails;

  /** Creates an error; `cause` keeps the engine's original error. */
  constructor(code: StoreErrorCode, message: string, options: { details?: StoreErrorDetails; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.details !== undefined) this.details = options.details;
  }
}

// SQLite primary result codes (the low byte of an extended code) that mean something to callers.
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_NOMEM = 7;
const SQLITE_IOERR = 10;
const SQLITE_FULL = 13;
const SQLITE_CONSTRAINT = 19;
const SQLITE_CONSTRAINT_FOREIGNKEY = 787;
// OPFS reports a full disk as an I/O error whose message names the DOMException.
const QUOTA_PATTERN = /quota|QuotaExceeded|no space/i;

// Engines that throw plain Errors (Cloudflare Durable Objects) name the code in the message instead:
// "FOREIGN KEY constraint failed: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_FOREIGNKEY)".
const CODE_BY_NAME: Readonly<Record<string, number>> = {
  SQLITE_ERROR: 1, SQLITE_INTERNAL: 2, SQLITE_PERM: 3, SQLITE_ABORT: 4, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_NOMEM, SQLITE_READONLY: 8,
  SQLITE_INTERRUPT: 9, SQLITE_IOERR, SQLITE_CORRUPT: 11, SQLITE_FULL, SQLITE_CANTOPEN: 14, SQLITE_SCHEMA: 17, SQLITE_TOOBIG: 18,
  SQLITE_CONSTRAINT, SQLITE_MISMATCH: 20, SQLITE_MISUSE: 21, SQLITE_AUTH: 23, SQLITE_RANGE: 25, SQLITE_NOTADB: 26,
  SQLITE_CONSTRAINT_FOREIGNKEY,
};
const NAMED_CODE = /\b(SQLITE_[A-Z]+)(?: \(extended: (SQLITE_[A-Z_]+)\))?/;

function resultCodeOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { resultCode?: unknown }).resultCode;
  if (typeof code === 'number') return code;
  const named = error instanceof Error ? NAMED_CODE.exec(error.message) : null;
  if (!named) return undefined;
  return CODE_BY_NAME[named[2] ?? ''] ?? CODE_BY_NAME[named[1]!];
}

/**
 * Turns anything an engine threw into a StoreError. This is the only place engine errors are
 * interpreted; every store operation funnels its failures through it.
 */
export function toStoreError(error: unknown, context: string): StoreError {
  if (error instanceof StoreError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const resultCode = resultCodeOf(error);
  if (resultCode === undefined) {
    const quota = error instanceof Error && error.name === 'QuotaExceededError';
    return new StoreError(quota ? 'QUOTA_EXCEEDED' : 'STORAGE', `${context}: ${message}`, { cause: error });
  }
  const primary = resultCode & 0xff;
  const details = { resultCode };
  if (primary === SQLITE_FULL || (primary === SQLITE_IOERR && QUOTA_PATTERN.test(message))) {
    return new StoreError('QUOTA_EXCEEDED', `${context}: storage is full (${message})`, { details, cause: error });
  }
  if (primary === SQLITE_NOMEM) {
    return new StoreError('QUOTA_EXCEEDED', `${context}: out of memory (${message})`, { details, cause: error });
  }
  if (primary === SQLITE_BUSY || primary === SQLITE_LOCKED) {
    return new StoreError('BUSY', `${context}: the database is locked (${message})`, { details, cause: error });
  }
  if (resultCode === SQLITE_CONSTRAINT_FOREIGNKEY) {
    return new StoreError('NOT_FOUND', `${context}: a referenced record does not exist`, { details, cause: error });
  }
  if (primary === SQLITE_CONSTRAINT) {
    return new StoreError('CONFLICT', `${context}: ${message}`, { details, cause: error });
  }
  return new StoreError('STORAGE', `${context}: ${message}`, { details, cause: error });
}
