import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.js';
import { buildLegacyV0, buildNewerThanKnown, buildV1, buildV2, buildV3, exportImage, openImage } from '../fixtures/build-fixtures.js';
import type { StateStoreClient } from '../../src/index.js';

/**
 * Export and import through the browser client, on OPFS in Chromium: a round trip keeps every record,
 * files of every older schema version come in migrated, bad files are refused with the data intact,
 * progress reaches the page, and the exported bytes are a database native SQLite accepts.
 */

// --- helpers that run in the page (installed from their source: page.evaluate cannot close over them) ---

/** Fills a store: named, unnamed, archived and empty threads, a branching tree, checkpoints, jobs, tools, a goal. */
async function populate(store: StateStoreClient): Promise<void> {
  const thread = (id: string, over: object = {}) => ({ id, preview: `preview ${id}`, ephemeral: false, modelProvider: 'openai', createdAt: 100, updatedAt: 100, status: 'idle' as const, cwd: '/w', cliVersion: '1', source: 'api' as const, ...over });
  await store.upsertThread(thread('alpha', { name: 'Alpha', rolloutPath: '/rollouts/alpha.jsonl', gitSha: 'abc', sandboxPolicy: 'read-only', updatedAt: 300 }));
  await store.upsertThread(thread('beta', { name: 'Beta', ephemeral: true, updatedAt: 200 }));
  await store.upsertThread(thread('gamma', { updatedAt: 250 }));
  await store.upsertThread(thread('empty', { status: 'paused', updatedAt: 50 }));
  await store.appendMessage('alpha', 'user', 'Plan the release', { type: 'message' });
  const second = await store.appendMessage('alpha', 'assistant', 'Here is a plan');
  await store.appendMessage('alpha', 'user', 'Ship it Friday');
  await store.forkAtMessage(second, 'user', 'Ship it Monday', { edited: true });
  await store.setCurrentLeafId('alpha', second + 1);
  await store.appendMessage('beta', 'user', 'été ☀️ 漢字 😀');
  await store.appendMessage('gamma', 'user', 'An unnamed thread is named by this');
  await store.saveCheckpoint('alpha', 'cp-1', { step: 1 });
  await store.saveCheckpoint('alpha', 'cp-2', { step: 2, plan: ['a', 'b'] });
  await store.upsertJob({ id: 'job-1', name: 'index', status: 'queued', progress: null, detail: null, createdAt: 10, updatedAt: 10 });
  await store.upsertJob({ id: 'job-2', name: 'embed', status: 'running', progress: 40, detail: 'half', createdAt: 11, updatedAt: 12 });
  await store.persistDynamicTools('alpha', [{ position: 0, name: 'search', description: 'Web', inputSchema: { type: 'object' } }]);
  await store.upsertThreadGoal({ threadId: 'alpha', goalId: 'g', objective: 'Ship', status: 'active', tokenBudget: 100, tokensUsed: 1, timeUsedSeconds: 2, continuationCount: 0, createdAt: 1, updatedAt: 2 });
  await store.recordThreadGoalContinuation('alpha', 3);
  await store.setThreadMemoryMode('beta', 'enabled');
  await store.markArchived('beta');
}

/** Everything the API reads back for the given threads, and store-wide. */
async function snapshot(store: StateStoreClient, ids: string[]) {
  const perThread = [];
  for (const id of ids) {
    perThread.push({
      thread: await store.getThread(id),
      branch: await store.listMessages(id),
      leaves: await store.listLeafMessages(id),
      checkpoints: await store.listCheckpoints(id),
      tools: await store.getDynamicTools(id),
      goal: await store.getThreadGoal(id),
      memoryMode: await store.getThreadMemoryMode(id),
    });
  }
  return {
    threads: await store.listThreads({ includeArchived: true, limit: 1000 }),
    perThread,
    jobs: await store.listJobs(),
    names: await store.findThreadNamesByIds(ids),
  };
}

