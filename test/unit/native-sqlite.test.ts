import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION, createMemoryStore } from '../../src/core.js';
import type { MemoryStore, StateStore, ThreadInput } from '../../src/core.js';
import { SEED_STEPS, v3Rows } from '../fixtures/build-fixtures.js';

/**
 * The file stays interchangeable with the Rust store: an exported database opens in native SQLite
 * (Debian's sqlite3 CLI, 3.40), passes its integrity check and takes the seed's own write statements;
 * and a database native SQLite built from the seed's DDL imports into the store.
 */

const SQLITE3 = '/usr/bin/sqlite3';
const work = mkdtempSync(join(tmpdir(), 'ass-native-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs `sql` through the native CLI on `file`; fails loudly when the CLI is not installed. */
function nativeSql(file: string, sql: string): string {
  if (!existsSync(SQLITE3)) {
    throw new Error(`native SQLite is missing: ${SQLITE3} does not exist. Install it with \`apt-get install sqlite3\` (these tests need the real CLI).`);
  }
  return execFileSync(SQLITE3, ['-bail', file], { input: sql, encoding: 'utf8' }).trim();
}

/**
 * A SQL literal for the CLI's `.parameter set`: the CLI splits its arguments on spaces, so the literal
 * goes inside double quotes, where it resolves backslash escapes.
 */
function literal(value: string | number | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return String(value);
  if (/[\n\r]/.test(value)) throw new Error('a .parameter value must fit on one line');
  const sql = `'${value.replaceAll("'", "''")}'`;
  return `"${sql.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** `.parameter` lines binding ?1, ?2, … to `values`, as rusqlite's params! would. */
function bind(values: Array<string | number | null>): string {
  return ['.parameter clear', ...values.map((v, i) => `.parameter set ?${i + 1} ${literal(v)}`)].join('\n');
}

let fileCount = 0;
function tempFile(bytes?: Uint8Array): string {
  const file = join(work, `db-${++fileCount}.sqlite`);
  if (bytes) writeFileSync(file, bytes);
  return file;
}

// The seed's statements, verbatim (seed 000: upsert_thread lines 578–607, append_message lines 1045, 1055–1057, 1063–1065).
const SEED_UPSERT_THREAD = `
            INSERT INTO threads (
                id, rollout_path, preview, ephemeral, model_provider, created_at, updated_at, status, path, cwd,
                cli_version, source, title, sandbox_policy, approval_mode, archived, archived_at,
                git_sha, git_branch, git_origin_url, memory_mode
            ) VALUES (
                ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,
                ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                ?18, ?19, ?20, ?21
            )
            ON CONFLICT(id) DO UPDATE SET
                rollout_path=excluded.rollout_path,
                preview=excluded.preview,
                ephemeral=excluded.ephemeral,
                model_provider=excluded.model_provider,
                created_at=excluded.created_at,
                updated_at=excluded.updated_at,
                status=excluded.status,
                path=excluded.path,
                cwd=excluded.cwd,
                cli_version=excluded.cli_version,
                source=excluded.source,
                title=excluded.title,
                sandbox_policy=excluded.sandbox_policy,
                approval_mode=excluded.approval_mode,
                archived=excluded.archived,
                archived_at=excluded.archived_at,
                git_sha=excluded.git_sha,
                git_branch=excluded.git_branch,
                git_origin_url=excluded.git_origin_url,
                memory_mode=excluded.memory_mode
            ;`;
const SEED_CURRENT_LEAF = 'SELECT current_leaf_id FROM threads WHERE id = ?1;';
const SEED_APPEND_INSERT = `
                INSERT INTO messages(thread_id, role, content, item_json, created_at, parent_entry_id)
                SELECT ?1, ?2, ?3, ?4, ?5, ?6
                RETURNING id
            ;`;
const SEED_SET_LEAF = `
            UPDATE threads
            SET current_leaf_id = ?1
            WHERE id = ?2;
            `;

/** The seed's upsert_thread parameters for a thread (21 columns, booleans as 0/1). */
function upsertParams(t: Required<Omit<ThreadInput, 'currentLeafId'>>): Array<string | number | null> {
  return [
    t.id, t.rolloutPath, t.preview, t.ephemeral ? 1 : 0, t.modelProvider, t.createdAt, t.updatedAt, t.status, t.path, t.cwd,
    t.cliVersion, t.source, t.name, t.sandboxPolicy, t.approvalMode, t.archived ? 1 : 0, t.archivedAt,
    t.gitSha, t.gitBranch, t.gitOriginUrl, t.memoryMode,
  ];
}

/**
 * The seed's append_message, run by native SQLite in one transaction: read the current leaf, insert
 * the message under it, move the leaf. Returns the new message id (what RETURNING printed).
 */
function nativeAppendMessage(file: string, threadId: string, role: string, content: string, itemJson: string | null, createdAt: number): number {
  const leaf = nativeSql(file, `${bind([threadId])}\n${SEED_CURRENT_LEAF}`);
  const out = nativeSql(
    file,
    [
      'PRAGMA foreign_keys = ON;',
      'BEGIN;',
      bind([threadId, role, content, itemJson, createdAt, leaf === '' ? null : Number(leaf)]),
      SEED_APPEND_INSERT,
      // The id RETURNING gave, bound as the seed binds next_leaf_id.
      '.parameter clear',
      '.parameter set ?1 last_insert_rowid()',
      `.parameter set ?2 ${literal(threadId)}`,
      SEED_SET_LEAF,
      'COMMIT;',
    ].join('\n'),
  );
  return Number(out);
}

function thread(id: string, over: Partial<ThreadInput> = {}): ThreadInput {
  return { id, preview: `preview ${id}`, ephemeral: false, modelProvider: 'openai', createdAt: 100, updatedAt: 100, status: 'idle', cwd: '/work', cliVersion: '1.2.3', source: 'api', ...over };
}

/** A store with a branching thread, a goal, a checkpoint, tools and a job. */
async function populated(): Promise<MemoryStore> {
  const store = await createMemoryStore({ now: () => 1_700_000_000 });
  store.upsertThread(thread('alpha', { name: 'Alpha', rolloutPath: '/rollouts/alpha.jsonl', updatedAt: 300 }));
  store.upsertThread(thread('beta', { name: 'Beta', updatedAt: 200 }));
  const first = store.appendMessage('alpha', 'user', 'first question');
  store.appendMessage('alpha', 'assistant', 'first answer');
  store.forkAtMessage(first, 'assistant', 'another answer');
  store.appendMessage('beta', 'user', 'hello beta');
  store.saveCheckpoint('alpha', 'cp', { step: 1 });
  store.persistDynamicTools('alpha', [{ position: 0, name: 'search', description: null, inputSchema: { type: 'object' } }]);
  store.upsertThreadGoal({ threadId: 'alpha', goalId: 'g', objective: 'o', status: 'active', tokenBudget: null, tokensUsed: 1, timeUsedSeconds: 2, continuationCount: 3, createdAt: 1, updatedAt: 2 });
  store.upsertJob({ id: 'job', name: 'n', status: 'running', progress: 5, detail: null, createdAt: 1, updatedAt: 1 });
  return store;
}

type Searchable = { searchMessages?: (query: string) => Array<{ threadId: string; messageId: number; role: string }> };

describe('native SQLite on an exported file', () => {
  it('has the CLI this suite needs', () => {
    expect(existsSync(SQLITE3), `${SQLITE3} is missing: install it with \`apt-get install sqlite3\``).toBe(true);
    expect(nativeSql(':memory:', 'SELECT sqlite_version();')).toMatch(/^3\.(4\d|[5-9]\d)\./);
  });

  it('opens it and PRAGMA integrity_check prints ok', async () => {
    const store = await populated();
    const file = tempFile(store.exportDatabase());
    expect(nativeSql(file, 'PRAGMA integrity_check;')).toBe('ok');
    expect(nativeSql(file, 'PRAGMA user_version;')).toBe(String(LATEST_SCHEMA_VERSION));
    expect(nativeSql(file, 'SELECT count(*) FROM messages;')).toBe('4');
    expect(nativeSql(file, "SELECT current_leaf_id FROM threads WHERE id = 'alpha';")).toBe(String(store.getThread('alpha')!.currentLeafId));
    store.close();
  });

  it('runs the seed\'s append_message, and the store reads the native message as the new leaf', async () => {
    const source = await populated();
    const leafBefore = source.getThread('alpha')!.currentLeafId!;
    const file = tempFile(source.exportDatabase());
    const content = "native zebrafish reply, it's in C:\\temp, \"quoted\"";
    const id = nativeAppendMessage(file, 'alpha', 'assistant', content, '{"type":"message","native":true}', 1_700_000_100);
    expect(id).toBeGreaterThan(leafBefore);
    expect(nativeSql(file, 'PRAGMA integrity_check;')).toBe('ok');
    const bytes = new Uint8Array(readFileSync(file));

    const opened = await createMemoryStore({ bytes });
    const imported = await createMemoryStore();
    imported.importDatabase(bytes);
    for (const store of [opened, imported]) {
      expect(store.getThread('alpha')!.currentLeafId).toBe(id);
      const branch = store.listMessages('alpha');
      expect(branch.at(-1)).toEqual({ id, threadId: 'alpha', role: 'assistant', content, item: { type: 'message', native: true }, createdAt: 1_700_000_100, parentEntryId: leafBefore });
      expect(branch.slice(0, -1)).toEqual(source.listMessages('alpha'));
      expect(store.listLeafMessages('alpha').map((m) => m.id)).toContain(id);
      expect(store.integrityCheck()).toEqual({ ok: true, problems: [] });
      // The store goes on from there: its next message is the child of the native one.
      const next = store.appendMessage('alpha', 'user', 'after native');
      expect(store.listMessages('alpha').at(-1)).toMatchObject({ id: next, parentEntryId: id });
    }
    source.close();
    opened.close();
    imported.close();
  });

  it('indexes the natively inserted message for searchMessages (the triggers run in native SQLite too)', async () => {
    const source = await populated();
    const file = tempFile(source.exportDatabase());
    const id = nativeAppendMessage(file, 'beta', 'user', 'a zebrafish swam by natively', null, 1_700_000_200);
    const bytes = new Uint8Array(readFileSync(file));
    const imported = await createMemoryStore();
    imported.importDatabase(bytes);
    const opened = await createMemoryStore({ bytes });
    for (const store of [imported, opened] as Array<StateStore & Searchable>) {
      if (typeof store.searchMessages !== 'function') {
        expect(store.searchMessages).toBeUndefined();
        continue;
      }
      expect(store.searchMessages('zebrafish').map((h) => [h.threadId, h.messageId, h.role])).toEqual([['beta', id, 'user']]);
    }
    // The native write kept the FTS index consistent with the table.
    expect(nativeSql(file, "INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1); SELECT 'fts ok';")).toBe('fts ok');
    source.close();
    imported.close();
    opened.close();
  });

  it('runs the seed\'s upsert_thread (insert and ON CONFLICT update), which the store then reads, leaves untouched', async () => {
    const source = await populated();
    const alpha = source.getThread('alpha')!;
    const file = tempFile(source.exportDatabase());
    const fresh = {
      ...thread('native', {}),
      rolloutPath: '/rollouts/native.jsonl', name: 'Made natively', path: null, sandboxPolicy: 'read-only', approvalMode: null,
      archived: false, archivedAt: null, gitSha: 'deadbeef', gitBranch: 'dev', gitOriginUrl: null, memoryMode: 'disabled', ephemeral: true,
    } as const;
    const { currentLeafId: _leaf, ...alphaFields } = alpha;
    const renamed = { ...alphaFields, name: 'Alpha, renamed natively', updatedAt: 999, status: 'completed' as const };
    nativeSql(file, ['PRAGMA foreign_keys = ON;', bind(upsertParams(fresh)), SEED_UPSERT_THREAD, bind(upsertParams(renamed)), SEED_UPSERT_THREAD].join('\n'));
    expect(nativeSql(file, 'PRAGMA integrity_check;')).toBe('ok');
    const bytes = new Uint8Array(readFileSync(file));

    const opened = await createMemoryStore({ bytes });
    const imported = await createMemoryStore();
    imported.importDatabase(bytes);
    for (const store of [opened, imported]) {
      expect(store.getThread('native')).toEqual({ ...fresh, currentLeafId: null });
      // ON CONFLICT updated the row but, as the seed promises, left current_leaf_id alone.
      expect(store.getThread('alpha')).toEqual({ ...renamed, currentLeafId: alpha.currentLeafId });
      expect(store.listMessages('alpha')).toEqual(source.listMessages('alpha'));
    }
    // The import rebuilt the session index from the natively written titles.
    expect(imported.findThreadNamesByIds(['native', 'alpha'])).toEqual({ native: 'Made natively', alpha: 'Alpha, renamed natively' });
    expect(imported.findThreadPathByName('made NATIVELY')).toBe('/rollouts/native.jsonl');
    source.close();
    opened.close();
    imported.close();
  });
  it('keeps LangGraph checkpoints readable, and deleting a thread natively deletes them too (the trigger runs on 3.40)', async () => {
    const source = await populated();
    for (const threadId of ['alpha', 'beta']) {
      source.putGraphCheckpoint({ threadId, checkpointId: 'c1', type: 'bytes', checkpoint: new Uint8Array([0, 255, 7]), metadata: { source: 'loop', step: 1 } });
      source.putGraphWrites({ threadId, checkpointId: 'c1', taskId: 'task' }, [{ idx: 0, channel: 'messages', type: 'json', value: new Uint8Array([1]) }]);
    }
    const file = tempFile(source.exportDatabase());
    expect(nativeSql(file, "SELECT hex(checkpoint), json_extract(metadata, '$.source') FROM graph_checkpoints WHERE thread_id = 'beta';")).toBe('00FF07|loop');
    nativeSql(file, "PRAGMA foreign_keys = ON; DELETE FROM threads WHERE id = 'alpha';");
    expect(nativeSql(file, 'PRAGMA integrity_check;')).toBe('ok');
    expect(nativeSql(file, "SELECT thread_id FROM graph_checkpoints UNION ALL SELECT thread_id FROM graph_checkpoint_writes;")).toBe('beta\nbeta');
    const opened = await createMemoryStore({ bytes: new Uint8Array(readFileSync(file)) });
    expect(opened.getGraphCheckpoint({ threadId: 'alpha' })).toBeNull();
    expect(opened.getGraphCheckpoint({ threadId: 'beta' })).toMatchObject({ checkpoint: new Uint8Array([0, 255, 7]), metadata: { source: 'loop', step: 1 }, writes: [{ taskId: 'task', value: new Uint8Array([1]) }] });
    source.close();
    opened.close();
  });
});

