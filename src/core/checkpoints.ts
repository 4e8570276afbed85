import type { SqlDriver, SqlRow } from '../driver/port.js';
import { num, str } from './rows.js';
import type { CheckpointRecord } from './types.js';
import { parseStoredJson } from './validate.js';

/** The `checkpoints` table: named JSON snapshots per thread. */

const COLUMNS = 'thread_id, checkpoint_id, state_json, created_at';

/** Maps a `checkpoints` row; unreadable state reads as null, as in the seed. */
export function toCheckpoint(row: SqlRow): CheckpointRecord {
  return {
    threadId: str(row['thread_id']),
    checkpointId: str(row['checkpoint_id']),
    state: parseStoredJson(row['state_json']),
    createdAt: num(row['created_at']),
  };
}

/**
 * Saves or overwrites a checkpoint. It is deleted and inserted again rather than updated in place, so
 * that its rowid is the newest: "latest" then means the last one written, even within one second,
 * where the seed's `ORDER BY created_at` alone picked arbitrarily.
 */
export function saveCheckpointRow(db: SqlDriver, threadId: string, checkpointId: string, stateJson: string, now: number): void {
  db.run('DELETE FROM checkpoints WHERE thread_id = ?1 AND checkpoint_id = ?2', [threadId, checkpointId]);
  db.run(`INSERT INTO checkpoints(${COLUMNS}) VALUES (?1, ?2, ?3, ?4)`, [threadId, checkpointId, stateJson, now]);
}

/** One checkpoint by id, or the latest when `checkpointId` is null. */
export function loadCheckpointRow(db: SqlDriver, threadId: string, checkpointId: string | null): CheckpointRecord | null {
  const row =
    checkpointId === null
      ? db.all(`SELECT ${COLUMNS} FROM checkpoints WHERE thread_id = ?1 ORDER BY created_at DESC, rowid DESC LIMIT 1`, [threadId])[0]
      : db.all(`SELECT ${COLUMNS} FROM checkpoints WHERE thread_id = ?1 AND checkpoint_id = ?2`, [threadId, checkpointId])[0];
  return row ? toCheckpoint(row) : null;
}

/** Checkpoints newest first. */
export function listCheckpointRows(db: SqlDriver, threadId: string, limit: number): CheckpointRecord[] {
  return db
    .all(`SELECT ${COLUMNS} FROM checkpoints WHERE thread_id = ?1 ORDER BY created_at DESC, rowid DESC LIMIT ?2`, [threadId, limit])
    .map(toCheckpoint);
}

/** Deletes one checkpoint; a missing one is a no-op. */
export function deleteCheckpointRow(db: SqlDriver, threadId: string, checkpointId: string): void {
  db.run('DELETE FROM checkpoints WHERE thread_id = ?1 AND checkpoint_id = ?2', [threadId, checkpointId]);
}
