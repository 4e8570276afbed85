import type { SqlDriver } from '../driver/port.js';
import { StoreError } from './errors.js';
import { LATEST_SCHEMA_VERSION, migrate, readUserVersion } from './migrate.js';
import { encodeEntry } from './session-index.js';
import { num, str, strOrNull } from './rows.js';
import { record } from './validate.js';
import { atomically } from './transaction.js';
import {
  checkMessageLinks, copySequences, copyTableRows, dropOrphans, emptyDataTables, foreignObjects, planCopy, stripForeignSchema, type IgnoredObject,
} from './import-rows.js';

export type { IgnoredObject } from './import-rows.js';

/**
 * Export and import of whole databases. An import is checked on a private in-memory copy (header,
 * integrity, schema version, migration to the latest version, the data tables against the store's),
 * and only its rows are then copied into the store's own tables in one transaction, so a bad file
 * never touches the current data and nothing of a file's schema ever runs in the store.
 */

/** Where an import is; `fraction` goes from 0 to 1 within each phase. */
export interface ImportProgress {
  phase: 'validate' | 'integrity' | 'migrate' | 'copy' | 'index' | 'done';
  fraction: number;
}

/** Options of importDatabase. */
export interface ImportOptions {
  /** The session index (JSONL) to install with the database. Default: rebuilt from the imported threads. */
  sessionIndex?: string;
  /** Called as the import advances; large files spend most of their time in `copy`. */
  onProgress?: (progress: ImportProgress) => void;
}

/** What importDatabase did. */
export interface ImportResult {
  /** The schema version of the file as it was given. */
  fromVersion: number;
  /** The schema version now (the latest). */
  schemaVersion: number;
  /** Threads and messages in the store after the import. */
  threads: number;
  messages: number;
  /** What the file held that the store did not take: triggers, views, indexes, tables and columns of its own. */
  ignored: IgnoredObject[];
  /** Rows left out, per table, because a row they belong to was not in the file (see dropOrphans). */
  dropped: Record<string, number>;
}

const MAGIC = 'SQLite format 3\u0000';
/** What a refusal of a file that is not a store's database tells the caller to do instead. */
const WHAT_TO_IMPORT = 'nothing was imported; importDatabase takes a database file that exportDatabase() wrote (a SQLite 3 file)';
const HEADER_BYTES = 100;

function refuse(message: string, details: Record<string, string | number> = {}): StoreError {
  return new StoreError('INVALID_ARGUMENT', `bytes ${message}`, { details: { field: 'bytes', ...details } });
}

/**
 * A file to import that a host has staged itself (on the edge, in the object's storage, never whole in
 * memory): its first bytes, its length, and a way to open it as a private connection.
 */
export interface StagedFile {
  /** At least the first 100 bytes of the file (its SQLite header). */
  header: Uint8Array;
  byteLength: number;
  /** Opens the file as a connection of its own; the import closes it. */
  open(): SqlDriver;
}

/** Checks the 100-byte SQLite header and that the file is as long as the header says. */
export function checkHeader(bytes: unknown): Uint8Array {
  if (!(bytes instanceof Uint8Array)) {
    throw refuse('must be a Uint8Array holding a SQLite database file, e.g. new Uint8Array(await file.arrayBuffer()) or what exportDatabase() returned');
  }
  checkHeaderOf(bytes, bytes.byteLength);
  return bytes;
}

