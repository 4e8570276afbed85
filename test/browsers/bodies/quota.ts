import { expect } from '@playwright/test';
import type { BrowserDriver } from '../driver.js';

/**
 * A full origin quota, simulated at the storage layer: the test app's quota worker makes OPFS sync
 * access handle writes throw QuotaExceededError on demand (test/e2e/app/quota-hook.ts). Shared by
 * test/e2e/quota.spec.ts (Chromium) and test/browsers/quota.spec.ts (Firefox).
 */

export async function fullDiskDuringCommit(driver: BrowserDriver): Promise<void> {
  const tab = await driver.newTab();
  const seen = await tab.evaluate(async () => {
    const capture = async (fn: () => Promise<unknown>) => {
      try {
        await fn();
        return null;
      } catch (e) {
        const err = e as { code?: string; name: string; message: string };
        return { code: err.code ?? null, name: err.name, message: err.message, isStoreError: e instanceof window.StoreError };
      }
    };
    const name = `quota-${crypto.randomUUID()}`;
    const store = await window.openStateStore({ name, worker: window.quotaWorker() });
    const info = await store.info();
    const thread = { id: 'q', preview: 'p', ephemeral: false, modelProvider: 'm', createdAt: 1, updatedAt: 1, status: 'idle' as const, cwd: '/', cliVersion: '1', source: 'api' as const, name: 'Quota' };
    await store.upsertThread(thread);
    await store.appendMessage('q', 'user', 'kept one');
    const keptLeaf = await store.appendMessage('q', 'assistant', 'kept two');
    const before = await store.listMessages('q');

    const thrownBefore = await window.setQuotaExceeded(['write']);
    // A named thread and an assistant message: only the database is written, not the session index.
    const append = await capture(() => store.appendMessage('q', 'assistant', 'lost to the full disk'));
    const thrownDuring = await window.setQuotaExceeded(['write']);
    const whileFull = { messages: await store.listMessages('q'), leaf: (await store.getThread('q'))!.currentLeafId, leaves: await store.listLeafMessages('q') };

    await window.setQuotaExceeded([]);
    const afterId = await store.appendMessage('q', 'assistant', 'written once space is back');
    const after = await store.listMessages('q');
    const integrity = await store.integrityCheck();
    await store.close();

    // What reached the disk: reopened by the package's own worker.
    const reopened = await window.openStateStore({ name });
    const persisted = await reopened.listMessages('q');
    const persistedIntegrity = await reopened.integrityCheck();
    await reopened.close();
    return { vfs: info.vfs, keptLeaf, before, thrownBefore, thrownDuring, append, whileFull, afterId, after, integrity, persisted, persistedIntegrity };
  });

  expect(seen.vfs).toBe('opfs-sahpool');
  // The hook really failed writes during the append (else this test would prove nothing).
  expect(seen.thrownDuring).toBeGreaterThan(seen.thrownBefore);
  expect(seen.append).toMatchObject({ isStoreError: true, name: 'StoreError', code: 'QUOTA_EXCEEDED' });
  expect(seen.append!.message).toMatch(/quota/i);
  // Still readable, no partial row, the leaf did not move.
  expect(seen.whileFull.messages).toEqual(seen.before);
  expect(seen.whileFull.leaf).toBe(seen.keptLeaf);
  expect(seen.whileFull.leaves.map((m) => m.id)).toEqual([seen.keptLeaf]);
  // Writes work again, under the old leaf, and the lost message never shows up.
  expect(seen.after).toEqual([...seen.before, expect.objectContaining({ id: seen.afterId, parentEntryId: seen.keptLeaf, content: 'written once space is back' })]);
  expect(seen.integrity).toEqual({ ok: true, problems: [] });
  expect(seen.persisted).toEqual(seen.after);
  expect(seen.persistedIntegrity).toEqual({ ok: true, problems: [] });
  await tab.close();
}