// --- a database native SQLite made from the seed's DDL --------------------------------------------

function sqlValue(value: string | number | null): string {
  if (value === null) return 'NULL';
  return typeof value === 'number' ? String(value) : `'${value.replaceAll("'", "''")}'`;
}

/** Literal INSERT statements for rows (native SQLite takes them as a script). */
function inserts(table: string, rows: readonly object[]): string {
  return rows
    .map((row) => `INSERT INTO ${table}(${Object.keys(row).join(', ')}) VALUES (${Object.values(row).map((v) => sqlValue(v as string | number | null)).join(', ')});`)
    .join('\n');
}

/** v3Rows written by native SQLite on the seed's schema (steps 1–4 run by the CLI): a version-4 file. */
function nativeSeedDatabase(): string {
  const file = tempFile();
  nativeSql(file, SEED_STEPS.join('\n'));
  const rows = v3Rows;
  nativeSql(
    file,
    [
      'BEGIN;',
      inserts('threads', rows.threads),
      inserts('messages', rows.messages),
      ...Object.entries(rows.parents!).map(([id, parent]) => `UPDATE messages SET parent_entry_id = ${sqlValue(parent)} WHERE id = ${Number(id)};`),
      ...Object.entries(rows.leaves!).map(([id, leaf]) => `UPDATE threads SET current_leaf_id = ${sqlValue(leaf)} WHERE id = ${sqlValue(id)};`),
      `UPDATE sqlite_sequence SET seq = ${rows.messageSequence} WHERE name = 'messages';`,
      inserts('checkpoints', rows.checkpoints),
      inserts('jobs', rows.jobs),
      inserts('thread_dynamic_tools', rows.tools),
      inserts('thread_goals', rows.goals!),
      'PRAGMA user_version = 4;',
      'COMMIT;',
    ].join('\n'),
  );
  return file;
}

