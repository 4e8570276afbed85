import type { SqlDriver, SqlRow } from '../driver/port.js';
import { StoreError } from './errors.js';
import { enumOr, num, numOrNull, str, strOrNull } from './rows.js';
import type { SessionIndex } from './session-index.js';
import type { SessionSource, ThreadListFilters, ThreadMetadata, ThreadStatus } from './types.js';
import * as v from './validate.js';

/** The `threads` table: thread metadata, archival and memory mode. */

export const THREAD_STATUSES: readonly ThreadStatus[] = ['running', 'idle', 'completed', 'failed', 'paused', 'archived'];
export const SESSION_SOURCES: readonly SessionSource[] = ['interactive', 'resume', 'fork', 'api', 'unknown'];

export const THREAD_COLUMNS = `id, rollout_path, preview, ephemeral, model_provider, created_at, updated_at, status, path, cwd,
  cli_version, source, title, sandbox_policy, approval_mode, archived, archived_at,
  git_sha, git_branch, git_origin_url, memory_mode, current_leaf_id`;

/** Maps a `threads` row; unknown enum strings read as the seed reads them (idle, unknown). */
export function toThread(row: SqlRow): ThreadMetadata {
  return {
    id: str(row['id']),
    rolloutPath: strOrNull(row['rollout_path']),
    preview: str(row['preview']),
    ephemeral: num(row['ephemeral']) !== 0,
    modelProvider: str(row['model_provider']),
    createdAt: num(row['created_at']),
    updatedAt: num(row['updated_at']),
    status: enumOr(row['status'], THREAD_STATUSES, 'idle'),
    path: strOrNull(row['path']),
    cwd: str(row['cwd']),
    cliVersion: str(row['cli_version']),
    source: enumOr(row['source'], SESSION_SOURCES, 'unknown'),
    name: strOrNull(row['title']),
    sandboxPolicy: strOrNull(row['sandbox_policy']),
    approvalMode: strOrNull(row['approval_mode']),
    archived: num(row['archived']) !== 0,
    archivedAt: numOrNull(row['archived_at']),
    gitSha: strOrNull(row['git_sha']),
    gitBranch: strOrNull(row['git_branch']),
    gitOriginUrl: strOrNull(row['git_origin_url']),
    memoryMode: strOrNull(row['memory_mode']),
    currentLeafId: numOrNull(row['current_leaf_id']),
  };
}

/**
 * Validates upsertThread's argument into the full record (without currentLeafId, which it never
 * writes). `field` names the argument in errors (`thread.status`, `patch.status`).
 */
export function validateThread(input: unknown, field = 'thread'): Omit<ThreadMetadata, 'currentLeafId'> {
  const t = v.record(input, field);
  return {
    id: v.nonEmpty(t['id'], `${field}.id`),
    rolloutPath: v.optionalText(t['rolloutPath'], `${field}.rolloutPath`),
    preview: v.text(t['preview'], `${field}.preview`),
    ephemeral: v.bool(t['ephemeral'], `${field}.ephemeral`),
    modelProvider: v.text(t['modelProvider'], `${field}.modelProvider`),
    createdAt: v.integer(t['createdAt'], `${field}.createdAt`),
    updatedAt: v.integer(t['updatedAt'], `${field}.updatedAt`),
    status: v.oneOf(t['status'], `${field}.status`, THREAD_STATUSES),
    path: v.optionalText(t['path'], `${field}.path`),
    cwd: v.text(t['cwd'], `${field}.cwd`),
    cliVersion: v.text(t['cliVersion'], `${field}.cliVersion`),
    source: v.oneOf(t['source'], `${field}.source`, SESSION_SOURCES),
    name: v.optionalText(t['name'], `${field}.name`),
    sandboxPolicy: v.optionalText(t['sandboxPolicy'], `${field}.sandboxPolicy`),
    approvalMode: v.optionalText(t['approvalMode'], `${field}.approvalMode`),
    archived: t['archived'] === undefined ? false : v.bool(t['archived'], `${field}.archived`),
    archivedAt: v.optionalInteger(t['archivedAt'], `${field}.archivedAt`),
    gitSha: v.optionalText(t['gitSha'], `${field}.gitSha`),
    gitBranch: v.optionalText(t['gitBranch'], `${field}.gitBranch`),
    gitOriginUrl: v.optionalText(t['gitOriginUrl'], `${field}.gitOriginUrl`),
    memoryMode: v.optionalText(t['memoryMode'], `${field}.memoryMode`),
  };
}

