import { StoreError } from '../core/errors.js';
import type { DriverCapabilities, SqlDriver, SqlRow, SqlValue, TextFile } from '../driver/port.js';
import { edgeImageOps } from './image.js';

/**
 * The SqlDriver and TextFile ports on a Durable Object's storage: `ctx.storage.sql` for the database,
 * `ctx.storage.transactionSync` for transactions (they nest like savepoints), and the object's
 * synchronous KV storage for the schema version and the session index. Everything is synchronous
 * and in one SQLite database, so a call's rows, its session-index lines and a migration's version
 * commit or roll back together.
 */

/** What a Durable Object's SQLite refuses, and what the core does instead (see DriverCapabilities). */
export const EDGE_CAPABILITIES: DriverCapabilities = {
  foreignKeys: 'always',
  integrityCheck: 'quick',
  vacuum: 'automatic',
  sqliteVersion: null,
};

/** The KV key of the schema version (PRAGMA user_version is refused on the edge). */
export const SCHEMA_VERSION_KEY = 'agent-state-store:user_version';

/** Binds a value as the engine takes it: it refuses BigInt, so a safe one goes as a number and a larger one is refused. */
function bindable(value: SqlValue): string | number | ArrayBuffer | null {
  if (typeof value === 'bigint') {
    if (value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
    throw new StoreError('INVALID_ARGUMENT', `the integer ${value} is beyond 2^53, which a Durable Object's SQLite cannot bind`);
  }
  if (value instanceof Uint8Array) return value.slice().buffer;
  return value;
}

/** Returns blobs as Uint8Array, as sqlite-wasm does (the engine hands out ArrayBuffers). */
function rowOf(raw: Record<string, SqlStorageValue>): SqlRow {
  const row: SqlRow = {};
  for (const [key, value] of Object.entries(raw)) row[key] = value instanceof ArrayBuffer ? new Uint8Array(value) : value;
  return row;
}

/** A SqlDriver on a Durable Object's `ctx.storage`. */
export function durableObjectDriver(storage: DurableObjectStorage): SqlDriver & { readonly capabilities: DriverCapabilities } {
  const sql = storage.sql;
  let depth = 0;
  let closed = false;
  const open = (): SqlStorage => {
    if (closed) throw new StoreError('CLOSED', 'the database is closed');
    return sql;
  };
  const exec = (query: string, params: readonly SqlValue[] = []) => open().exec(query, ...params.map(bindable));
  const driver: SqlDriver & { readonly capabilities: DriverCapabilities } = {
    capabilities: EDGE_CAPABILITIES,
    exec(query) {
      exec(query).toArray();
    },
    all(query, params) {
      return exec(query, params).toArray().map(rowOf);
    },
    run(query, params) {
      exec(query, params).toArray();
      return { changes: Number(open().exec('SELECT changes() AS n').one()['n']) };
    },
    totalChanges() {
      return Number(open().exec('SELECT total_changes() AS n').one()['n']);
    },
    inTransaction() {
      return depth > 0;
    },
    transaction(fn) {
      open();
      depth++;
      try {
        return storage.transactionSync(fn);
      } finally {
        depth--;
      }
    },
    readSchemaVersion() {
      open();
      const value = storage.kv.get(SCHEMA_VERSION_KEY);
      return typeof value === 'number' ? value : 0;
    },
    writeSchemaVersion(version) {
      open();
      storage.kv.put(SCHEMA_VERSION_KEY, version);
    },
    databaseSizeBytes() {
      return open().databaseSize;
    },
    close() {
      closed = true;
    },
    // Whole files go through an in-memory sqlite-wasm copy (./image.ts): the engine has no serialize or backup API.
    serialize: () => files.serialize(),
    openImage: (bytes) => files.openImage(bytes),
  };
  const files = edgeImageOps({
    db: driver,
    readSchemaVersion: () => driver.readSchemaVersion!(),
    writeSchemaVersion: (version) => driver.writeSchemaVersion!(version),
    transaction: (fn) => driver.transaction!(fn),
  });
  return driver;
}

/**
 * A Durable Object's KV storage holds at most 2 MiB per value (SQLite-backed objects); the session
 * index is kept in chunks well under that, keyed `<prefix>:<n>`, with the chunk count at `<prefix>`.
 */
export const CHUNK_CHARS = 256 * 1024;

/**
 * The session index as a TextFile in the object's synchronous KV storage. Its writes join the
 * transaction they run in, so a call that fails leaves no line of its own behind.
 */
export function durableObjectTextFile(kv: SyncKvStorage, prefix = 'agent-state-store:session-index'): TextFile {
  const countKey = prefix;
  const chunkKey = (n: number) => `${prefix}:${n}`;
  const count = (): number => {
    const value = kv.get(countKey);
    return typeof value === 'number' ? value : 0;
  };
  const chunk = (n: number): string => {
    const value = kv.get(chunkKey(n));
    return typeof value === 'string' ? value : '';
  };
  const writeFrom = (first: number, text: string): void => {
    const old = count();
    let n = first;
    for (let at = 0; at < text.length; at += CHUNK_CHARS) kv.put(chunkKey(n++), text.slice(at, at + CHUNK_CHARS));
    for (let gone = n; gone < old; gone++) kv.delete(chunkKey(gone));
    kv.put(countKey, n);
  };
  return {
    read() {
      let text = '';
      for (let n = 0, total = count(); n < total; n++) text += chunk(n);
      return text;
    },
    append(text) {
      if (text === '') return;
      const total = count();
      const last = total === 0 ? '' : chunk(total - 1);
      // Fill the last chunk up, then start new ones.
      if (last.length + text.length <= CHUNK_CHARS) {
        kv.put(chunkKey(Math.max(total - 1, 0)), last + text);
        if (total === 0) kv.put(countKey, 1);
        return;
      }
      writeFrom(Math.max(total - 1, 0), last + text);
    },
    replace(text) {
      writeFrom(0, text);
    },
  };
}
