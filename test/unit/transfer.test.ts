import { describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION, StoreError, createMemoryStore } from '../../src/core.js';
import type { ImportProgress, MemoryStore, StateStore, ThreadInput } from '../../src/core.js';
import {
  WORKFLOW_TABLES,
  buildLegacyV0,
  buildNewerThanKnown,
  buildV1,
  buildV2,
  buildV3,
  exportImage,
  legacyRows,
  openImage,
  v3Rows,
  versionedRows,
} from '../fixtures/build-fixtures.js';
import type { FixtureRows } from '../fixtures/build-fixtures.js';

/**
 * Whole-store export and import (StateStore.exportDatabase / importDatabase / integrityCheck) on the
 * real sqlite-wasm engine in Node: a round trip keeps every record, a bad file is refused with the
 * live data untouched (down to the byte), and files of every older schema version are migrated.
 */

// --- a store with one of everything -------------------------------------------------------------

const CLOCK = 1_700_000_000;

function thread(id: string, over: Partial<ThreadInput> = {}): ThreadInput {
  return { id, preview: `preview ${id}`, ephemeral: false, modelProvider: 'openai', createdAt: 100, updatedAt: 100, status: 'idle', cwd: '/work', cliVersion: '1.2.3', source: 'api', ...over };
}

/** Fills a store with threads (one archived, one unnamed, one empty), a branching tree, checkpoints, jobs, tools, a goal and index-only names. */
function populate(store: StateStore): void {
  store.upsertThread(
    thread('alpha', {
      rolloutPath: '/rollouts/alpha.jsonl',
      name: 'Alpha project',
      path: '/sessions/alpha',
      sandboxPolicy: 'workspace-write',
      approvalMode: 'on-request',
      gitSha: 'abc123',
      gitBranch: 'main',
      gitOriginUrl: 'https://example.com/alpha.git',
      status: 'running',
      updatedAt: 300,
      source: 'interactive',
    }),
  );
  store.upsertThread(thread('beta', { name: 'Beta', ephemeral: true, updatedAt: 200, modelProvider: 'anthropic' }));
  store.upsertThread(thread('gamma', { updatedAt: 250, source: 'resume' }));
  store.upsertThread(thread('empty', { updatedAt: 50, status: 'paused', name: 'Nothing here' }));

  const a1 = store.appendMessage('alpha', 'user', 'Plan the release', { type: 'message', role: 'user' });
  const a2 = store.appendMessage('alpha', 'assistant', 'Here is a plan', { type: 'message', content: [{ text: 'plan' }] });
  store.appendMessage('alpha', 'user', 'Ship it on Friday');
  store.forkAtMessage(a2, 'user', 'Ship it on Monday instead', { edited: true });
  // Back on the first branch: the current leaf is not the newest message.
  store.setCurrentLeafId('alpha', a1 + 2);
  store.appendMessage('beta', 'user', 'été ☀️ 漢字 😀 — unicode survives');
  store.appendMessage('beta', 'tool', 'tool output', { type: 'function_call_output', call_id: 'c1' });
  store.appendMessage('gamma', 'user', 'An untitled thread gets named by its first user message');

  store.saveCheckpoint('alpha', 'cp-1', { step: 1 });
  store.saveCheckpoint('alpha', 'cp-2', { step: 2, plan: ['a', 'b'], done: false });
  store.saveCheckpoint('beta', 'only', [1, 2, 3]);
  store.upsertJob({ id: 'job-1', name: 'index', status: 'queued', progress: null, detail: null, createdAt: 10, updatedAt: 10 });
  store.upsertJob({ id: 'job-2', name: 'embed', status: 'running', progress: 40, detail: 'halfway', createdAt: 11, updatedAt: 12 });
  store.persistDynamicTools('alpha', [
    { position: 0, name: 'search', description: 'Web search', inputSchema: { type: 'object', properties: { q: { type: 'string' } } } },
    { position: 1, name: 'calc', description: null, inputSchema: { type: 'object' } },
  ]);
  store.upsertThreadGoal({ threadId: 'alpha', goalId: 'g-1', objective: 'Ship the port', status: 'active', tokenBudget: 5000, tokensUsed: 10, timeUsedSeconds: 5, continuationCount: 0, createdAt: 100, updatedAt: 101 });
  store.recordThreadGoalUsage('alpha', 90, 7, 150);
  store.recordThreadGoalContinuation('alpha', 160);
  store.setThreadMemoryMode('beta', 'enabled');
  store.markArchived('beta');
  // A name only the session index knows: it tells a given index from one rebuilt from the threads.
  store.appendThreadName('alpha', 'Alpha (renamed in the index)', 400, '/rollouts/alpha.jsonl');
}