/** Inserts or updates a thread; the seed's statement, which leaves current_leaf_id alone. */
export function upsertThreadRow(db: SqlDriver, t: Omit<ThreadMetadata, 'currentLeafId'>): void {
  db.run(
    `INSERT INTO threads (
       id, rollout_path, preview, ephemeral, model_provider, created_at, updated_at, status, path, cwd,
       cli_version, source, title, sandbox_policy, approval_mode, archived, archived_at,
       git_sha, git_branch, git_origin_url, memory_mode
     ) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)
     ON CONFLICT(id) DO UPDATE SET
       rollout_path=excluded.rollout_path, preview=excluded.preview, ephemeral=excluded.ephemeral,
       model_provider=excluded.model_provider, created_at=excluded.created_at, updated_at=excluded.updated_at,
       status=excluded.status, path=excluded.path, cwd=excluded.cwd, cli_version=excluded.cli_version,
       source=excluded.source, title=excluded.title, sandbox_policy=excluded.sandbox_policy,
       approval_mode=excluded.approval_mode, archived=excluded.archived, archived_at=excluded.archived_at,
       git_sha=excluded.git_sha, git_branch=excluded.git_branch, git_origin_url=excluded.git_origin_url,
       memory_mode=excluded.memory_mode`,
    [
      t.id, t.rolloutPath, t.preview, t.ephemeral ? 1 : 0, t.modelProvider, t.createdAt, t.updatedAt, t.status,
      t.path, t.cwd, t.cliVersion, t.source, t.name, t.sandboxPolicy, t.approvalMode, t.archived ? 1 : 0,
      t.archivedAt, t.gitSha, t.gitBranch, t.gitOriginUrl, t.memoryMode,
    ],
  );
}

/** Reads one thread, or null. */
export function getThreadRow(db: SqlDriver, id: string): ThreadMetadata | null {
  const row = db.all(`SELECT ${THREAD_COLUMNS} FROM threads WHERE id = ?1`, [id])[0];
  return row ? toThread(row) : null;
}

/** Threads by most recent update. Ties go to the thread inserted last (the seed leaves them unordered). */
export function listThreadRows(db: SqlDriver, filters: ThreadListFilters | undefined): ThreadMetadata[] {
  const f = filters === undefined ? {} : v.record(filters, 'filters');
  const includeArchived = f['includeArchived'] === undefined ? false : v.bool(f['includeArchived'], 'filters.includeArchived');
  const limit = v.limit(f['limit'], 'filters.limit', 50);
  const where = includeArchived ? '' : 'WHERE archived = 0';
  return db
    .all(`SELECT ${THREAD_COLUMNS} FROM threads ${where} ORDER BY updated_at DESC, rowid DESC LIMIT ?1`, [limit])
    .map(toThread);
}

/** Fails with NOT_FOUND unless the thread exists. */
export function requireThread(db: SqlDriver, id: string): void {
  if (db.all('SELECT 1 AS found FROM threads WHERE id = ?1', [id]).length === 0) {
    throw new StoreError('NOT_FOUND', `thread ${id} not found`, { details: { threadId: id } });
  }
}

/** Runs an UPDATE on one thread and fails with NOT_FOUND when it matched nothing. */
function updateThread(db: SqlDriver, id: string, sql: string, params: Parameters<SqlDriver['run']>[1]): void {
  if (db.run(sql, params).changes === 0) {
    throw new StoreError('NOT_FOUND', `thread ${id} not found`, { details: { threadId: id } });
  }
}

/** archived, archivedAt = now, status "archived"; NOT_FOUND when the thread does not exist. */
export function archiveThreadRow(db: SqlDriver, id: string, now: number): void {
  updateThread(db, id, "UPDATE threads SET archived = 1, archived_at = ?2, status = 'archived' WHERE id = ?1", [id, now]);
}

/** Clears the archive flags; a status left at "archived" becomes "idle". NOT_FOUND when the thread does not exist. */
export function unarchiveThreadRow(db: SqlDriver, id: string): void {
  updateThread(
    db,
    id,
    "UPDATE threads SET archived = 0, archived_at = NULL, status = CASE status WHEN 'archived' THEN 'idle' ELSE status END WHERE id = ?1",
    [id],
  );
}

/** Sets or clears memory_mode; NOT_FOUND when the thread does not exist. */
export function setMemoryModeRow(db: SqlDriver, id: string, mode: string | null): void {
  updateThread(db, id, 'UPDATE threads SET memory_mode = ?2 WHERE id = ?1', [id, mode]);
}

/** Deletes a thread; the foreign keys cascade to everything it owns. */
export function deleteThreadRow(db: SqlDriver, id: string): void {
  db.run('DELETE FROM threads WHERE id = ?1', [id]);
}

/** upsertThread: writes the row and appends the thread's name to the session index. */
export function saveThread(db: SqlDriver, index: SessionIndex, t: Omit<ThreadMetadata, 'currentLeafId'>): void {
  upsertThreadRow(db, t);
  index.append({ threadId: t.id, threadName: t.name, updatedAt: t.updatedAt, rolloutPath: t.rolloutPath });
}

/** Moves a thread's updatedAt forward to `now` (never back), so a "recent first" list reorders. */
export function touchThread(db: SqlDriver, id: string, now: number): void {
  db.run('UPDATE threads SET updated_at = MAX(updated_at, ?2) WHERE id = ?1', [id, now]);
}
