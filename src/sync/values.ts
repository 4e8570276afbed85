/**
 * Rows and keys as sync moves them: SQL values to and from the wire, a key's canonical text, row
 * reads by key, and the few checks every frame's content goes through.
 */
import type { SqlDriver, SqlRow, SqlValue } from '../driver/port.js';
import { StoreError } from '../core/errors.js';
import { isSyncTable, policyOf, SESSION_INDEX, type RowTable, type SyncTable } from './policy.js';
import type { SyncLimits, WireRow, WireValue } from './protocol.js';
import { DEFAULT_SYNC_LIMITS } from './protocol.js';

/** A quoted SQL identifier. */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** INVALID_ARGUMENT naming the field at fault. */
export const bad = (message: string, field: string): StoreError => new StoreError('INVALID_ARGUMENT', message, { details: { field } });

/** A key's canonical text, as SQLite's json_array writes it (the capture triggers use json_array too). */
export function keyText(db: SqlDriver, key: readonly SqlValue[]): string {
  // Printable ASCII strings and safe integers are written alike by JSON.stringify and json_array;
  // anything else (control characters, non-ASCII, floats) asks SQLite.
  if (key.every((k) => (typeof k === 'string' && /^[\x20-\x7e]*$/.test(k)) || (typeof k === 'number' && Number.isSafeInteger(k)))) return JSON.stringify(key);
  return String(db.all(`SELECT json_array(${key.map((_, i) => `?${i + 1}`).join(', ')}) AS k`, key)[0]!['k']);
}

/** The bytes of a string in UTF-8, as a socket sends it. */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function toWire(value: SqlValue): WireValue {
  if (value instanceof Uint8Array) return { $bytes: toBase64(value) };
  if (typeof value === 'bigint') return Number(value);
  return value;
}

function fromWire(value: WireValue, field: string): SqlValue {
  if (value === null || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw bad(`${field} must be a finite number`, field);
    return value;
  }
  if (typeof value === 'object' && typeof (value as { $bytes?: unknown }).$bytes === 'string' && Object.keys(value).length === 1) {
    try {
      return Uint8Array.from(atob(value.$bytes), (c) => c.charCodeAt(0));
    } catch {
      throw bad(`${field} is not valid base64`, field);
    }
  }
  throw bad(`${field} must be a string, a number, null or {$bytes}`, field);
}

/** A row as the wire carries it, without the columns that never travel. */
export function wireRow(table: RowTable, row: SqlRow): WireRow {
  const local = policyOf(table).local;
  const out: WireRow = {};
  for (const [k, v] of Object.entries(row)) if (!local.includes(k)) out[k] = toWire(v);
  return out;
}

// --- the synced tables' columns, read once per connection ---------------------------------------

const columnCache = new WeakMap<SqlDriver, Map<RowTable, string[]>>();

/** A synced table's columns, in the schema's order (the capture triggers' bit positions). */
export function columnsOf(db: SqlDriver, table: RowTable): string[] {
  let map = columnCache.get(db);
  if (!map) columnCache.set(db, (map = new Map()));
  let columns = map.get(table);
  if (!columns) {
    columns = db.all(`PRAGMA table_info(${ident(table)})`).map((c) => String(c['name']));
    map.set(table, columns);
  }
  return columns;
}

/** The columns of a table whose changes travel one by one (no key, local, counter or scope column). */
export function mergedColumns(db: SqlDriver, table: RowTable): string[] {
  const p = policyOf(table);
  return columnsOf(db, table).filter((c) => !p.key.includes(c) && !p.local.includes(c) && !p.counters.includes(c));
}

/** `"a" IS ?1 AND "b" IS ?2`: a WHERE clause on the given columns, parameters from `from`. */
export function keyWhere(columns: readonly string[], from = 1): string {
  return columns.map((c, i) => `${ident(c)} IS ?${i + from}`).join(' AND ');
}

/** The row with this key, or null. */
export function readRow(db: SqlDriver, table: RowTable, key: readonly SqlValue[]): SqlRow | null {
  return db.all(`SELECT * FROM ${ident(table)} WHERE ${keyWhere(policyOf(table).key)}`, key)[0] ?? null;
}

/** The key values of a row. */
export const keyOf = (table: RowTable, row: SqlRow): SqlValue[] => policyOf(table).key.map((c) => row[c] ?? null);

// --- checks of frame content ---------------------------------------------------------------------

/** A synced table name from the wire. */
export function checkedTable(table: unknown, field: string): SyncTable {
  if (!isSyncTable(table)) throw bad(`${field} must be a synced table`, field);
  return table;
}

/** A key from the wire: as many strings or safe integers as the table's key has columns. */
export function checkedKey(table: SyncTable, key: unknown, field: string): (string | number)[] {
  const length = table === SESSION_INDEX ? 1 : policyOf(table).key.length;
  if (!Array.isArray(key) || key.length !== length || !key.every((k) => typeof k === 'string' || (typeof k === 'number' && Number.isSafeInteger(k)))) {
    throw bad(`${field} must be an array of ${length} string or integer values`, field);
  }
  return key as (string | number)[];
}

/** A row from the wire, checked against the table's columns (local ones refused); its key must be `key`. */
export function checkedRow(db: SqlDriver, table: RowTable, key: readonly SqlValue[], row: unknown, field: string): SqlRow {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) throw bad(`${field} must be an object or null`, field);
  const columns = columnsOf(db, table);
  const p = policyOf(table);
  const out: SqlRow = {};
  for (const [name, value] of Object.entries(row as WireRow)) {
    if (!columns.includes(name) || p.local.includes(name)) throw bad(`${field}: ${table} has no synced column ${JSON.stringify(name)}`, field);
    out[name] = fromWire(value, `${field}.${name}`);
  }
  p.key.forEach((c, i) => {
    if (out[c] !== key[i]) throw bad(`${field}.${c} does not match the change's key`, field);
  });
  return out;
}

/** The limits a caller gives, checked: positive integers. */
export function checkedLimits(limits: unknown): SyncLimits {
  if (limits === undefined) return DEFAULT_SYNC_LIMITS;
  const l = limits as Partial<SyncLimits> | null;
  if (typeof l !== 'object' || l === null) throw bad('limits must be an object', 'limits');
  for (const k of ['maxChanges', 'maxChangeBytes', 'maxFrameBytes'] as const) {
    if (!Number.isSafeInteger(l[k]) || (l[k] as number) < 1) throw bad(`limits.${k} must be a positive integer`, `limits.${k}`);
  }
  return { maxChanges: l.maxChanges!, maxChangeBytes: l.maxChangeBytes!, maxFrameBytes: l.maxFrameBytes! };
}

const DEVICE_ID = /^[A-Za-z0-9_-]{8,64}$/;

/** A device id as a device sends it: 8–64 letters, digits, "-" or "_". */
export function checkedDevice(device: unknown, field = 'device'): string {
  if (typeof device !== 'string' || !DEVICE_ID.test(device)) throw bad(`${field} must be 8–64 letters, digits, "-" or "_"`, field);
  return device;
}