const IDS = ['alpha', 'beta', 'gamma', 'empty'];

/** Everything the API reads back, per thread and store-wide. */
function snapshot(store: StateStore, ids: readonly string[] = IDS) {
  const perThread = ids.map((id) => ({
    thread: store.getThread(id),
    branch: store.listMessages(id),
    leaves: store.listLeafMessages(id),
    checkpoints: store.listCheckpoints(id),
    latestCheckpoint: store.loadCheckpoint(id),
    tools: store.getDynamicTools(id),
    goal: store.getThreadGoal(id),
    memoryMode: store.getThreadMemoryMode(id),
    rolloutPath: store.findRolloutPathById(id),
  }));
  const names = store.findThreadNamesByIds([...ids]);
  return {
    threads: store.listThreads({ includeArchived: true, limit: 1000 }),
    perThread,
    jobs: store.listJobs(),
    names,
    pathsByName: Object.values(names).map((name) => (name === null ? null : store.findThreadPathByName(name))),
  };
}

type Row = Record<string, unknown>;

/** Every row of every table of a file image (FTS shadow tables included), read by a separate connection. */
async function dumpTables(bytes: Uint8Array): Promise<Record<string, string[]>> {
  const db = await openImage(bytes);
  try {
    // The search index's shadow tables are left out: an import rebuilds the index through the store's
    // own triggers, so its segments are laid out anew (searchMessages is compared instead).
    const tables = (db.selectObjects("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'message\\_fts\\_%' ESCAPE '\\' ORDER BY name") as Row[]).map((r) =>
      String(r['name']),
    );
    const out: Record<string, string[]> = {};
    for (const name of tables) {
      out[name] = (db.selectObjects(`SELECT * FROM "${name.replaceAll('"', '""')}"`) as Row[]).map((row) => JSON.stringify(row)).sort();
    }
    return out;
  } finally {
    db.close();
  }
}

async function populated(): Promise<MemoryStore> {
  const store = await createMemoryStore({ now: () => CLOCK });
  populate(store);
  return store;
}

/** A store with other data, which an import must replace entirely. */
async function otherStore(): Promise<MemoryStore> {
  const store = await createMemoryStore({ now: () => CLOCK + 1 });
  store.upsertThread(thread('other', { name: 'Other' }));
  store.appendMessage('other', 'user', 'to be replaced');
  store.upsertJob({ id: 'job-other', name: 'other', status: 'failed', progress: 1, detail: 'x', createdAt: 1, updatedAt: 1 });
  return store;
}

async function errorOf(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure, but the call succeeded');
}

async function expectStoreError(fn: () => unknown, code: string): Promise<StoreError> {
  const error = await errorOf(fn);
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code, (error as Error).message).toBe(code);
  return error as StoreError;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);
}

/**
 * Runs a refused import against a populated store and checks that nothing moved: the records read
 * back the same, the session index text is the same, and the database bytes are identical.
 */
async function expectRefusedUntouched(bytes: unknown, code: string): Promise<StoreError> {
  const target = await populated();
  const before = { records: snapshot(target), index: target.exportSessionIndex(), bytes: target.exportDatabase() };
  const error = await expectStoreError(() => target.importDatabase(bytes as Uint8Array), code);
  expect(snapshot(target)).toEqual(before.records);
  expect(target.exportSessionIndex()).toBe(before.index);
  expect(sameBytes(target.exportDatabase(), before.bytes), 'the database bytes changed').toBe(true);
  expect(target.integrityCheck()).toEqual({ ok: true, problems: [] });
  target.close();
  return error;
}

