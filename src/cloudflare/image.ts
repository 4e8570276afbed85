import { StoreError } from '../core/errors.js';
import { imageOf } from '../driver/copy.js';
import type { SqlDriver } from '../driver/port.js';
import { loadedEdgeEngine, memoryDriver } from './engine.js';

/**
 * The whole-file half of the Durable Object driver (serialize, openImage). The object's SQLite has no
 * serialize API, so a file is built by copying the database into an in-memory sqlite-wasm one
 * (src/driver/copy.ts) and serializing that; an import is checked on an in-memory sqlite-wasm copy by
 * the core, as in the browser, and its rows are copied into the object's own tables (core/import-rows.ts).
 */

/** What the file operations need of the Durable Object driver besides SQL. */
export interface EdgeImageHost {
  /** The object's database. */
  db: SqlDriver;
  /** The schema version as the driver keeps it (outside PRAGMA user_version). */
  readSchemaVersion(): number;
  writeSchemaVersion(version: number): void;
  /** Runs fn in one transaction of the object's storage (transactionSync). */
  transaction<T>(fn: () => T): T;
}

/** The SqlDriver file operations of a Durable Object's database. */
export type EdgeImageOps = Pick<SqlDriver, 'serialize' | 'openImage'>;

function engine() {
  const sqlite3 = loadedEdgeEngine();
  if (!sqlite3) {
    throw new StoreError('STORAGE', 'the in-memory SQLite engine that builds and checks files is not loaded: await loadEdgeEngine() before exportDatabase or importDatabase');
  }
  return sqlite3;
}

/**
 * serialize and openImage for a Durable Object driver, over an in-memory sqlite-wasm
 * database (the engine must be loaded first, see loadEdgeEngine).
 */
export function edgeImageOps(host: EdgeImageHost): EdgeImageOps {
  return {
    serialize() {
      const image = memoryDriver(engine());
      try {
        // One transaction on the object's side too, so the file is one consistent state.
        return host.transaction(() => imageOf(host.db, image, host.readSchemaVersion()));
      } finally {
        image.close();
      }
    },
    openImage(bytes) {
      const empty = memoryDriver(engine());
      try {
        return empty.openImage(bytes);
      } finally {
        empty.close();
      }
    },
  };
}
