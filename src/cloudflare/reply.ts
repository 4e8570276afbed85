import { STORE_ERROR_CODES, StoreError, type StoreErrorDetails } from '../core/errors.js';

/**
 * What a Durable Object's `call` answers: plain data only, because Workers RPC cannot carry class
 * instances (a StoreError among them), Symbols or null-prototype objects.
 */
export type EdgeReply<T = unknown> =
  | { ok: true; value: T }
  | { ok: false; error: { code: StoreError['code']; message: string; details?: StoreErrorDetails } };

/** A failure as an EdgeReply; anything that is not a StoreError travels as STORAGE. */
export function failure(error: unknown): EdgeReply<never> {
  if (error instanceof StoreError) {
    return { ok: false, error: { code: error.code, message: error.message, ...(error.details ? { details: plain(error.details) as StoreErrorDetails } : {}) } };
  }
  return { ok: false, error: { code: 'STORAGE', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) } };
}

/** Revives a reply's error as a real StoreError (an unknown code becomes STORAGE). */
export function reviveError(error: { code: unknown; message: unknown; details?: unknown }): StoreError {
  const code = (STORE_ERROR_CODES as readonly unknown[]).includes(error.code) ? (error.code as StoreError['code']) : 'STORAGE';
  const details = typeof error.details === 'object' && error.details !== null ? (error.details as StoreErrorDetails) : undefined;
  return new StoreError(code, String(error.message), details ? { details } : {});
}

/**
 * A copy of `value` that crosses Workers RPC unchanged in meaning: arrays and objects become plain
 * ones (class instances and null-prototype objects keep their own enumerable string-keyed data, as
 * JSON would), symbol keys and values and functions are dropped, undefined object members are left
 * out. Bytes, strings, numbers, booleans, bigints and null stay as they are.
 */
export function plain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'symbol' || typeof value === 'function' ? undefined : value;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
  if (Array.isArray(value)) return value.map((item) => plain(item) ?? null);
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = plain((value as Record<string, unknown>)[key]);
    // defineProperty, so that a key named "__proto__" stays a key instead of setting the prototype.
    if (item !== undefined) Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
  }
  return copy;
}
