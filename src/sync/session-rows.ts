/**
 * The session index's entries as sync carries them: rows of `session_index` (key: the thread id),
 * synced whole, last writer wins. The index is a file, not a table, so these stand in for
 * readRow/checkedRow.
 */
import type { SessionIndex, SessionIndexEntry } from '../core/session-index.js';
import type { WireRow } from './protocol.js';
import { bad } from './values.js';

/** The entry of a thread as a wire row, or null when the index has none. */
export function sessionRow(index: SessionIndex, threadId: string): WireRow | null {
  const e = index.get(threadId);
  return e ? { thread_id: e.threadId, thread_name: e.threadName, updated_at: e.updatedAt, rollout_path: e.rolloutPath } : null;
}

/** A wire row checked as a session-index entry. */
export function sessionEntry(row: unknown, field: string): SessionIndexEntry {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) throw bad('a session_index row must be an object or null', field);
  const r = row as WireRow;
  const name = r['thread_name'];
  const path = r['rollout_path'];
  const updated = r['updated_at'];
  if (typeof r['thread_id'] !== 'string' || r['thread_id'] === '') throw bad('session_index.thread_id must be a non-empty string', `${field}.thread_id`);
  if (name !== null && typeof name !== 'string') throw bad('session_index.thread_name must be a string or null', `${field}.thread_name`);
  if (path !== null && path !== undefined && typeof path !== 'string') throw bad('session_index.rollout_path must be a string or null', `${field}.rollout_path`);
  if (typeof updated !== 'number' || !Number.isSafeInteger(updated)) throw bad('session_index.updated_at must be an integer', `${field}.updated_at`);
  return { threadId: r['thread_id'], threadName: name, updatedAt: updated, rolloutPath: (path ?? null) as string | null };
}

/** Whether the index already holds exactly this entry. */
export function sameEntry(a: SessionIndexEntry | undefined, b: SessionIndexEntry): boolean {
  return !!a && a.threadName === b.threadName && a.updatedAt === b.updatedAt && a.rolloutPath === b.rolloutPath;
}