describe('a database native SQLite built from the seed\'s DDL', () => {
  it('is at version 4 with the seed\'s tables', () => {
    const file = nativeSeedDatabase();
    expect(nativeSql(file, 'PRAGMA user_version;')).toBe('4');
    expect(nativeSql(file, "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('threads', 'messages', 'checkpoints', 'jobs', 'thread_dynamic_tools', 'thread_goals') ORDER BY name);")).toBe(
      'checkpoints,jobs,messages,thread_dynamic_tools,thread_goals,threads',
    );
  });

  it('imports into a store, migrated to the latest version, with every record', async () => {
    const bytes = new Uint8Array(readFileSync(nativeSeedDatabase()));
    const store = await createMemoryStore();
    store.upsertThread(thread('replaced'));
    const result = store.importDatabase(bytes);
    expect(result).toEqual({ fromVersion: 4, schemaVersion: LATEST_SCHEMA_VERSION, threads: v3Rows.threads.length, messages: v3Rows.messages.length, ignored: [], dropped: {} });
    expect(store.getThread('replaced')).toBeNull();
    expect(store.integrityCheck()).toEqual({ ok: true, problems: [] });

    for (const t of v3Rows.threads) {
      expect(store.getThread(t.id)).toEqual({
        id: t.id, rolloutPath: t.rollout_path, preview: t.preview, ephemeral: t.ephemeral !== 0, modelProvider: t.model_provider,
        createdAt: t.created_at, updatedAt: t.updated_at, status: t.status, path: t.path, cwd: t.cwd, cliVersion: t.cli_version,
        source: t.source, name: t.title, sandboxPolicy: t.sandbox_policy, approvalMode: t.approval_mode, archived: t.archived !== 0,
        archivedAt: t.archived_at, gitSha: t.git_sha, gitBranch: t.git_branch, gitOriginUrl: t.git_origin_url, memoryMode: t.memory_mode,
        currentLeafId: v3Rows.leaves![t.id] ?? null,
      });
    }
    const alpha = store.listMessages('t-alpha');
    expect(alpha.map((m) => [m.id, m.parentEntryId])).toEqual([[1, null], [2, 1], [4, 2], [5, 4]]);
    expect(alpha[1]).toMatchObject({ role: 'assistant', content: 'message 2 of t-alpha', item: { type: 'message' }, createdAt: 1001 });
    expect(store.listLeafMessages('t-alpha').map((m) => m.id)).toEqual([5, 7]);
    expect(store.loadCheckpoint('t-alpha')).toMatchObject({ checkpointId: 'cp-2', state: { step: 2, plan: ['a', 'b'], done: false } });
    expect(store.listJobs().map((j) => j.id)).toEqual(['job-3', 'job-2', 'job-1']);
    expect(store.getDynamicTools('t-alpha').map((t) => t.inputSchema)).toEqual([{ type: 'object', properties: { q: { type: 'string' } } }, { type: 'object' }]);
    expect(store.getThreadGoal('t-beta')).toMatchObject({ goalId: 'g-2', status: 'budget_limited', tokenBudget: null, continuationCount: 0 });
    expect(store.findThreadNamesByIds(['t-alpha', 't-gamma'])).toEqual({ 't-alpha': 'Alpha', 't-gamma': null });
    // AUTOINCREMENT state came along: deleted ids are not handed out again.
    expect(store.appendMessage('t-delta', 'assistant', 'next')).toBe(v3Rows.messageSequence + 1);
    const search = store as unknown as Searchable;
    if (typeof search.searchMessages === 'function') {
      // The search migration indexed the rows native SQLite wrote.
      expect(search.searchMessages('message 9 of').map((h) => h.messageId)).toEqual([9]);
    }
    store.close();
  });

  it('also opens directly as a store, reading the same as the import', async () => {
    const bytes = new Uint8Array(readFileSync(nativeSeedDatabase()));
    const opened = await createMemoryStore({ bytes });
    const imported = await createMemoryStore();
    imported.importDatabase(bytes);
    for (const t of v3Rows.threads) {
      expect(opened.getThread(t.id)).toEqual(imported.getThread(t.id));
      expect(opened.listMessages(t.id)).toEqual(imported.listMessages(t.id));
    }
    opened.close();
    imported.close();
  });

  it('comes back out of the store as a file native SQLite still accepts', async () => {
    const store = await createMemoryStore({ bytes: new Uint8Array(readFileSync(nativeSeedDatabase())) });
    const file = tempFile(store.exportDatabase());
    expect(nativeSql(file, 'PRAGMA integrity_check;')).toBe('ok');
    expect(nativeSql(file, "SELECT count(*) FROM messages WHERE thread_id = 't-alpha';")).toBe('5');
    store.close();
  });
});
