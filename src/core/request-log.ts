import type { SqlDriver } from '../driver/port.js';
import type { Migration } from './migrate.js';

/**
 * Exactly-once writes across a leader change. Every write from a page carries a request id that is
 * recorded, with its result, in the same transaction as the write. A write retried after the leader
 * that ran it died is answered from this log instead of being applied twice.
 */

/** Migration 7: the log table (additive; no seed table changes). */
export const requestLogMigration: Migration = {
  version: 7,
  name: 'applied request log',
  sql: `
CREATE TABLE IF NOT EXISTS applied_requests (
  request_id TEXT PRIMARY KEY NOT NULL,
  method TEXT NOT NULL,
  result_json TEXT,
  applied_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_applied_requests_applied_at ON applied_requests(applied_at);
`,
};

/** The recorded result of a request, or `undefined` when it was never applied. */
export function appliedResult(db: SqlDriver, requestId: string): { value: unknown } | undefined {
  const row = db.all('SELECT result_json FROM applied_requests WHERE request_id = ?1', [requestId])[0];
  if (!row) return undefined;
  const raw = row['result_json'];
  return { value: typeof raw === 'string' ? JSON.parse(raw) : null };
}

/** Records that a request was applied, with its result (which must be JSON: ids, counts, records). */
export function recordApplied(db: SqlDriver, requestId: string, method: string, result: unknown, now: number): void {
  db.run('INSERT INTO applied_requests(request_id, method, result_json, applied_at) VALUES (?1, ?2, ?3, ?4)', [
    requestId,
    method,
    result === undefined ? null : JSON.stringify(result),
    now,
  ]);
}

/** Forgets requests older than `olderThan` (seconds): a retry only ever comes within moments. */
export function pruneAppliedRequests(db: SqlDriver, olderThan: number): number {
  return db.run('DELETE FROM applied_requests WHERE applied_at < ?1', [olderThan]).changes;
}
