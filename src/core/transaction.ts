import type { SqlDriver } from '../driver/port.js';

/**
 * Runs `fn` atomically. A SAVEPOINT opens a transaction when none is open and nests inside one
 * that is, so the same operation works alone and inside the worker's group commit, where each call
 * gets its own savepoint and one failing call rolls back only itself.
 */
export function atomically<T>(db: SqlDriver, fn: () => T): T {
  // An engine that refuses SAVEPOINT statements nests its own transactions the same way.
  if (db.transaction) return db.transaction(fn);
  const outermost = !db.inTransaction();
  db.exec('SAVEPOINT store_op');
  let result: T;
  try {
    result = fn();
  } catch (error) {
    // SQLite may already have rolled the whole transaction back (a full disk, say); then there is
    // no savepoint left to return to.
    if (db.inTransaction()) {
      try {
        db.exec('ROLLBACK TO store_op; RELEASE store_op');
      } catch {
        if (outermost && db.inTransaction()) db.exec('ROLLBACK');
      }
    }
    throw error;
  }
  try {
    db.exec('RELEASE store_op');
  } catch (error) {
    // A failed commit can leave the transaction open; end it so the connection stays usable.
    if (outermost && db.inTransaction()) db.exec('ROLLBACK');
    throw error;
  }
  return result;
}

/**
 * The transaction a host's group commit runs a batch of calls in: each call then takes its own
 * savepoint through `atomically`, and the batch commits once. Only for drivers that take BEGIN and
 * COMMIT statements; a host on a driver with `transaction()` runs each call (or batch) inside that.
 */
export const batch = {
  begin(db: SqlDriver): void {
    db.exec('BEGIN');
  },
  commit(db: SqlDriver): void {
    db.exec('COMMIT');
  },
  /** Rolls back what is left of the batch; a no-op when SQLite has already ended it. */
  rollback(db: SqlDriver): void {
    if (db.inTransaction()) db.exec('ROLLBACK');
  },
};