// --- round trip ----------------------------------------------------------------------------------

describe('export then import into another store', () => {
  it('keeps every record: threads, branches and current leaves, checkpoints, jobs, tools, goals, index lookups', async () => {
    const source = await populated();
    const expected = snapshot(source);
    // The fixture really has what the test claims to carry over.
    expect(expected.perThread[0]!.leaves.length).toBe(2);
    expect(expected.perThread[0]!.thread!.currentLeafId).not.toBe(Math.max(...expected.perThread[0]!.leaves.map((m) => m.id)));
    expect(expected.perThread[1]!.thread!.archived).toBe(true);
    expect(expected.perThread[2]!.thread!.name).not.toBeNull();
    expect(expected.perThread[0]!.goal!.continuationCount).toBe(1);

    const target = await otherStore();
    target.importDatabase(source.exportDatabase(), { sessionIndex: source.exportSessionIndex() });
    expect(snapshot(target)).toEqual(expected);
    expect(target.getThread('other')).toBeNull();
    expect(target.getJob('job-other')).toBeNull();
    expect(target.findThreadNameById('other')).toBeNull();
    expect(target.exportSessionIndex()).toBe(source.exportSessionIndex());
    source.close();
    target.close();
  });

  it('copies every row of every table, every message of every branch and the search index included', async () => {
    const source = await populated();
    const target = await otherStore();
    target.importDatabase(source.exportDatabase());
    const [got, want] = await Promise.all([dumpTables(target.exportDatabase()), dumpTables(source.exportDatabase())]);
    expect(Object.keys(got)).toEqual(Object.keys(want));
    expect(got).toEqual(want);
    expect(got['messages']!.length).toBe(7);
    source.close();
    target.close();
  });

  it('finds the imported messages with searchMessages, and none of the replaced ones', async () => {
    const source = await populated();
    const target = await otherStore();
    const store = target as unknown as { searchMessages?: (q: string) => Array<{ threadId: string; messageId: number }> };
    if (typeof store.searchMessages !== 'function') {
      // No search in this build: nothing to prove, but say so rather than pass silently.
      expect(typeof store.searchMessages).toBe('undefined');
      return;
    }
    expect(store.searchMessages('replaced').length).toBe(1);
    target.importDatabase(source.exportDatabase());
    expect(store.searchMessages('replaced')).toEqual([]);
    const hits = store.searchMessages('Monday');
    expect(hits.map((h) => h.threadId)).toEqual(['alpha']);
    source.close();
    target.close();
  });

  it('keeps working as a store after the import: appends go under the imported current leaf, with fresh ids', async () => {
    const source = await populated();
    const target = await otherStore();
    target.importDatabase(source.exportDatabase());
    const leaf = target.getThread('alpha')!.currentLeafId!;
    const maxId = Math.max(...IDS.flatMap((id) => target.listLeafMessages(id).map((m) => m.id)));
    const id = target.appendMessage('alpha', 'assistant', 'after the import');
    expect(id).toBeGreaterThan(maxId);
    expect(target.listMessages('alpha').at(-1)).toMatchObject({ id, parentEntryId: leaf });
    source.close();
    target.close();
  });

  it('reports the versions and the counts it imported', async () => {
    const source = await populated();
    const target = await otherStore();
    const result = target.importDatabase(source.exportDatabase());
    expect(result).toEqual({ fromVersion: LATEST_SCHEMA_VERSION, schemaVersion: LATEST_SCHEMA_VERSION, threads: 4, messages: 7, ignored: [], dropped: {} });
    source.close();
    target.close();
  });

  it('reports progress through validate, integrity, migrate, copy and index, ending with done', async () => {
    const source = await populated();
    const target = await otherStore();
    const seen: ImportProgress[] = [];
    target.importDatabase(source.exportDatabase(), { onProgress: (p) => seen.push({ ...p }) });
    const phases = seen.map((p) => p.phase).filter((phase, i, all) => i === 0 || all[i - 1] !== phase);
    expect(phases).toEqual(['validate', 'integrity', 'migrate', 'copy', 'index', 'done']);
    expect(seen.at(-1)).toEqual({ phase: 'done', fraction: 1 });
    for (const p of seen) expect(p.fraction >= 0 && p.fraction <= 1, `${p.phase} ${p.fraction}`).toBe(true);
    const copy = seen.filter((p) => p.phase === 'copy').map((p) => p.fraction);
    expect(copy.length).toBeGreaterThanOrEqual(2);
    copy.slice(1).forEach((f, i) => expect(f).toBeGreaterThanOrEqual(copy[i]!));
    expect(copy.at(-1)).toBe(1);
    source.close();
    target.close();
  });

  it('reports copy progress in several steps for a file of many pages', async () => {
    const source = await createMemoryStore({ now: () => CLOCK });
    source.upsertThread(thread('big', { name: 'Big' }));
    const text = 'x'.repeat(4000);
    for (let i = 0; i < 1200; i++) source.appendMessage('big', 'assistant', `${i} ${text}`);
    const target = await createMemoryStore();
    const copy: number[] = [];
    target.importDatabase(source.exportDatabase(), { onProgress: (p) => p.phase === 'copy' && copy.push(p.fraction) });
    // More than one backup step happened between 0 and 1, and the fraction never went back.
    expect(copy.filter((f) => f > 0 && f < 1).length).toBeGreaterThan(0);
    copy.slice(1).forEach((f, i) => expect(f).toBeGreaterThanOrEqual(copy[i]!));
    expect(copy.at(-1)).toBe(1);
    expect(target.listMessages('big', 2000).length).toBe(1200);
    source.close();
    target.close();
  });
});

