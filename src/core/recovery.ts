import type { SqlDriver } from '../driver/port.js';

/**
 * The start-up sweep of seed 003: a job left queued or running by a session that is gone will never
 * finish, so it is marked failed with a detail that says so. Only run it when no other tab is alive.
 * Jobs in `except` are left alone (a synced store passes those another device runs). Returns how many
 * jobs it marked.
 */
export function failInterruptedJobs(db: SqlDriver, now: number, except: readonly string[] = []): number {
  return db.run(
    `UPDATE jobs SET status = 'failed', detail = 'interrupted: the app closed while the job was ' || status, updated_at = MAX(updated_at, ?1)
     WHERE status IN ('queued', 'running') AND id NOT IN (SELECT value FROM json_each(?2))`,
    [now, JSON.stringify(except)],
  ).changes;
}

/**
 * Whether the start-up sweep has anything to do: a job still queued or running, or a message still
 * streaming. One read, so that the common start (nothing was interrupted) writes no transaction.
 */
export function hasInterruptedWork(db: SqlDriver): boolean {
  const row = db.all(
    `SELECT EXISTS (SELECT 1 FROM jobs WHERE status IN ('queued', 'running'))
         OR EXISTS (SELECT 1 FROM message_status WHERE status = 'streaming') AS found`,
  )[0];
  return Number(row?.['found'] ?? 0) === 1;
}
