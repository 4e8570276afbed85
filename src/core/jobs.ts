import type { SqlDriver, SqlRow } from '../driver/port.js';
import { enumOr, num, numOrNull, str, strOrNull } from './rows.js';
import type { JobStateRecord, JobStatus } from './types.js';
import * as v from './validate.js';

/** The `jobs` table: background job status and progress. */

export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];

const COLUMNS = 'id, name, status, progress, detail, created_at, updated_at';

/** Maps a `jobs` row; progress outside 0–255 reads as null and unknown status as queued, as in the seed. */
export function toJob(row: SqlRow): JobStateRecord {
  const progress = numOrNull(row['progress']);
  return {
    id: str(row['id']),
    name: str(row['name']),
    status: enumOr(row['status'], JOB_STATUSES, 'queued'),
    progress: progress !== null && Number.isInteger(progress) && progress >= 0 && progress <= 255 ? progress : null,
    detail: strOrNull(row['detail']),
    createdAt: num(row['created_at']),
    updatedAt: num(row['updated_at']),
  };
}

/** Validates upsertJob's argument. */
export function validateJob(input: unknown): JobStateRecord {
  const j = v.record(input, 'job');
  return {
    id: v.nonEmpty(j['id'], 'job.id'),
    name: v.text(j['name'], 'job.name'),
    status: v.oneOf(j['status'], 'job.status', JOB_STATUSES),
    progress: v.progress(j['progress'], 'job.progress'),
    detail: v.optionalText(j['detail'], 'job.detail'),
    createdAt: v.integer(j['createdAt'], 'job.createdAt'),
    updatedAt: v.integer(j['updatedAt'], 'job.updatedAt'),
  };
}

/**
 * Writes a job. Delete-then-insert gives the written row the newest rowid, so jobs updated within
 * the same second list in write order. The columns written are exactly the seed's upsert.
 */
export function upsertJobRow(db: SqlDriver, j: JobStateRecord): void {
  db.run('DELETE FROM jobs WHERE id = ?1', [j.id]);
  db.run(`INSERT INTO jobs(${COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)`, [
    j.id, j.name, j.status, j.progress, j.detail, j.createdAt, j.updatedAt,
  ]);
}

/** One job, or null. */
export function getJobRow(db: SqlDriver, id: string): JobStateRecord | null {
  const row = db.all(`SELECT ${COLUMNS} FROM jobs WHERE id = ?1`, [id])[0];
  return row ? toJob(row) : null;
}

/** Jobs by most recent update, ties to the last written. */
export function listJobRows(db: SqlDriver, limit: number): JobStateRecord[] {
  return db.all(`SELECT ${COLUMNS} FROM jobs ORDER BY updated_at DESC, rowid DESC LIMIT ?1`, [limit]).map(toJob);
}

/** Deletes a job; a missing one is a no-op. */
export function deleteJobRow(db: SqlDriver, id: string): void {
  db.run('DELETE FROM jobs WHERE id = ?1', [id]);
}