describe('the session index of an import', () => {
  it('is the one given, when given: index-only names are kept', async () => {
    const source = await populated();
    const target = await otherStore();
    target.importDatabase(source.exportDatabase(), { sessionIndex: source.exportSessionIndex() });
    expect(target.findThreadNameById('alpha')).toBe('Alpha (renamed in the index)');
    expect(target.findThreadPathByName('alpha (RENAMED in the index)')).toBe('/rollouts/alpha.jsonl');
    source.close();
    target.close();
  });

  it('is rebuilt from the threads otherwise: every name is the thread\'s title', async () => {
    const source = await populated();
    const target = await otherStore();
    target.importDatabase(source.exportDatabase());
    const titles = Object.fromEntries(IDS.map((id) => [id, source.getThread(id)!.name]));
    expect(titles['gamma']).not.toBeNull();
    expect(target.findThreadNamesByIds(IDS)).toEqual(titles);
    expect(target.findThreadNameById('other')).toBeNull();
    expect(target.findThreadPathByName('Alpha project')).toBe('/rollouts/alpha.jsonl');
    expect(target.findThreadPathByName('Alpha (renamed in the index)')).toBeNull();
    // One line per thread, nothing else.
    expect(target.exportSessionIndex().trim().split('\n').length).toBe(IDS.length);
    source.close();
    target.close();
  });

  it('refuses a session index that is not text, before touching anything', async () => {
    const source = await populated();
    const error = await expectRefusedUntouchedWith(source.exportDatabase(), { sessionIndex: 42 });
    expect(error.details?.['field']).toBe('options.sessionIndex');
    source.close();
  });
});

async function expectRefusedUntouchedWith(bytes: Uint8Array, options: object): Promise<StoreError> {
  const target = await otherStore();
  const before = { bytes: target.exportDatabase(), index: target.exportSessionIndex() };
  const error = await expectStoreError(() => target.importDatabase(bytes, options as never), 'INVALID_ARGUMENT');
  expect(sameBytes(target.exportDatabase(), before.bytes)).toBe(true);
  expect(target.exportSessionIndex()).toBe(before.index);
  expect(target.listMessages('other').map((m) => m.content)).toEqual(['to be replaced']);
  target.close();
  return error;
}

