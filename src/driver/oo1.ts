import type { SqlDriver, SqlRow, SqlValue } from './port.js';

/**
 * The parts of sqlite-wasm's oo1 API the adapter uses, typed structurally so that this file does
 * not import the engine: the worker and the Node store each hand in their own `oo1.DB`.
 */
export interface Oo1Statement {
  bind(values: readonly SqlValue[]): unknown;
  step(): boolean;
  get(target: Record<string, unknown>): Record<string, unknown>;
  reset(alsoClearBinds?: boolean): unknown;
  clearBindings(): unknown;
  finalize(): unknown;
  readonly parameterCount: number;
}

/** The oo1 DB methods the adapter needs. */
export interface Oo1Database {
  exec(sql: string): unknown;
  prepare(sql: string): Oo1Statement;
  changes(total?: boolean, sixtyFour?: boolean): number | bigint;
  close(): unknown;
  readonly pointer: unknown;
}

/** Reads sqlite3_get_autocommit for the DB; the caller binds it to its own sqlite3 namespace. */
export type AutocommitProbe = (db: Oo1Database) => boolean;

// Prepared statements are kept per SQL text; the store uses a few dozen distinct statements.
const MAX_CACHED_STATEMENTS = 128;

/**
 * Adapts an oo1 DB to the SqlDriver port, caching prepared statements so that each operation
 * skips the SQL compiler after its first call.
 */
export function oo1Driver(db: Oo1Database, isAutocommit: AutocommitProbe): SqlDriver {
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

  function withStatement<T>(sql: string, params: readonly SqlValue[] | undefined, use: (stmt: Oo1Statement) => T): T {
    const stmt = statement(sql);
    try {
      if (params && params.length > 0) stmt.bind(params);
      return use(stmt);
    } finally {
      stmt.reset(true);
    }
  }

  return {
    exec(sql) {
      db.exec(sql);
    },
    all(sql, params) {
      return withStatement(sql, params, (stmt) => {
        const rows: SqlRow[] = [];
        while (stmt.step()) rows.push(stmt.get({}) as SqlRow);
        return rows;
      });
    },
    run(sql, params) {
      return withStatement(sql, params, (stmt) => {
        while (stmt.step());
        return { changes: Number(db.changes()) };
      });
    },
    inTransaction() {
      return !isAutocommit(db);
    },
    close() {
      for (const stmt of cache.values()) stmt.finalize();
      cache.clear();
      db.close();
    },
  };
}
