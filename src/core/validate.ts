import { StoreError } from './errors.js';
import type { JsonValue } from './types.js';

/**
 * Argument checks. Every public operation validates its input here before touching SQL, so a bad
 * argument fails with INVALID_ARGUMENT naming the field, and nothing is written.
 */

function invalid(field: string, problem: string): StoreError {
  return new StoreError('INVALID_ARGUMENT', `${field} ${problem}`, { details: { field } });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeof value;
}

/** A string that is well-formed UTF-16, so it survives the UTF-8 round trip through SQLite unchanged. */
export function text(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalid(field, `must be a string, got ${describe(value)}`);
  if (!value.isWellFormed()) throw invalid(field, 'contains a lone surrogate (not valid Unicode)');
  return value;
}

/** A string with at least one character: ids, names, roles. */
export function nonEmpty(value: unknown, field: string): string {
  const s = text(value, field);
  if (s.length === 0) throw invalid(field, 'must not be empty');
  return s;
}

/** `text()` or null; undefined counts as null. */
export function optionalText(value: unknown, field: string): string | null {
  return value === undefined || value === null ? null : text(value, field);
}

/** A boolean. */
export function bool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw invalid(field, `must be a boolean, got ${describe(value)}`);
  return value;
}

/** An integer that JavaScript represents exactly (timestamps, counters, deltas). */
export function integer(value: unknown, field: string): number {
  if (typeof value !== 'number') throw invalid(field, `must be a number, got ${describe(value)}`);
  if (!Number.isFinite(value)) throw invalid(field, `must be finite, got ${value}`);
  if (!Number.isSafeInteger(value)) throw invalid(field, `must be an integer within ±2^53, got ${value}`);
  return value;
}

/** `integer()` or null; undefined counts as null. */
export function optionalInteger(value: unknown, field: string): number | null {
  return value === undefined || value === null ? null : integer(value, field);
}

/** A message id: a positive integer. */
export function messageId(value: unknown, field: string): number {
  const id = integer(value, field);
  if (id < 1) throw invalid(field, `must be a positive message id, got ${id}`);
  return id;
}

/** A limit: a positive integer, or the default when undefined. */
export function limit(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = integer(value, field);
  if (n < 1) throw invalid(field, `must be a positive integer, got ${n}`);
  return n;
}

/** Binary data (a serialized value): a Uint8Array, stored as a BLOB. */
export function bytes(value: unknown, field: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalid(field, `must be a Uint8Array, got ${describe(value)}`);
  return value;
}

/** A job's progress: an integer percentage from 0 to 100, or null. */
export function progress(value: unknown, field: string): number | null {
  const n = optionalInteger(value, field);
  if (n !== null && (n < 0 || n > 100)) throw invalid(field, `must be from 0 to 100, got ${n}`);
  return n;
}

/** One of a fixed set of strings. */
export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    const got = typeof value === 'string' ? JSON.stringify(value) : describe(value);
    throw invalid(field, `must be one of ${allowed.join(', ')}; got ${got}`);
  }
  return value as T;
}

/** A plain object argument (a record to upsert). */
export function record(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(field, `must be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/** An array argument. */
export function list(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw invalid(field, `must be an array, got ${describe(value)}`);
  return value;
}

// serde_json, which the Rust store reads these columns with, refuses 128 levels of nesting.
const MAX_JSON_DEPTH = 127;

/**
 * The key of the stand-in the browser client sends for a value structured clone cannot carry (a
 * function, a symbol), so that the worker refuses it with the same field as the core does in Node.
 */
export const UNCLONEABLE = '@@agent-state-store/uncloneable';

/** Built-ins that JSON.stringify would silently turn into something else ({} or a string). */
function builtinKind(value: object): string | null {
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value.constructor?.name ?? 'object with toJSON';
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  return tag === 'Object' ? null : tag;
}

function checkJson(value: unknown, path: string, depth: number, seen: Set<object>): void {
  switch (typeof value) {
    case 'string':
      if (!value.isWellFormed()) throw invalid(path, 'contains a lone surrogate (not valid Unicode)');
      return;
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw invalid(path, `is ${value}, which JSON cannot represent`);
      return;
    case 'object': {
      if (value === null) return;
      if (depth >= MAX_JSON_DEPTH) throw invalid(path, `nests deeper than ${MAX_JSON_DEPTH} levels`);
      if (seen.has(value)) throw invalid(path, 'contains a cycle');
      seen.add(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) checkJson(value[i], `${path}[${i}]`, depth + 1, seen);
      } else {
        const marker = (value as Record<string, unknown>)[UNCLONEABLE];
        if (typeof marker === 'string') throw invalid(path, `is ${marker}, which JSON cannot represent`);
        const kind = builtinKind(value);
        if (kind) throw invalid(path, `is a ${kind}, not plain JSON`);
        // Any other object (a class instance) is stored as its own enumerable data, which is exactly
        // what both JSON.stringify and the structured clone into the worker keep of it.
        for (const key of Object.keys(value)) {
          if (!key.isWellFormed()) throw invalid(path, 'has a key with a lone surrogate');
          checkJson((value as Record<string, unknown>)[key], `${path}.${key}`, depth + 1, seen);
        }
      }
      seen.delete(value);
      return;
    }
    default:
      throw invalid(path, `is ${describe(value)}, which JSON cannot represent`);
  }
}

/** Serializes a JSON value exactly, refusing anything JSON.stringify would drop or mangle. */
export function json(value: unknown, field: string): string {
  checkJson(value, field, 0, new Set());
  return JSON.stringify(value);
}

/** `json()`, or null when the value is null or undefined. */
export function optionalJson(value: unknown, field: string): string | null {
  return value === undefined || value === null ? null : json(value, field);
}

/** Parses a stored JSON column. A value no JSON parser accepts reads as null rather than failing the read. */
export function parseStoredJson(raw: unknown): JsonValue | null {
  if (typeof raw !== 'string') return null;
  try {
    return JSON.parse(raw) as JsonValue;
  } catch {
    return null;
  }
}

/** A copy of `value` with every function and symbol replaced by a marker the store's validation refuses by name. */
export function standInsForUncloneable(value: unknown, seen = new Map<object, unknown>()): unknown {
  if (typeof value === 'function') return { [UNCLONEABLE]: 'a function' };
  if (typeof value === 'symbol') return { [UNCLONEABLE]: 'a symbol' };
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return seen.get(value);
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const item of value) copy.push(standInsForUncloneable(item, seen));
    return copy;
  }
  if (Object.prototype.toString.call(value) !== '[object Object]') return value;
  const copy: Record<string, unknown> = {};
  seen.set(value, copy);
  for (const [key, item] of Object.entries(value)) copy[key] = standInsForUncloneable(item, seen);
  return copy;
}