// --- refusals --------------------------------------------------------------------------------------

/** A valid export of a populated store, and its page size from the header. */
async function goodFile(): Promise<{ bytes: Uint8Array; pageSize: number }> {
  const store = await populated();
  const bytes = store.exportDatabase();
  store.close();
  const raw = (bytes[16]! << 8) | bytes[17]!;
  return { bytes, pageSize: raw === 1 ? 65536 : raw };
}

describe('importDatabase refuses, leaving the current data untouched,', () => {
  it('anything that is not a Uint8Array', async () => {
    const { bytes } = await goodFile();
    for (const bad of [undefined, null, 'SQLite format 3', 42, Array.from(bytes), bytes.buffer, new DataView(bytes.buffer)]) {
      const error = await expectRefusedUntouched(bad, 'INVALID_ARGUMENT');
      expect(error.details?.['field']).toBe('bytes');
      expect(error.message).toMatch(/Uint8Array/);
    }
  });

  it('a file too short to hold a SQLite header', async () => {
    const { bytes } = await goodFile();
    for (const length of [0, 1, 16, 99]) {
      const error = await expectRefusedUntouched(bytes.slice(0, length), 'INVALID_ARGUMENT');
      expect(error.message).toMatch(/too short/);
    }
  });

  it('a file without the SQLite magic', async () => {
    const { bytes } = await goodFile();
    const wrong = bytes.slice();
    wrong.set(new TextEncoder().encode('PostgreSQL dump\u0000'), 0);
    expect((await expectRefusedUntouched(wrong, 'INVALID_ARGUMENT')).message).toMatch(/not a SQLite database file/);
    const text = new TextEncoder().encode('{"thread_id":"alpha","thread_name":"x","updated_at":1,"rollout_path":null}\n'.repeat(10));
    expect((await expectRefusedUntouched(text, 'INVALID_ARGUMENT')).message).toMatch(/not a SQLite database file/);
  });

  it('a truncated file, wherever it was cut', async () => {
    const { bytes, pageSize } = await goodFile();
    const cuts = [100, 101, pageSize - 1, pageSize, pageSize + 17, Math.floor(bytes.length / 2), bytes.length - pageSize, bytes.length - 1];
    expect(bytes.length).toBeGreaterThan(4 * pageSize);
    for (const cut of cuts) {
      const error = await expectRefusedUntouched(bytes.slice(0, cut), 'INVALID_ARGUMENT');
      expect(error.message, `cut at ${cut}`).toMatch(/truncated/);
      expect(error.details).toMatchObject({ field: 'bytes', actualBytes: cut, expectedBytes: bytes.length });
    }
  });

  it('a file with an impossible page size', async () => {
    const { bytes } = await goodFile();
    const wrong = bytes.slice();
    wrong[16] = 0x03;
    wrong[17] = 0x00; // 768: not a power of two
    expect((await expectRefusedUntouched(wrong, 'INVALID_ARGUMENT')).message).toMatch(/page size/);
  });

  it('a corrupted file, whichever b-tree page was damaged: PRAGMA integrity_check catches it', async () => {
    const { bytes, pageSize } = await goodFile();
    const db = await openImage(bytes);
    const roots = Object.fromEntries((db.selectObjects('SELECT name, rootpage FROM sqlite_master WHERE rootpage > 0') as Row[]).map((r) => [String(r['name']), Number(r['rootpage'])]));
    db.close();
    const pageStart = (page: number) => (page - 1) * pageSize;
    /** The offset of the cell content area of a b-tree page (bytes 5–6 of its header). */
    const cellContent = (page: number) => {
      const at = pageStart(page) + (page === 1 ? 100 : 0);
      return pageStart(page) + ((bytes[at + 5]! << 8) | bytes[at + 6]!);
    };
    const damages: Array<[string, (copy: Uint8Array) => void]> = [
      ['the threads table root gets an invalid page type', (c) => void (c[pageStart(roots['threads']!)] = 0x2a)],
      ['the messages table root claims 4000 cells', (c) => c.set([0x0f, 0xa0], pageStart(roots['messages']!) + 3)],
      [
        'the entries of an index on messages are overwritten',
        (c) => {
          const at = cellContent(roots['idx_messages_thread_created_at']!);
          for (let i = 4; i < 40; i++) c[at + i] = c[at + i]! ^ 0x5a;
        },
      ],
      ['the checkpoints table root points its first cell outside the page', (c) => c.set([0xff, 0xf0], pageStart(roots['checkpoints']!) + 8)],
      ['the jobs index root gets a table page type', (c) => void (c[pageStart(roots['idx_jobs_updated_at']!)] = 0x0d)],
    ];
    for (const [what, damage] of damages) {
      const copy = bytes.slice();
      damage(copy);
      expect(sameBytes(copy, bytes), what).toBe(false);
      const error = await expectRefusedUntouched(copy, 'INVALID_ARGUMENT');
      // The header is intact, so this is integrity_check's finding, not the header check's.
      expect(error.message, what).toMatch(/integrity_check/);
      expect(error.details?.['problems'], what).toBeGreaterThan(0);
    }
  });

  it('a file whose schema is newer than this code, with SCHEMA_TOO_NEW and both versions', async () => {
    const error = await expectRefusedUntouched(await buildNewerThanKnown(), 'SCHEMA_TOO_NEW');
    expect(error.details).toEqual({ databaseVersion: 99, supportedVersion: LATEST_SCHEMA_VERSION });
  });

  it('a one-version-newer export of our own store', async () => {
    const store = await populated();
    const db = await openImage(store.exportDatabase());
    db.exec(`PRAGMA user_version = ${LATEST_SCHEMA_VERSION + 1}`);
    const newer = await exportImage(db);
    db.close();
    store.close();
    const error = await expectRefusedUntouched(newer, 'SCHEMA_TOO_NEW');
    expect(error.details).toEqual({ databaseVersion: LATEST_SCHEMA_VERSION + 1, supportedVersion: LATEST_SCHEMA_VERSION });
  });

  it('a valid SQLite file that is not a conversation store', async () => {
    const db = await openImage();
    db.exec("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes(body) VALUES ('not a store');");
    const foreign = await exportImage(db);
    db.close();
    const error = await expectRefusedUntouched(foreign, 'INVALID_ARGUMENT');
    expect(error.message).toMatch(/not a conversation store/);
    expect(error.details?.['field']).toBe('bytes');
  });
});

