import { expect } from '@playwright/test';
import type { BrowserDriver } from '../driver.js';

/**
 * The fallback path (no OPFS: memory, with each commit's pages in IndexedDB), in every engine. The
 * stores run on the test app's worker without OPFS; WebKitGTK has none anyway.
 */

const THREAD = (id: string, name?: string) => ({ id, preview: '', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: 1, status: 'idle' as const, cwd: '/', cliVersion: '1', source: 'api' as const, ...(name ? { name } : {}) });

/** strict: IndexedDB holds a commit by the time its write resolves; relaxed: later (the debounce), and then it does. */
export async function strictWaitsForIndexedDb(driver: BrowserDriver): Promise<void> {
  const tab = await driver.newTab();
  const name = `strict-idb-${crypto.randomUUID()}`;
  const strict = await tab.evaluate(
    async ({ name, thread }) => {
      const store = await window.openStateStore({ name, worker: window.workerWithoutOpfs() });
      await store.upsertThread(thread);
      const before = await window.storedCommits(name);
      const seen: number[] = [];
      for (let i = 0; i < 5; i++) {
        await store.appendMessage('t', 'user', `m${i}`);
        seen.push(await window.storedCommits(name));
      }
      const info = await store.info();
      await store.close();
      return { before, seen, vfs: info.vfs, persistence: info.persistence, durability: info.durability };
    },
    { name, thread: THREAD('t') },
  );
  expect(strict).toMatchObject({ vfs: 'memory', persistence: 'indexeddb', durability: 'strict' });
  // Each write's commit was in IndexedDB when its promise resolved.
  expect(strict.seen).toEqual([1, 2, 3, 4, 5].map((n) => strict.before + n));

  const relaxedName = `relaxed-idb-${crypto.randomUUID()}`;
  const relaxed = await tab.evaluate(
    async ({ name, thread }) => {
      const store = await window.openStateStore({ name, worker: window.workerWithoutOpfs(), durability: 'relaxed' });
      (window as unknown as { relaxedStore: unknown }).relaxedStore = store;
      await store.upsertThread(thread);
      await store.appendMessage('t', 'user', 'later');
      return { atOnce: await window.storedCommits(name) };
    },
    { name: relaxedName, thread: THREAD('t') },
  );
  // Under relaxed the write resolved before IndexedDB had it; the debounced write lands on its own.
  expect(relaxed.atOnce).toBe(0);
  await expect.poll(() => tab.evaluate((name) => window.storedCommits(name), relaxedName), { timeout: 10_000 }).toBeGreaterThan(0);
  await tab.evaluate(async () => (window as unknown as { relaxedStore: { close(): Promise<void> } }).relaxedStore.close());
  await tab.close();
}

/** The WebKit report: a thread created, then the page reloaded at once. It must be there. */
export async function strictWriteSurvivesAnImmediateReload(driver: BrowserDriver): Promise<void> {
  const tab = await driver.newTab();
  const name = `reload-now-${crypto.randomUUID()}`;
  const vfs = await tab.evaluate(
    async ({ name, thread }) => {
      const store = await window.openStateStore({ name, worker: window.workerWithoutOpfs() });
      await store.upsertThread(thread);
      await store.appendMessage('t', 'user', 'before the reload');
      // No close(), no wait: the page goes away at once.
      return (await store.info()).vfs;
    },
    { name, thread: THREAD('t', 'Kept') },
  );
  expect(vfs).toBe('memory');
  await tab.reload();
  const after = await tab.evaluate(async (name) => {
    const store = await window.openStateStore({ name, worker: window.workerWithoutOpfs() });
    const result = { thread: (await store.getThread('t'))?.name ?? null, messages: (await store.listMessages('t')).map((m) => m.content), indexed: await store.findThreadNameById('t') };
    await store.close();
    return result;
  }, name);
  expect(after).toEqual({ thread: 'Kept', messages: ['before the reload'], indexed: 'Kept' });
  await tab.close();
}

/**
 * Two tabs without OPFS and without Web Locks both lead on the same IndexedDB data. Neither may
 * overwrite the other's commits: a commit made on a state that another tab has since changed is
 * refused with CONFLICT, the tab reloads what IndexedDB holds, and its next write lands on top.
 */
