import type { SqlDriver, SqlValue } from '../driver/port.js';
import { StoreError } from './errors.js';
import { num, str } from './rows.js';
import { databaseBytes } from './transfer.js';
import type { SessionIndex } from './session-index.js';
import type { PruneResult, VacuumOptions, VacuumResult } from './types.js';
import * as v from './validate.js';

/** Retention: deleting old threads whole, and giving the space back. */

function validatePrune(options: unknown) {
  const o = v.record(options, 'options');
  const olderThan = o['olderThan'] === undefined || o['olderThan'] === null ? null : v.integer(o['olderThan'], 'options.olderThan');
  const keepLatest = o['keepLatest'] === undefined || o['keepLatest'] === null ? null : v.integer(o['keepLatest'], 'options.keepLatest');
  if (keepLatest !== null && keepLatest < 0) {
    throw new StoreError('INVALID_ARGUMENT', `options.keepLatest must not be negative, got ${keepLatest}`, { details: { field: 'options.keepLatest' } });
  }
  // Without a criterion, "prune" would mean "delete everything": never by omission.
  if (olderThan === null && keepLatest === null) {
    throw new StoreError('INVALID_ARGUMENT', 'pruneThreads needs olderThan or keepLatest', { details: { field: 'options' } });
  }
  const archivedOnly = o['archivedOnly'] === undefined ? false : v.bool(o['archivedOnly'], 'options.archivedOnly');
  return { olderThan, keepLatest, archivedOnly };
}

/**
 * Deletes every thread in scope (all, or archived only) that meets each criterion given, with its
 * messages (and their search rows, through the triggers), checkpoints, tools and goal, then compacts
 * the session index without their entries. Run inside `atomically`.
 */
export function pruneThreadRows(db: SqlDriver, index: SessionIndex, options: unknown): PruneResult {
  const o = validatePrune(options);
  const params: SqlValue[] = [];
  const bind = (value: SqlValue): string => {
    params.push(value);
    return `?${params.length}`;
  };
  const scope = o.archivedOnly ? 'archived = 1' : '1';
  const where = [scope];
  if (o.olderThan !== null) where.push(`updated_at < ${bind(o.olderThan)}`);
  if (o.keepLatest !== null) {
    where.push(`id NOT IN (SELECT id FROM threads WHERE ${scope} ORDER BY updated_at DESC, id DESC LIMIT ${bind(o.keepLatest)})`);
  }
  const ids = db.all(`SELECT id FROM threads WHERE ${where.join(' AND ')} ORDER BY updated_at, id`, params).map((row) => str(row['id']));
  let deletedMessages = 0;
  for (const id of ids) {
    deletedMessages += num(db.all('SELECT count(*) AS n FROM messages WHERE thread_id = ?1', [id])[0]?.['n']);
    db.run('DELETE FROM threads WHERE id = ?1', [id]);
  }
  if (ids.length > 0) {
    const gone = new Set(ids);
    index.compact((threadId) => !gone.has(threadId));
  }
  return { deletedThreadIds: ids, deletedMessages };
}

/**
 * VACUUM, refused with QUOTA_EXCEEDED unless `availableBytes` leaves room for a second copy of the
 * database: VACUUM writes a new copy and journals the old one, so it can need about twice the size,
 * and running out of space halfway is worse than not starting.
 */
export function vacuumDatabase(db: SqlDriver, options: VacuumOptions | undefined): VacuumResult {
  const o = options === undefined ? {} : v.record(options, 'options');
  if (db.capabilities?.vacuum === 'automatic') {
    // The engine gives freed pages back by itself and refuses VACUUM: say so instead of pretending.
    if (o['availableBytes'] !== undefined && o['availableBytes'] !== null) v.integer(o['availableBytes'], 'options.availableBytes');
    if (db.inTransaction()) throw new StoreError('CONFLICT', 'vacuum cannot run inside a transaction');
    const bytes = databaseBytes(db);
    return { beforeBytes: bytes, afterBytes: bytes, automatic: true };
  }
  if (o['availableBytes'] === undefined || o['availableBytes'] === null) {
    throw new StoreError('INVALID_ARGUMENT', 'vacuum needs options.availableBytes, the free storage (the browser client supplies it)', {
      details: { field: 'options.availableBytes' },
    });
  }
  const available = v.integer(o['availableBytes'], 'options.availableBytes');
  if (db.inTransaction()) throw new StoreError('CONFLICT', 'vacuum cannot run inside a transaction');
  const beforeBytes = databaseBytes(db);
  const needed = 2 * beforeBytes;
  if (available < needed) {
    throw new StoreError(
      'QUOTA_EXCEEDED',
      `vacuum needs about ${needed} bytes free (twice the database's ${beforeBytes}), but only ${Math.max(0, available)} are available; free some space or prune first`,
      { details: { neededBytes: needed, availableBytes: available, databaseBytes: beforeBytes } },
    );
  }
  db.exec('VACUUM');
  return { beforeBytes, afterBytes: databaseBytes(db) };
}
