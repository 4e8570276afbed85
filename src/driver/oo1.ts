import type { SqlDriver, SqlRow, SqlValue } from './port.js';

/**
 * The parts of sqlite-wasm's oo1 API the adapter uses, typed structurally so that this file does
 * not import the engine: the worker and the Node store each hand in their own sqlite3 namespace.
 */
export interface Oo1Statement {
  readonly pointer: unknown;
  bind(values: readonly SqlValue[]): unknown;
  getColumnNames(target?: string[]): string[];
  step(): boolean;
  get(target: Record<string, unknown>): Record<string, unknown>;
  reset(alsoClearBinds?: boolean): unknown;
  finalize(): unknown;
}

/** The oo1 DB methods the adapter needs. */
export interface Oo1Database {
  readonly filename?: string;
  exec(sql: string): unknown;
  prepare(sql: string): Oo1Statement;
  changes(total?: boolean, sixtyFour?: boolean): number | bigint;
  close(): unknown;
  readonly pointer: unknown;
}

/** The engine functions the adapter needs beyond one connection. */
export interface Oo1Engine {
  oo1: { DB: new (filename: string, flags: string) => unknown };
  wasm: { allocFromTypedArray(bytes: Uint8Array): unknown; dealloc(pointer: unknown): void; heap8u(): Uint8Array; exports: ColumnExports };
  capi: {
    sqlite3_get_autocommit(db: never): number;
    sqlite3_js_db_export(db: never, schema?: string): Uint8Array<ArrayBuffer>;
    sqlite3_deserialize(db: never, schema: string, data: never, dbSize: number, bufferSize: number, flags: number): number;
    sqlite3_errmsg(db: never): string;
    SQLITE_DESERIALIZE_FREEONCLOSE: number;
    SQLITE_DESERIALIZE_RESIZEABLE: number;
  };
}

/** Adds detail to an engine error: the worker passes the last OPFS error, which SQLite reports only as "disk I/O error". */
export type IoErrorProbe = () => Error | undefined;

// Prepared statements are kept per SQL text; the store uses a few dozen distinct statements.
const MAX_CACHED_STATEMENTS = 128;
const SQLITE_OK = 0;
const SQLITE_IOERR = 10;
const SQLITE_FULL = 13;

class EngineError extends Error {
  override readonly name = 'SQLite3Error';
  constructor(
    message: string,
    readonly resultCode: number,
  ) {
    super(message);
  }
}

// Fundamental datatypes of sqlite3_column_type().
const SQLITE_INTEGER = 1;
const SQLITE_FLOAT = 2;
const SQLITE_TEXT = 3;
const SQLITE_BLOB = 4;

/** The raw C entry points a row read needs: plain wasm exports, called without oo1's per-call argument wrapping. */
interface ColumnExports {
  sqlite3_column_count(stmt: unknown): number;
  sqlite3_column_type(stmt: unknown, column: number): number;
  sqlite3_column_double(stmt: unknown, column: number): number;
  sqlite3_column_int64(stmt: unknown, column: number): bigint;
  sqlite3_column_text(stmt: unknown, column: number): number;
  sqlite3_column_blob(stmt: unknown, column: number): number;
  sqlite3_column_bytes(stmt: unknown, column: number): number;
}

/**
 * Reads the current row of a stepped statement straight from the wasm heap, one C call per value
 * (two for text and blobs), where oo1's `get({})` also decodes every column's name on every row:
 * that was most of a long read's time. Text is decoded with `ignoreBOM`, because a default
 * TextDecoder drops a leading U+FEFF (it takes it for a byte-order mark): every string reads back
 * exactly as it was written. sqlite3_column_text comes before sqlite3_column_bytes, so the length is
 * that of the UTF-8 form even in a UTF-16 database. Integers are Numbers, BigInt beyond 2^53.
 */
