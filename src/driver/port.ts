/**
 * The ports the core talks through. The core imports nothing else from below it, so the same
 * StateStore runs on sqlite-wasm in Node (in memory) and in the worker (on OPFS).
 */

/** A value SQLite can bind or return. BigInt appears only for integers beyond 2^53. */
export type SqlValue = string | number | bigint | Uint8Array | null;

/** A result row, keyed by column name. */
export type SqlRow = Record<string, SqlValue>;

/**
 * What an engine does differently from a plain SQLite connection. A driver without `capabilities`
 * is a plain connection: every field takes its first listed value.
 */
export interface DriverCapabilities {
  /** `pragma`: the core turns foreign keys on at open. `always`: they are always on and the pragma is refused. */
  readonly foreignKeys: 'pragma' | 'always';
  /** `full`: PRAGMA integrity_check. `quick`: only PRAGMA quick_check is allowed (no index-content check). */
  readonly integrityCheck: 'full' | 'quick';
  /** `vacuum`: VACUUM rebuilds the file. `automatic`: the engine gives freed space back by itself and refuses VACUUM. */
  readonly vacuum: 'vacuum' | 'automatic';
  /** The engine's SQLite version, or null when the engine refuses sqlite_version(). */
  readonly sqliteVersion: string | null;
}

/**
 * The subset of a synchronous SQLite connection that the store needs.
 * Values are always bound, never pasted into SQL.
 *
 * The optional members are for engines that refuse some statements (Cloudflare Durable Objects
 * refuse BEGIN/SAVEPOINT and PRAGMA user_version): when present, the core uses them instead.
 */
export interface SqlDriver {
  /** How the engine differs from plain SQLite; absent for a plain connection. */
  readonly capabilities?: DriverCapabilities;
  /**
   * Runs `fn` in a transaction and returns its result: committed when it returns, rolled back when it
   * throws. Calls nest like savepoints (an inner throw undoes only the inner writes). When present,
   * the core uses it instead of BEGIN/SAVEPOINT statements.
   */
  transaction?<T>(fn: () => T): T;
  /** The schema version, where PRAGMA user_version is refused. Transactional like the database. */
  readSchemaVersion?(): number;
  /** Sets the schema version, where PRAGMA user_version is refused; rolls back with the transaction it runs in. */
  writeSchemaVersion?(version: number): void;
  /** The database's size in bytes, where the page-count pragmas are refused. */
  databaseSizeBytes?(): number;

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
  /**
   * A new, separate in-memory connection holding a copy of `bytes`: an import checks a file there and
   * reads its rows from it. It never shares anything with this connection.
   */
  openImage(bytes: Uint8Array): SqlDriver;
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