// --- older schema versions ---------------------------------------------------------------------------

const OLDER: Array<{ name: string; version: number; build: () => Promise<Uint8Array>; rows: FixtureRows; workflow: boolean }> = [
  { name: 'legacy (version 0)', version: 0, build: buildLegacyV0, rows: legacyRows, workflow: false },
  { name: 'version 1', version: 1, build: buildV1, rows: versionedRows, workflow: false },
  { name: 'version 2', version: 2, build: buildV2, rows: versionedRows, workflow: true },
  { name: 'version 3', version: 3, build: buildV3, rows: v3Rows, workflow: true },
];

function fixtureIds(rows: FixtureRows): string[] {
  return rows.threads.map((t) => t.id);
}

describe.each(OLDER)('importing a $name file', (f) => {
  it('migrates it to the latest version and says where it came from', async () => {
    const target = await otherStore();
    const result = target.importDatabase(await f.build());
    expect(result).toEqual({ fromVersion: f.version, schemaVersion: LATEST_SCHEMA_VERSION, threads: f.rows.threads.length, messages: f.rows.messages.length, ignored: [], dropped: {} });
    const db = await openImage(target.exportDatabase());
    expect(Number(db.selectValue('PRAGMA user_version'))).toBe(LATEST_SCHEMA_VERSION);
    db.close();
    expect(target.integrityCheck()).toEqual({ ok: true, problems: [] });
    target.close();
  });

  it('reads exactly as the same file opened directly', async () => {
    const bytes = await f.build();
    const target = await otherStore();
    target.importDatabase(bytes);
    // The same session index on both sides: a direct open has none of its own to rebuild.
    const opened = await createMemoryStore({ bytes, sessionIndex: target.exportSessionIndex() });
    const ids = fixtureIds(f.rows);
    expect(snapshot(target, ids)).toEqual(snapshot(opened, ids));
    expect(target.getThread('other')).toBeNull();
    opened.close();
    target.close();
  });

  it('keeps its threads, messages, current leaves, checkpoints, jobs, tools and goals', async () => {
    const target = await otherStore();
    target.importDatabase(await f.build());
    expect(target.listThreads({ includeArchived: true, limit: 100 }).map((t) => t.id).sort()).toEqual(fixtureIds(f.rows).sort());
    for (const t of f.rows.threads) {
      const got = target.getThread(t.id)!;
      expect(got).toMatchObject({ name: t.title, rolloutPath: t.rollout_path, archived: t.archived !== 0, updatedAt: t.updated_at });
      const ids = f.rows.messages.filter((m) => m.thread_id === t.id).map((m) => m.id);
      // Versioned files keep the leaf they recorded; the legacy back-fill picks the highest id.
      const leaf = f.rows.leaves ? f.rows.leaves[t.id] : ids.length > 0 ? Math.max(...ids) : null;
      expect(got.currentLeafId, t.id).toBe(leaf ?? null);
      expect(target.listCheckpoints(t.id).map((c) => c.checkpointId).sort()).toEqual(f.rows.checkpoints.filter((c) => c.thread_id === t.id).map((c) => c.checkpoint_id).sort());
      expect(target.getDynamicTools(t.id).map((x) => x.name)).toEqual(f.rows.tools.filter((x) => x.thread_id === t.id).map((x) => x.name));
    }
    if (f.rows.parents) {
      const branch = target.listMessages('t-alpha');
      expect(branch.map((m) => m.id)).toEqual([1, 2, 4, 5]);
      expect(branch.map((m) => m.parentEntryId)).toEqual([null, 1, 2, 4]);
    }
    expect(target.listJobs().map((j) => j.id).sort()).toEqual(f.rows.jobs.map((j) => j.id).sort());
    for (const g of f.rows.goals ?? []) {
      expect(target.getThreadGoal(g.thread_id)).toMatchObject({ goalId: g.goal_id, objective: g.objective, tokensUsed: g.tokens_used, continuationCount: 0 });
    }
    target.close();
  });

  it('rebuilds the session index from its titles', async () => {
    const target = await otherStore();
    target.importDatabase(await f.build());
    expect(target.findThreadNamesByIds(fixtureIds(f.rows))).toEqual(Object.fromEntries(f.rows.threads.map((t) => [t.id, t.title])));
    expect(target.findThreadPathByName('alpha')).toBe('/rollouts/t-alpha.jsonl');
    target.close();
  });

  it('never reuses a deleted message id after the import', async () => {
    const target = await otherStore();
    target.importDatabase(await f.build());
    expect(target.appendMessage('t-delta', 'assistant', 'new')).toBe(f.rows.messageSequence + 1);
    target.close();
  });
});

describe.each(OLDER.filter((f) => f.workflow))('importing a $name file with workflow traces', (f) => {
  it('keeps the workflow trace rows the store has no API for', async () => {
    const target = await otherStore();
    target.importDatabase(await f.build());
    const dump = await dumpTables(target.exportDatabase());
    for (const table of WORKFLOW_TABLES) expect(dump[table]?.length, table).toBe(1);
    target.close();
  });
});

describe('integrityCheck', () => {
  it('is ok with no problems on a populated store, and after an import', async () => {
    const store = await populated();
    expect(store.integrityCheck()).toEqual({ ok: true, problems: [] });
    const target = await otherStore();
    target.importDatabase(store.exportDatabase());
    expect(target.integrityCheck()).toEqual({ ok: true, problems: [] });
    store.close();
    target.close();
  });
});
