/**
 * The ports the core talks through. The core imports nothing else from below it, so the same
 * StateStore runs on sqlite-wasm in Node (in memory) and in the worker (on OPFS).
 */

/** A value SQLite can bind or return. BigInt appears only for integers beyond 2^53. */
export type SqlValue = string | number | bigint | Uint8Array | null;

/** A result row, keyed by column name. */
export type SqlRow = Record<string, SqlValue>;

/**
 * The subset of a synchronous SQLite connection that the store needs.
 * Values are always bound, never pasted into SQL.
 */
export interface SqlDriver {
  /** Runs one or more statements that take no parameters. */
  exec(sql: string): void;
  /** Runs one statement and returns every row. */
  all(sql: string, params?: readonly SqlValue[]): SqlRow[];
  /** Runs one statement and returns how many rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): { changes: number };
  /** Rows inserted, updated or deleted on this connection since it opened (sqlite3_total_changes()). */
  totalChanges(): number;
  /** Whether a transaction is open on the connection (sqlite3_get_autocommit() == 0). */
  inTransaction(): boolean;
  /** Closes the connection; further calls fail. */
  close(): void;
  /** The main database as a SQLite file image. Needs no open transaction to be consistent. */
  serialize(): Uint8Array<ArrayBuffer>;
  /** A new, separate in-memory connection holding a copy of `bytes`, for validating an import. */
  openImage(bytes: Uint8Array): SqlDriver;
  /**
   * Replaces this main database with `source`'s, page for page, in one transaction (SQLite's backup
   * API): a crash leaves the old database, never a mix. No transaction may be open on this connection.
   */
  restoreFrom(source: SqlDriver, onProgress?: (copiedPages: number, totalPages: number) => void): void;
}

/**
 * A small text file that is read whole once and then only appended to. The session index sits on it.
 * Every method is synchronous so that the core never yields in the middle of an operation.
 */
export interface TextFile {
  /** The whole content, or "" when the file does not exist yet. */
  read(): string;
  /** Appends text and makes it durable before returning. */
  append(text: string): void;
  /** Replaces the whole content, atomically with respect to a crash. */
  replace(text: string): void;
}
