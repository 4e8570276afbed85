import type { SqlDriver } from '../driver/port.js';

/**
 * The start-up sweep of seed 003: a job left queued or running by a session that is gone will never
 * finish, so it is marked failed with a detail that says so. Only run it when no other tab is alive.
 * Returns how many jobs it marked.
 */
export function failInterruptedJobs(db: SqlDriver, now: number): number {
  return db.run(
    `UPDATE jobs SET status = 'failed', detail = 'interrupted: the app closed while the job was ' || status, updated_at = MAX(updated_at, ?1)
     WHERE status IN ('queued', 'running')`,
    [now],
  ).changes;
}