function columnReader(engine: Oo1Engine, stmt: Oo1Statement): (row: SqlRow) => SqlRow {
  const c = engine.wasm.exports;
  const p = stmt.pointer;
  const names = stmt.getColumnNames();
  const n = names.length;
  return (row) => {
    for (let i = 0; i < n; i++) {
      let value: SqlValue;
      switch (c.sqlite3_column_type(p, i)) {
        case SQLITE_INTEGER: {
          const d = c.sqlite3_column_double(p, i);
          // Exact up to 2^53; beyond, the double is rounded and no longer a safe integer.
          value = Number.isSafeInteger(d) ? d : c.sqlite3_column_int64(p, i);
          break;
        }
        case SQLITE_FLOAT:
          value = c.sqlite3_column_double(p, i);
          break;
        case SQLITE_TEXT: {
          const at = c.sqlite3_column_text(p, i);
          const length = c.sqlite3_column_bytes(p, i);
          value = length === 0 ? '' : utf8.decode(engine.wasm.heap8u().subarray(at, at + length));
          break;
        }
        case SQLITE_BLOB: {
          const at = c.sqlite3_column_blob(p, i);
          const length = c.sqlite3_column_bytes(p, i);
          value = engine.wasm.heap8u().slice(at, at + length);
          break;
        }
        default:
          value = null;
      }
      row[names[i]!] = value;
    }
    return row;
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** Loads a file image into an oo1 DB (its `main` schema). */
export function deserializeInto(engine: Oo1Engine, db: Oo1Database, bytes: Uint8Array): void {
  const { capi, wasm } = engine;
  const pointer = wasm.allocFromTypedArray(bytes);
  const rc = capi.sqlite3_deserialize(
    db.pointer as never,
    'main',
    pointer as never,
    bytes.byteLength,
    bytes.byteLength,
    capi.SQLITE_DESERIALIZE_FREEONCLOSE | capi.SQLITE_DESERIALIZE_RESIZEABLE,
  );
  if (rc !== SQLITE_OK) {
    wasm.dealloc(pointer);
    throw new EngineError(`the bytes could not be loaded as a database (result code ${rc})`, rc);
  }
}

/**
 * Adapts an oo1 DB to the SqlDriver port, caching prepared statements so that each operation
 * skips the SQL compiler after its first call.
 */
export function oo1Driver(engine: Oo1Engine, db: Oo1Database, ioError?: IoErrorProbe): SqlDriver {
  const cache = new Map<string, Oo1Statement>();

  function statement(sql: string): Oo1Statement {
    let stmt = cache.get(sql);
    if (stmt) {
      // Re-insert to keep the map in least-recently-used order.
      cache.delete(sql);
    } else {
      stmt = db.prepare(sql);
      if (cache.size >= MAX_CACHED_STATEMENTS) {
        const [oldest, old] = cache.entries().next().value as [string, Oo1Statement];
        cache.delete(oldest);
        old.finalize();
      }
    }
    cache.set(sql, stmt);
    return stmt;
  }

  /** Runs engine work, attaching the storage error behind a generic I/O failure. */
  function engineCall<T>(fn: () => T): T {
    // Forget a storage error left over from an earlier operation, so it is never pinned on this one.
    ioError?.();
    try {
      return fn();
    } catch (error) {
      const primary = ((error as { resultCode?: number }).resultCode ?? 0) & 0xff;
      const io = primary === SQLITE_IOERR || primary === SQLITE_FULL ? ioError?.() : undefined;
      if (io && error instanceof Error) error.message += ` (${io.name}: ${io.message})`;
      throw error;
    }
  }

  function withStatement<T>(sql: string, params: readonly SqlValue[] | undefined, use: (stmt: Oo1Statement) => T): T {
    return engineCall(() => {
      const stmt = statement(sql);
      try {
        if (params && params.length > 0) stmt.bind(params);
        return use(stmt);
      } finally {
        stmt.reset(true);
      }
    });
  }

  function finalizeAll(): void {
    for (const stmt of cache.values()) stmt.finalize();
    cache.clear();
  }

  const driver: SqlDriver & { readonly db: Oo1Database } = {
    db,
    exec(sql) {
      engineCall(() => db.exec(sql));
    },
    all(sql, params) {
      return withStatement(sql, params, (stmt) => {
        const rows: SqlRow[] = [];
        let read: ((row: SqlRow) => SqlRow) | undefined;
        while (stmt.step()) {
          read ??= columnReader(engine, stmt);
          rows.push(read({}));
        }
        return rows;
      });
    },
    run(sql, params) {
      return withStatement(sql, params, (stmt) => {
        while (stmt.step());
        return { changes: Number(db.changes()) };
      });
    },
    totalChanges() {
      return Number(db.changes(true));
    },
    inTransaction() {
      return engine.capi.sqlite3_get_autocommit(db.pointer as never) === 0;
    },
    close() {
      finalizeAll();
      db.close();
    },
    serialize() {
      const bytes = engineCall(() => engine.capi.sqlite3_js_db_export(db.pointer as never, 'main'));
      // The image holds every committed page (WAL frames included), so it needs no WAL file: mark it
      // as a rollback-journal database (header bytes 18-19), which every reader, and deserialize, opens.
      if (bytes.byteLength > 19 && bytes[18] === 2) {
        bytes[18] = 1;
        bytes[19] = 1;
      }
      return bytes;
    },
    openImage(bytes) {
      const image = new engine.oo1.DB(':memory:', 'c') as Oo1Database;
      try {
        deserializeInto(engine, image, bytes);
      } catch (error) {
        image.close();
        throw error;
      }
      return oo1Driver(engine, image);
    },
  };

  return driver;
}