export async function fullDiskDuringIndexAppend(driver: BrowserDriver): Promise<void> {
  const tab = await driver.newTab();
  const seen = await tab.evaluate(async () => {
    const capture = async (fn: () => Promise<unknown>) => {
      try {
        await fn();
        return null;
      } catch (e) {
        const err = e as { code?: string; name: string; message: string };
        return { code: err.code ?? null, name: err.name, message: err.message, isStoreError: e instanceof window.StoreError };
      }
    };
    const name = `quota-${crypto.randomUUID()}`;
    const store = await window.openStateStore({ name, worker: window.quotaWorker() });
    const thread = (id: string, title: string) => ({ id, preview: 'p', ephemeral: false, modelProvider: 'm', createdAt: 1, updatedAt: 1, status: 'idle' as const, cwd: '/', cliVersion: '1', source: 'api' as const, name: title });
    await store.upsertThread(thread('old', 'Old'));
    const oldMessage = await store.appendMessage('old', 'user', 'still here');

    const thrownBefore = await window.setQuotaExceeded(['write']);
    const upsert = await capture(() => store.upsertThread(thread('new', 'New')));
    const rename = await capture(() => store.upsertThread(thread('old', 'Renamed')));
    const thrownDuring = await window.setQuotaExceeded(['write']);
    const whileFull = {
      newThread: await store.getThread('new'),
      old: await store.getThread('old'),
      names: await store.findThreadNamesByIds(['old', 'new']),
      messages: await store.listMessages('old'),
    };

    await window.setQuotaExceeded([]);
    await store.upsertThread(thread('new', 'New'));
    const after = { newThread: await store.getThread('new'), names: await store.findThreadNamesByIds(['old', 'new']), integrity: await store.integrityCheck() };
    await store.close();
    const indexFile = await window.readStoreFile(name, 'session_index.jsonl');
    return { oldMessage, thrownBefore, thrownDuring, upsert, rename, whileFull, after, indexFile };
  });

  expect(seen.thrownDuring).toBeGreaterThan(seen.thrownBefore);
  expect(seen.upsert).toMatchObject({ isStoreError: true, code: 'QUOTA_EXCEEDED' });
  expect(seen.rename).toMatchObject({ isStoreError: true, code: 'QUOTA_EXCEEDED' });
  // The thread row and its index line go together or not at all.
  expect(seen.whileFull.newThread).toBeNull();
  expect(seen.whileFull.old).toMatchObject({ name: 'Old', currentLeafId: seen.oldMessage });
  expect(seen.whileFull.names).toEqual({ old: 'Old', new: null });
  expect(seen.whileFull.messages.map((m) => m.content)).toEqual(['still here']);
  expect(seen.after.newThread).toMatchObject({ id: 'new', name: 'New' });
  expect(seen.after.names).toEqual({ old: 'Old', new: 'New' });
  expect(seen.after.integrity).toEqual({ ok: true, problems: [] });
  // Whole lines only: a failed append left no torn tail.
  const lines = seen.indexFile!.split('\n');
  expect(lines.at(-1)).toBe('');
  expect(lines.slice(0, -1).map((l) => JSON.parse(l).thread_name)).toEqual(['Old', 'New']);
  await tab.close();
}

export async function failingFlush(driver: BrowserDriver): Promise<void> {
  const tab = await driver.newTab();
  const seen = await tab.evaluate(async () => {
    const name = `quota-${crypto.randomUUID()}`;
    const store = await window.openStateStore({ name, worker: window.quotaWorker() });
    const thread = { id: 'f', preview: 'p', ephemeral: false, modelProvider: 'm', createdAt: 1, updatedAt: 1, status: 'idle' as const, cwd: '/', cliVersion: '1', source: 'api' as const, name: 'Flush' };
    await store.upsertThread(thread);
    const kept = await store.appendMessage('f', 'assistant', 'kept');
    await window.setQuotaExceeded(['flush']);
    let failure: { code: string | null; message: string } | null = null;
    try {
      await store.appendMessage('f', 'assistant', 'not durable');
    } catch (e) {
      failure = { code: (e as { code?: string }).code ?? null, message: (e as Error).message };
    }
    const whileFull = await store.listMessages('f');
    await window.setQuotaExceeded([]);
    const afterId = await store.appendMessage('f', 'assistant', 'durable again');
    const after = await store.listMessages('f');
    const integrity = await store.integrityCheck();
    await store.close();
    return { kept, failure, whileFull, afterId, after, integrity };
  });
  expect(seen.failure).toMatchObject({ code: 'QUOTA_EXCEEDED' });
  expect(seen.whileFull.map((m) => m.content)).toEqual(['kept']);
  expect(seen.after.map((m) => [m.content, m.parentEntryId])).toEqual([
    ['kept', null],
    ['durable again', seen.kept],
  ]);
  expect(seen.integrity).toEqual({ ok: true, problems: [] });
  await tab.close();
}