/** checkHeader for a file of `byteLength` bytes whose first bytes are `header`. */
function checkHeaderOf(bytes: Uint8Array, byteLength: number): void {
  if (byteLength < HEADER_BYTES || bytes.byteLength < HEADER_BYTES) throw refuse(`is ${byteLength} bytes long, too short for a SQLite file; ${WHAT_TO_IMPORT}`);
  const magic = String.fromCharCode(...bytes.subarray(0, 16));
  if (magic !== MAGIC) throw refuse(`is not a SQLite database file (the header does not start with "SQLite format 3"); ${WHAT_TO_IMPORT}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rawPageSize = view.getUint16(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) throw refuse(`has an invalid page size ${rawPageSize}`);
  const pageCount = view.getUint32(28);
  // The page count in the header is valid when the change counter matches "version-valid-for".
  const countValid = view.getUint32(24) === view.getUint32(92) && pageCount > 0;
  const expected = countValid ? pageCount * pageSize : Math.ceil(byteLength / pageSize) * pageSize;
  if (byteLength < expected || byteLength % pageSize !== 0) {
    throw refuse(`is truncated: ${byteLength} bytes where the header promises ${expected}`, { expectedBytes: expected, actualBytes: byteLength });
  }
}

function integrityProblems(db: SqlDriver): string[] {
  // An engine that allows only quick_check still checks the b-trees and records, not index contents.
  const pragma = db.capabilities?.integrityCheck === 'quick' ? 'PRAGMA quick_check' : 'PRAGMA integrity_check';
  const rows = db.all(pragma).map((r) => str(Object.values(r)[0]));
  return rows.length === 1 && rows[0] === 'ok' ? [] : rows;
}

/** The size of the main database in bytes: page_count × page_size, or the driver's figure where those pragmas are refused. */
export function databaseBytes(db: SqlDriver): number {
  if (db.databaseSizeBytes) return db.databaseSizeBytes();
  return num(db.all('SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()')[0]?.['bytes']);
}

/** The engine's version ("unknown" where the engine refuses sqlite_version()), the schema version and the size of the main database. */
export function databaseFacts(db: SqlDriver): { sqliteVersion: string; schemaVersion: number; databaseSizeBytes: number } {
  const declared = db.capabilities?.sqliteVersion;
  const sqliteVersion = declared === undefined ? String(db.all('SELECT sqlite_version() AS version')[0]?.['version'] ?? '') : (declared ?? 'unknown');
  return { sqliteVersion, schemaVersion: readUserVersion(db), databaseSizeBytes: databaseBytes(db) };
}

/** The session index that matches a database: one line per thread, in update order. */
export function sessionIndexFromThreads(db: SqlDriver): string {
  return db
    .all('SELECT id, title, updated_at, rollout_path FROM threads ORDER BY updated_at, rowid')
    .map((r) => encodeEntry({ threadId: str(r['id']), threadName: strOrNull(r['title']), updatedAt: num(r['updated_at']), rolloutPath: strOrNull(r['rollout_path']) }) + '\n')
    .join('');
}

/** PRAGMA integrity_check (quick_check where the engine allows only that): ok, or the problems SQLite lists. */
export function checkIntegrity(db: SqlDriver): { ok: boolean; problems: string[] } {
  const problems = integrityProblems(db);
  return { ok: problems.length === 0, problems };
}

/**
 * Imports a file's rows: checks the file on a private copy (header, integrity, schema version), brings
 * an older one to the latest version there (its own triggers and views set aside first, so none of
 * them runs), checks its data tables against the store's own, then, in one transaction on `db`,
 * replaces the store's data rows with the file's and calls `install` with the session index text (the
 * store installs it and runs its import hooks). Nothing of the file's schema reaches `db`; a failure
 * anywhere, `install` included, leaves the store's data as it was.
 */
export function importImage(db: SqlDriver, input: unknown | StagedFile, given: ImportOptions | null | undefined, install: (text: string) => void): ImportResult {
  const options = (given === undefined || given === null ? {} : record(given, 'options')) as ImportOptions;
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new StoreError('INVALID_ARGUMENT', 'options.onProgress must be a function', { details: { field: 'options.onProgress' } });
  }
  const progress = options.onProgress ?? (() => {});
  if (options.sessionIndex !== undefined && typeof options.sessionIndex !== 'string') {
    throw new StoreError('INVALID_ARGUMENT', 'options.sessionIndex must be a string of JSONL', { details: { field: 'options.sessionIndex' } });
  }
  if (db.inTransaction()) throw new StoreError('BUSY', 'an import cannot run inside a transaction');
  progress({ phase: 'validate', fraction: 0 });
  const staged = input instanceof StagedSource ? input.file : undefined;
  let image: SqlDriver;
  try {
    if (staged) {
      checkHeaderOf(staged.header, staged.byteLength);
      image = staged.open();
    } else {
      image = db.openImage(checkHeader(input));
    }
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw refuse(`could not be opened as a database: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    progress({ phase: 'integrity', fraction: 0 });
    let problems: string[];
    try {
      problems = integrityProblems(image);
    } catch (error) {
      problems = [error instanceof Error ? error.message : String(error)];
    }
    if (problems.length > 0) throw refuse(`fail PRAGMA integrity_check: ${problems.slice(0, 3).join('; ')}`, { problems: problems.length });
    progress({ phase: 'integrity', fraction: 1 });

    const fromVersion = readUserVersion(image);
    if (fromVersion > LATEST_SCHEMA_VERSION) {
      throw new StoreError('SCHEMA_TOO_NEW', `the file is at schema version ${fromVersion}, newer than this code knows (${LATEST_SCHEMA_VERSION}); nothing was imported`, {
        details: { databaseVersion: fromVersion, supportedVersion: LATEST_SCHEMA_VERSION },
      });
    }
    if (image.all("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'threads'").length === 0) {
      throw refuse(`hold a SQLite database that is not a conversation store (no threads table); ${WHAT_TO_IMPORT}`);
    }
    const ignored = foreignObjects(image, db);
    progress({ phase: 'migrate', fraction: 0 });
    if (fromVersion < LATEST_SCHEMA_VERSION) {
      stripForeignSchema(image, db);
      if (image.capabilities?.foreignKeys !== 'always') image.exec('PRAGMA foreign_keys = ON');
      migrate(image);
    }
    progress({ phase: 'migrate', fraction: 1 });
    const plans = planCopy(image, db, ignored);
    const indexText = options.sessionIndex ?? sessionIndexFromThreads(image);

    progress({ phase: 'copy', fraction: 0 });
    const total = plans.reduce((sum, p) => sum + p.rows, 0);
    let copied = 0;
    return atomically(db, () => {
      deferForeignKeys(db);
      emptyDataTables(db);
      for (const plan of plans) {
        copyTableRows(image, db, plan, (rows) => {
          copied += rows;
          progress({ phase: 'copy', fraction: total > 0 ? copied / total : 1 });
        });
      }
      copySequences(image, db);
      const dropped = dropOrphans(db);
      checkMessageLinks(db);
      progress({ phase: 'copy', fraction: 1 });
      progress({ phase: 'index', fraction: 0 });
      install(indexText);
      const threads = num(db.all('SELECT count(*) AS n FROM threads')[0]?.['n']);
      const messages = num(db.all('SELECT count(*) AS n FROM messages')[0]?.['n']);
      progress({ phase: 'done', fraction: 1 });
      return { fromVersion, schemaVersion: LATEST_SCHEMA_VERSION, threads, messages, ignored, dropped };
    });
  } finally {
    image.close();
  }
}

/**
 * Marks a staged file as the host's own (only a host can make one; a caller's argument is never taken
 * for one, whatever its shape).
 */
export class StagedSource {
  constructor(readonly file: StagedFile) {}
}

/** Defers foreign-key checks to the end of the transaction, so rows can come in any order (and orphans be found and dropped). */
function deferForeignKeys(db: SqlDriver): void {
  db.exec('PRAGMA defer_foreign_keys = ON');
}