type PageHelpers = { populate: typeof populate; snapshot: typeof snapshot };
declare global {
  interface Window {
    transferHelpers: PageHelpers;
  }
}

async function installHelpers(page: Page): Promise<void> {
  await page.evaluate(`window.transferHelpers = { populate: ${populate.toString()}, snapshot: ${snapshot.toString()} };`);
}

const IDS = ['alpha', 'beta', 'gamma', 'empty'];

function nativeIntegrity(bytes: Uint8Array): string {
  const sqlite3 = '/usr/bin/sqlite3';
  if (!existsSync(sqlite3)) throw new Error(`${sqlite3} is missing: install it with \`apt-get install sqlite3\``);
  const dir = mkdtempSync(join(tmpdir(), 'ass-export-'));
  try {
    const file = join(dir, 'export.sqlite');
    writeFileSync(file, bytes);
    return execFileSync(sqlite3, [file], { input: 'PRAGMA integrity_check;', encoding: 'utf8' }).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- tests ---------------------------------------------------------------------------------------------

test('export, wipe, import: every record comes back, in the same store and in a fresh one, and survives a reopen', async ({ app }) => {
  await installHelpers(app);
  const seen = await app.evaluate(async (ids) => {
    const { populate, snapshot } = window.transferHelpers;
    const suffix = crypto.randomUUID();
    const store = await window.openStateStore({ name: `xfer-a-${suffix}` });
    await populate(store);
    const original = await snapshot(store, ids);
    const bytes = await store.exportDatabase();
    const sessionIndex = await store.exportSessionIndex();

    // Wipe: the export of an empty store, imported over this one.
    const empty = await window.openStateStore({ name: `xfer-empty-${suffix}` });
    const emptyBytes = await empty.exportDatabase();
    await empty.close();
    const wipe = await store.importDatabase(emptyBytes);
    const wiped = { threads: await store.listThreads({ includeArchived: true }), jobs: await store.listJobs(), alpha: await store.getThread('alpha'), names: await store.findThreadNamesByIds(ids) };

    const result = await store.importDatabase(bytes, { sessionIndex });
    const restored = await snapshot(store, ids);
    await store.close();
    // No job sweep at open: it would rightly fail the imported queued/running jobs of a "closed session".
    const reopened = await window.openStateStore({ name: `xfer-a-${suffix}`, recoverOnStart: false });
    const afterReopen = await snapshot(reopened, ids);
    await reopened.close();

    const fresh = await window.openStateStore({ name: `xfer-b-${suffix}` });
    await fresh.importDatabase(bytes);
    const inFresh = await snapshot(fresh, ids);
    const freshIntegrity = await fresh.integrityCheck();
    await fresh.close();
    return { original, wipe, wiped, result, restored, afterReopen, inFresh, freshIntegrity, isUint8Array: bytes instanceof Uint8Array };
  }, IDS);

  expect(seen.isUint8Array).toBe(true);
  expect(seen.original.perThread[0]!.leaves.length).toBe(2);
  expect(seen.original.perThread[0]!.goal!.continuationCount).toBe(1);
  expect(seen.wipe).toMatchObject({ threads: 0, messages: 0 });
  expect(seen.wiped).toEqual({ threads: [], jobs: [], alpha: null, names: { alpha: null, beta: null, gamma: null, empty: null } });
  expect(seen.result).toMatchObject({ threads: 4, messages: 6 });
  expect(seen.result.fromVersion).toBe(seen.result.schemaVersion);
  expect(seen.restored).toEqual(seen.original);
  expect(seen.afterReopen).toEqual(seen.original);
  // Without a session index the names are rebuilt from the titles, which here say the same.
  expect(seen.inFresh).toEqual(seen.original);
  expect(seen.freshIntegrity).toEqual({ ok: true, problems: [] });
});

test('the exported bytes are a SQLite file that native SQLite checks as ok', async ({ app }) => {
  await installHelpers(app);
  const bytes = await app.evaluate(async () => {
    const store = await window.openStateStore({ name: `xfer-native-${crypto.randomUUID()}` });
    await window.transferHelpers.populate(store);
    const out = await store.exportDatabase();
    await store.close();
    return Array.from(out);
  });
  const file = new Uint8Array(bytes);
  expect(new TextDecoder().decode(file.subarray(0, 16))).toBe('SQLite format 3\u0000');
  expect(nativeIntegrity(file)).toBe('ok');
  const db = await openImage(file);
  expect(Number(db.selectValue('SELECT count(*) FROM messages'))).toBe(6);
  db.close();
});

const OLDER = [
  { name: 'legacy (version 0)', version: 0, build: buildLegacyV0, messages: 13, alphaLeaf: 12 },
  { name: 'version 1', version: 1, build: buildV1, messages: 11, alphaLeaf: 5 },
  { name: 'version 2', version: 2, build: buildV2, messages: 11, alphaLeaf: 5 },
  { name: 'version 3', version: 3, build: buildV3, messages: 11, alphaLeaf: 5 },
];

for (const f of OLDER) {
  test(`a ${f.name} file imports, migrated, replacing what was there`, async ({ app }) => {
    const bytes = Array.from(await f.build());
    const seen = await app.evaluate(async (input) => {
      const store = await window.openStateStore({ name: `xfer-old-${crypto.randomUUID()}` });
      await store.upsertThread({ id: 'existing', preview: 'p', ephemeral: false, modelProvider: 'm', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api' });
      const result = await store.importDatabase(new Uint8Array(input));
      const out = {
        result,
        ids: (await store.listThreads({ includeArchived: true })).map((t) => t.id).sort(),
        alpha: await store.getThread('t-alpha'),
        branch: (await store.listMessages('t-alpha')).map((m) => m.id),
        names: await store.findThreadNamesByIds(['t-alpha', 't-beta', 't-gamma']),
        goal: await store.getThreadGoal('t-alpha'),
        integrity: await store.integrityCheck(),
        info: await store.info(),
      };
      await store.close();
      return out;
    }, bytes);
    expect(seen.result).toMatchObject({ fromVersion: f.version, threads: 5, messages: f.messages });
    expect(seen.result.schemaVersion).toBeGreaterThan(4);
    expect(seen.ids).toEqual(['t-alpha', 't-beta', 't-delta', 't-empty', 't-gamma']);
    expect(seen.alpha).toMatchObject({ name: 'Alpha', rolloutPath: '/rollouts/t-alpha.jsonl', currentLeafId: f.alphaLeaf });
    expect(seen.branch.at(-1)).toBe(f.alphaLeaf);
    expect(seen.names).toEqual({ 't-alpha': 'Alpha', 't-beta': 'Beta', 't-gamma': null });
    if (f.version === 3) expect(seen.goal).toMatchObject({ goalId: 'g-1', continuationCount: 0 });
    expect(seen.integrity).toEqual({ ok: true, problems: [] });
    expect(seen.info.vfs).toBe('opfs-sahpool');
  });
}

/** Imports each of `files` into a populated store; returns the errors and whether anything changed. */
async function refuseAll(page: Page, files: Record<string, number[]>) {
  await installHelpers(page);
  return page.evaluate(
    async ({ files, ids }) => {
      const { populate, snapshot } = window.transferHelpers;
      const store = await window.openStateStore({ name: `xfer-refuse-${crypto.randomUUID()}` });
      await populate(store);
      const before = { records: await snapshot(store, ids), bytes: Array.from(await store.exportDatabase()), index: await store.exportSessionIndex() };
      const errors: Record<string, { isStoreError: boolean; code: string | null; message: string; details: unknown } | null> = {};
      for (const [label, bytes] of Object.entries(files)) {
        try {
          await store.importDatabase(new Uint8Array(bytes));
          errors[label] = null;
        } catch (e) {
          const err = e as { code?: string; message: string; details?: unknown };
          errors[label] = { isStoreError: e instanceof window.StoreError, code: err.code ?? null, message: err.message, details: err.details ?? null };
        }
      }
      const after = { records: await snapshot(store, ids), bytes: Array.from(await store.exportDatabase()), index: await store.exportSessionIndex() };
      const integrity = await store.integrityCheck();
      await store.close();
      return { errors, unchanged: { records: JSON.stringify(after.records) === JSON.stringify(before.records), bytes: after.bytes.join() === before.bytes.join(), index: after.index === before.index }, before: before.records, after: after.records, integrity };
    },
    { files, ids: IDS },
  );
}

test('a newer file is refused with SCHEMA_TOO_NEW, and the data stays as it was', async ({ app }) => {
  const seen = await refuseAll(app, { newer: Array.from(await buildNewerThanKnown()) });
  expect(seen.errors['newer']).toMatchObject({ isStoreError: true, code: 'SCHEMA_TOO_NEW', details: { databaseVersion: 99 } });
  expect(seen.after).toEqual(seen.before);
  expect(seen.unchanged).toEqual({ records: true, bytes: true, index: true });
  expect(seen.integrity).toEqual({ ok: true, problems: [] });
});

test('a truncated and a corrupted file are refused with INVALID_ARGUMENT, and the data stays as it was', async ({ app }) => {
  const good = await buildV3();
  const pageSize = (good[16]! << 8) | good[17]!;
  const db = await openImage(good);
  const threadsRoot = Number(db.selectValue("SELECT rootpage FROM sqlite_master WHERE name = 'threads'"));
  db.close();
  const corrupted = good.slice();
  // An invalid b-tree page type on the threads table's root page; the header stays intact.
  corrupted[(threadsRoot - 1) * pageSize] = 0x2a;
  const seen = await refuseAll(app, {
    truncated: Array.from(good.subarray(0, good.length - pageSize)),
    halfPage: Array.from(good.subarray(0, Math.floor(good.length / 2) + 3)),
    corrupted: Array.from(corrupted),
  });
  expect(seen.errors['truncated']).toMatchObject({ isStoreError: true, code: 'INVALID_ARGUMENT', details: { field: 'bytes' } });
  expect(seen.errors['truncated']!.message).toMatch(/truncated/);
  expect(seen.errors['halfPage']).toMatchObject({ code: 'INVALID_ARGUMENT' });
  expect(seen.errors['corrupted']).toMatchObject({ isStoreError: true, code: 'INVALID_ARGUMENT', details: { field: 'bytes' } });
  expect(seen.errors['corrupted']!.message).toMatch(/integrity_check/);
  expect(seen.after).toEqual(seen.before);
  expect(seen.unchanged).toEqual({ records: true, bytes: true, index: true });
  expect(seen.integrity).toEqual({ ok: true, problems: [] });
});

test('onProgress is called on the page through validate, integrity, migrate, copy, index and done', async ({ app }) => {
  const bytes = Array.from(await buildLegacyV0());
  const seen = await app.evaluate(async (input) => {
    const store = await window.openStateStore({ name: `xfer-progress-${crypto.randomUUID()}` });
    const progress: Array<{ phase: string; fraction: number }> = [];
    const result = await store.importDatabase(new Uint8Array(input), { onProgress: (p) => progress.push({ phase: p.phase, fraction: p.fraction }) });
    await store.close();
    return { result, progress };
  }, bytes);
  expect(seen.result.fromVersion).toBe(0);
  const phases = seen.progress.map((p) => p.phase).filter((phase, i, all) => i === 0 || all[i - 1] !== phase);
  expect(phases).toEqual(['validate', 'integrity', 'migrate', 'copy', 'index', 'done']);
  expect(seen.progress.at(-1)).toEqual({ phase: 'done', fraction: 1 });
  const copy = seen.progress.filter((p) => p.phase === 'copy').map((p) => p.fraction);
  copy.slice(1).forEach((f, i) => expect(f).toBeGreaterThanOrEqual(copy[i]!));
  expect(copy.at(-1)).toBe(1);
});

test("the Rust store's own file (schema v4) imports as in Node: its deleted thread's leftover rows dropped and counted", async ({ app }) => {
  const bytes = Array.from(readFileSync(new URL('../fixtures/rust-seed-v4/state.db', import.meta.url)));
  const seen = await app.evaluate(async (input) => {
    const store = await window.openStateStore({ name: `xfer-rust-${crypto.randomUUID()}` });
    const result = await store.importDatabase(new Uint8Array(input));
    const out = {
      result,
      ids: (await store.listThreads({ includeArchived: true })).map((t) => t.id).sort(),
      appended: await store.appendMessage('thread-alpha', 'user', 'after the Rust file'),
      integrity: await store.integrityCheck(),
    };
    await store.close();
    return out;
  }, bytes);
  expect(seen.result).toEqual({ fromVersion: 4, schemaVersion: expect.any(Number), threads: 4, messages: 16, ignored: [], dropped: { messages: 1, checkpoints: 1 } });
  expect(seen.ids).toEqual(['thread-alpha', 'thread-beta', 'thread-delta', 'thread-gamma']);
  expect(seen.appended).toBeGreaterThan(19);
  expect(seen.integrity).toEqual({ ok: true, problems: [] });
});

test('a file with a planted trigger imports without it: later writes keep every message', async ({ app }) => {
  const db = await openImage(await buildV3());
  db.exec('CREATE TRIGGER evil_wipe AFTER INSERT ON messages BEGIN DELETE FROM messages; END;');
  const bytes = Array.from(await exportImage(db));
  db.close();
  const seen = await app.evaluate(async (input) => {
    const store = await window.openStateStore({ name: `xfer-hostile-${crypto.randomUUID()}` });
    const result = await store.importDatabase(new Uint8Array(input));
    await store.appendMessage('t-alpha', 'user', 'a write after the import');
    const out = { ignored: result.ignored, messages: result.messages, after: (await store.listMessages('t-alpha')).length };
    await store.close();
    return out;
  }, bytes);
  expect(seen.ignored).toEqual([{ type: 'trigger', name: 'evil_wipe' }]);
  expect(seen.after).toBeGreaterThan(1);
});

test('a File (Blob) is imported in place with progress: the Rust store\'s file and an older one that must migrate', async ({ app }) => {
  const files = { rust: Array.from(readFileSync(new URL('../fixtures/rust-seed-v4/state.db', import.meta.url))), v1: Array.from(await buildV1()) };
  const seen = await app.evaluate(async (input) => {
    const out: Record<string, unknown> = {};
    for (const [label, bytes] of Object.entries(input)) {
      const store = await window.openStateStore({ name: `xfer-blob-${label}-${crypto.randomUUID()}` });
      const file = new File([new Uint8Array(bytes)], `${label}.sqlite`, { type: 'application/vnd.sqlite3' });
      const phases: string[] = [];
      const result = await store.importDatabase(file, { onProgress: (p) => phases.push(p.phase) });
      out[label] = { result, phases: phases.filter((p, i) => i === 0 || phases[i - 1] !== p), integrity: await store.integrityCheck(), threads: (await store.listThreads({ includeArchived: true })).length };
      await store.close();
    }
    return out;
  }, files);
  const phases = ['validate', 'integrity', 'migrate', 'copy', 'index', 'done'];
  expect(seen['rust']).toMatchObject({ result: { fromVersion: 4, threads: 4, messages: 16, dropped: { messages: 1, checkpoints: 1 } }, phases, integrity: { ok: true }, threads: 4 });
  expect(seen['v1']).toMatchObject({ result: { fromVersion: 1, threads: 5, messages: 11 }, phases, integrity: { ok: true }, threads: 5 });
});