export async function twoTabsDoNotOverwriteEachOther(driver: BrowserDriver): Promise<void> {
  const name = `two-tabs-${crypto.randomUUID()}`;
  const a = await driver.newTab();
  const b = await driver.newTab();
  const open = async (name: string) => {
    const store = await window.openStateStore({ name, worker: window.workerWithoutOpfsOrLocks() });
    (window as unknown as { store: unknown }).store = store;
    const info = await store.info();
    return { leader: info.leader, vfs: info.vfs };
  };
  // Both lead: there is no election without Web Locks.
  expect(await a.evaluate(open, name)).toEqual({ leader: true, vfs: 'memory' });
  expect(await b.evaluate(open, name)).toEqual({ leader: true, vfs: 'memory' });

  const write = async ({ id, text }: { id: string; text: string }) => {
    type S = Awaited<ReturnType<typeof window.openStateStore>>;
    const store = (window as unknown as { store: S }).store;
    try {
      await store.upsertThread({ id, preview: '', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api', name: id });
      await store.appendMessage(id, 'user', text);
      return 'ok';
    } catch (error) {
      return (error as { code?: string }).code ?? String(error);
    }
  };
  // A writes; then B, which loaded the store before A's commit; then A again, now behind B. A tab whose
  // commit is refused writes again (once it has reloaded what IndexedDB holds).
  const outcomes: Record<string, string[]> = { a: [], b: [], a2: [] };
  const writeAs = async (tab: typeof a, id: string, text: string) => {
    outcomes[id]!.push(await tab.evaluate(write, { id, text }));
    if (outcomes[id]!.at(-1) === 'CONFLICT') outcomes[id]!.push(await tab.evaluate(write, { id, text }));
  };
  await writeAs(a, 'a', 'from A');
  await writeAs(b, 'b', 'from B');
  // B reloaded what IndexedDB holds: A's thread is there.
  const bSeesA = await b.evaluate(async () => (await (window as unknown as { store: { listMessages(t: string): Promise<{ content: string }[]> } }).store.listMessages('a')).map((m) => m.content));
  await writeAs(a, 'a2', 'from A again');
  await a.evaluate(async () => (window as unknown as { store: { close(): Promise<void> } }).store.close());
  await b.evaluate(async () => (window as unknown as { store: { close(): Promise<void> } }).store.close());

  const reader = await driver.newTab();
  const found = await reader.evaluate(async (name) => {
    const store = await window.openStateStore({ name, worker: window.workerWithoutOpfs() });
    const out: Record<string, string[]> = {};
    for (const id of ['a', 'b', 'a2']) out[id] = (await store.listMessages(id)).map((m) => m.content);
    const integrity = await store.integrityCheck();
    await store.close();
    return { out, integrity };
  }, name);
  // First what matters: nothing either tab wrote was overwritten, and the file is whole.
  expect(found).toEqual({ out: { a: ['from A'], b: ['from B'], a2: ['from A again'] }, integrity: { ok: true, problems: [] } });
  // Then how: B's first commit (on a state without A's) and A's second (without B's) were refused, and each landed when written again.
  expect(outcomes).toEqual({ a: ['ok'], b: ['CONFLICT', 'ok'], a2: ['CONFLICT', 'ok'] });
  expect(bSeesA).toEqual(['from A']);
  await Promise.all([a.close(), b.close(), reader.close()]);
}

/**
 * The browser process is killed (SIGKILL) in the middle of a stream of strict writes, three times;
 * every write acknowledged before the kill is there afterwards, and the database is whole. `storage`:
 * the fallback path (the test app's worker without OPFS), or the best the browser has (`auto`).
 */
export async function killedBrowserLosesNoAcknowledgedWrite(driver: BrowserDriver, storage: 'fallback' | 'auto' = 'fallback'): Promise<void> {
  if (!driver.killAndRestart) throw new Error(`${driver.engine}: this driver cannot kill its browser`);
  const name = `kill-${storage}-${crypto.randomUUID()}`;
  const fallbackOnly = storage === 'fallback';
  const acknowledged: string[] = [];
  for (let round = 0; round < 3; round++) {
    const tab = await driver.newTab();
    await tab.evaluate(
      async ({ name, round, fallbackOnly }) => {
        const store = await window.openStateStore(fallbackOnly ? { name, worker: window.workerWithoutOpfs() } : { name });
        await store.upsertThread({ id: `r${round}`, preview: '', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api', name: `round ${round}` });
        const w = window as unknown as { acked: string[]; writing: boolean };
        w.acked = [];
        w.writing = true;
        // Four writes always in flight, each a few KiB, until the browser dies.
        let n = 0;
        const next = (): Promise<void> => {
          const text = `r${round}-${n++}-${'x'.repeat(2000 + (n % 7) * 500)}`;
          return store.appendMessage(`r${round}`, 'user', text).then(() => {
            w.acked.push(text.slice(0, text.lastIndexOf('-')));
            if (w.writing) return next();
          });
        };
        for (let i = 0; i < 4; i++) void next().catch(() => {});
      },
      { name, round, fallbackOnly },
    );
    // Wait for a number of acknowledged writes (a condition, not a time), then take them and kill at once.
    await expect.poll(() => tab.evaluate(() => (window as unknown as { acked: string[] }).acked.length), { timeout: 60_000, intervals: [50] }).toBeGreaterThan(20 + round * 10);
    const taken = await tab.evaluate(() => (window as unknown as { acked: string[] }).acked.slice());
    acknowledged.push(...taken);
    await driver.killAndRestart();
  }
  const tab = await driver.newTab();
  const found = await tab.evaluate(async ({ name, fallbackOnly }) => {
    const store = await window.openStateStore(fallbackOnly ? { name, worker: window.workerWithoutOpfs() } : { name });
    const contents: string[] = [];
    for (let round = 0; round < 3; round++) for (const m of await store.listMessages(`r${round}`, 100_000)) contents.push(m.content.slice(0, m.content.lastIndexOf('-')));
    const integrity = await store.integrityCheck();
    const info = await store.info();
    await store.close();
    return { contents, integrity, vfs: info.vfs };
  }, { name, fallbackOnly });
  expect(found.vfs).toBe(fallbackOnly ? 'memory' : 'opfs-sahpool');
  expect(found.integrity).toEqual({ ok: true, problems: [] });
  const present = new Set(found.contents);
  expect(acknowledged.filter((text) => !present.has(text))).toEqual([]);
  expect(acknowledged.length).toBeGreaterThan(60);
  await tab.close();
}

/**
 * The store picks its storage by feature detection, never by user agent: a worker that claims to be
 * Mobile Safari gets what the browser really has (OPFS where it is there, memory + IndexedDB where not).
 */
export async function storageIsPickedByFeaturesNotUserAgent(driver: BrowserDriver): Promise<{ vfs: string; fallbackReason: string | null }> {
  const tab = await driver.newTab();
  const found = await tab.evaluate(async (name) => {
    const info = async (worker?: Worker) => {
      const store = await window.openStateStore(worker ? { name: `${name}-ua`, worker } : { name });
      const i = await store.info();
      await store.close();
      return { vfs: i.vfs ?? '', persistence: i.persistence ?? '', fallbackReason: i.fallbackReason ?? null };
    };
    // What the worker sees: a fake agent, and whether OPFS is there.
    // What a worker has: getDirectory that resolves, and sync access handles (the store's own test, written again here).
    const source = `(async () => {
      try {
        if (typeof navigator.storage?.getDirectory !== 'function') return postMessage(false);
        await navigator.storage.getDirectory();
        postMessage(typeof FileSystemFileHandle !== 'undefined' && 'createSyncAccessHandle' in FileSystemFileHandle.prototype);
      } catch { postMessage(false); }
    })()`;
    const probe = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
    const opfsInWorkers = await new Promise<boolean>((resolve) => (probe.onmessage = (e) => resolve(e.data as boolean)));
    probe.terminate();
    return { plain: await info(), safari: await info(window.workerWithSafariUserAgent()), opfsInWorkers };
  }, `ua-${crypto.randomUUID()}`);
  expect(found.safari).toEqual(found.plain);
  expect(found.plain.vfs).toBe(found.opfsInWorkers ? 'opfs-sahpool' : 'memory');
  expect(found.plain.persistence).toBe(found.opfsInWorkers ? 'opfs' : 'indexeddb');
  await tab.close();
  return { vfs: found.plain.vfs, fallbackReason: found.plain.fallbackReason };
}
