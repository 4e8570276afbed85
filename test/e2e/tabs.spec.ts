import type { Page } from '@playwright/test';
import { expect, openApp, test } from './fixtures.js';

const THREAD = (id: string) => ({ id, preview: '', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api' }) as const;

async function openTabs(context: import('@playwright/test').BrowserContext, count: number, name: string): Promise<Page[]> {
  const pages: Page[] = [];
  for (let i = 0; i < count; i++) {
    const page = await context.newPage();
    await openApp(page);
    await page.evaluate(async (name) => {
      (window as unknown as { store: unknown }).store = await window.openStateStore({ name });
    }, name);
    pages.push(page);
  }
  return pages;
}

type TabWindow = Window & { store: Awaited<ReturnType<typeof window.openStateStore>>; seen: unknown[] };

test('four tabs append 250 messages each to their own thread and 250 to a shared one at once: all 2,000 land, every chain intact', async ({ profile }) => {
  const name = `tabs-${Date.now()}`;
  const tabs = await openTabs(profile.context, 4, name);
  const roles = await Promise.all(tabs.map((p) => p.evaluate(async () => (await (window as unknown as TabWindow).store.info()).leader)));
  expect(roles.filter(Boolean)).toHaveLength(1);
  await tabs[0]!.evaluate(async (shared) => (window as unknown as TabWindow).store.upsertThread(shared), THREAD('shared'));

  await Promise.all(
    tabs.map((page, t) =>
      page.evaluate(
        async ({ t, own }) => {
          const { store } = window as unknown as TabWindow;
          await store.upsertThread(own);
          const calls: Promise<number>[] = [];
          for (let i = 0; i < 250; i++) {
            calls.push(store.appendMessage(own.id, 'user', `own ${t}:${i}`));
            calls.push(store.appendMessage('shared', 'user', `shared ${t}:${i}`));
          }
          await Promise.all(calls);
        },
        { t, own: THREAD(`own-${t}`) },
      ),
    ),
  );

  const check = await tabs[3]!.evaluate(async () => {
    const { store } = window as unknown as TabWindow;
    const chains: Record<string, { count: number; linked: boolean; unique: boolean; leafIsLast: boolean }> = {};
    for (const id of ['shared', 'own-0', 'own-1', 'own-2', 'own-3']) {
      const messages = await store.listMessages(id, 5000);
      chains[id] = {
        count: messages.length,
        linked: messages.every((m, i) => (i === 0 ? m.parentEntryId === null : m.parentEntryId === messages[i - 1]!.id)),
        unique: new Set(messages.map((m) => m.content)).size === messages.length,
        leafIsLast: (await store.getThread(id))?.currentLeafId === messages.at(-1)?.id,
      };
    }
    return chains;
  });
  expect(check['shared']).toEqual({ count: 1000, linked: true, unique: true, leafIsLast: true });
  for (let t = 0; t < 4; t++) expect(check[`own-${t}`]).toEqual({ count: 250, linked: true, unique: true, leafIsLast: true });
  await Promise.all(tabs.map((p) => p.close()));
});

test('when the leader tab closes mid-run another tab takes over within 2 s, and nothing is lost or duplicated', async ({ profile }) => {
  const name = `failover-${Date.now()}`;
  const tabs = await openTabs(profile.context, 3, name);
  const leaders = await Promise.all(tabs.map((p) => p.evaluate(async () => (await (window as unknown as TabWindow).store.info()).leader)));
  const leaderIndex = leaders.indexOf(true);
  expect(leaderIndex).toBeGreaterThanOrEqual(0);
  const followers = tabs.filter((_, i) => i !== leaderIndex);
  await followers[0]!.evaluate(async (t) => (window as unknown as TabWindow).store.upsertThread(t), THREAD('t'));

  // Each follower writes a steady stream and records which writes resolved and the longest wait.
  const runs = followers.map((page, f) =>
    page.evaluate(async (f) => {
      const { store } = window as unknown as TabWindow;
      const resolved: string[] = [];
      let longest = 0;
      for (let i = 0; i < 60; i++) {
        const content = `f${f}-${i}`;
        const started = performance.now();
        await store.appendMessage('t', 'user', content);
        longest = Math.max(longest, performance.now() - started);
        resolved.push(content);
        await new Promise((r) => setTimeout(r, 25));
      }
      return { resolved, longest };
    }, f),
  );
  await new Promise((r) => setTimeout(r, 500));
  await tabs[leaderIndex]!.close(); // the leader's tab goes away mid-run, workers and all
  const results = await Promise.all(runs);

  const after = await followers[0]!.evaluate(async () => {
    const { store } = window as unknown as TabWindow;
    const messages = await store.listMessages('t', 1000);
    return { contents: messages.map((m) => m.content), linked: messages.every((m, i) => (i === 0 ? m.parentEntryId === null : m.parentEntryId === messages[i - 1]!.id)), leaderNow: (await store.info()).leader };
  });
  const written = results.flatMap((r) => r.resolved).sort();
  expect([...after.contents].sort()).toEqual(written); // every resolved write is there, once
  expect(after.linked).toBe(true);
  expect(Math.max(...results.map((r) => r.longest))).toBeLessThan(2000);
  const newLeaders = await Promise.all(followers.map((p) => p.evaluate(async () => (await (window as unknown as TabWindow).store.info()).leader)));
  expect(newLeaders.filter(Boolean)).toHaveLength(1);
  await Promise.all(followers.map((p) => p.close()));
});

test('subscribers in every tab see every change, from every tab', async ({ profile }) => {
  const name = `subscribe-${Date.now()}`;
  const tabs = await openTabs(profile.context, 3, name);
  await Promise.all(
    tabs.map((p) =>
      p.evaluate(() => {
        const w = window as unknown as TabWindow;
        w.seen = [];
        w.store.subscribe((change) => w.seen.push(change));
      }),
    ),
  );
  await tabs[0]!.evaluate(async (t) => (window as unknown as TabWindow).store.upsertThread(t), THREAD('s'));
  const ids = await tabs[1]!.evaluate(async () => {
    const { store } = window as unknown as TabWindow;
    const a = await store.appendMessage('s', 'user', 'one');
    const b = await store.forkAtMessage(a, 'assistant', 'two');
    await store.saveCheckpoint('s', 'cp', { n: 1 });
    return [a, b];
  });
  await tabs[2]!.evaluate(async () => {
    const { store } = window as unknown as TabWindow;
    await store.upsertJob({ id: 'j', name: 'job', status: 'running', progress: 5, detail: null, createdAt: 1, updatedAt: 1 });
    await store.deleteThread('s');
  });
  const expected = [
    { kind: 'thread', method: 'upsertThread', threadId: 's', id: 's' },
    { kind: 'message', method: 'appendMessage', threadId: 's', id: ids[0] },
    { kind: 'message', method: 'forkAtMessage', threadId: 's', id: ids[1] },
    { kind: 'checkpoint', method: 'saveCheckpoint', threadId: 's', id: 'cp' },
    { kind: 'job', method: 'upsertJob', threadId: null, id: 'j' },
    { kind: 'thread', method: 'deleteThread', threadId: 's', id: 's' },
  ];
  for (const page of tabs) {
    await expect.poll(() => page.evaluate(() => (window as unknown as TabWindow).seen), { timeout: 5000 }).toEqual(expected);
  }
  await Promise.all(tabs.map((p) => p.close()));
});

test('the first tab to open runs the start-up sweep: jobs left queued or running are marked failed as interrupted', async ({ profile }) => {
  const name = `sweep-${Date.now()}`;
  const page = await profile.context.newPage();
  await openApp(page);
  await page.evaluate(async (name) => {
    const store = await window.openStateStore({ name });
    for (const [id, status] of [['q', 'queued'], ['r', 'running'], ['c', 'completed']] as const) {
      await store.upsertJob({ id, name: id, status, progress: null, detail: null, createdAt: 1, updatedAt: 1 });
    }
    await store.close();
  }, name);
  const [noSweep, sweep] = await page.evaluate(async (name) => {
    const off = await window.openStateStore({ name, recoverOnStart: false });
    const before = (await off.listJobs()).map((j) => [j.id, j.status]);
    await off.close();
    const on = await window.openStateStore({ name });
    const jobs = await on.listJobs();
    const info = await on.info();
    await on.close();
    return [before, { jobs: jobs.map((j) => [j.id, j.status, j.detail?.startsWith('interrupted') ?? false]), recovered: info.recoveredJobs }];
  }, name);
  expect(noSweep.sort()).toEqual([['c', 'completed'], ['q', 'queued'], ['r', 'running']]);
  expect(sweep.jobs.sort()).toEqual([['c', 'completed', false], ['q', 'failed', true], ['r', 'failed', true]]);
  expect(sweep.recovered).toBe(2);
  await page.close();
});

test('the sweep does not run while another tab has the store open', async ({ profile }) => {
  const name = `nosweep-${Date.now()}`;
  const [first] = await openTabs(profile.context, 1, name);
  await first!.evaluate(async () => {
    await (window as unknown as TabWindow).store.upsertJob({ id: 'live', name: 'live', status: 'running', progress: 10, detail: null, createdAt: 1, updatedAt: 1 });
  });
  const [second] = await openTabs(profile.context, 1, name);
  const status = await second!.evaluate(async () => (await (window as unknown as TabWindow).store.getJob('live'))?.status);
  expect(status).toBe('running');
  await first!.close();
  // The second tab takes over as leader; the job it can see running belongs to a tab that was alive.
  const after = await second!.evaluate(async () => (await (window as unknown as TabWindow).store.getJob('live'))?.status);
  expect(after).toBe('running');
  await second!.close();
});

test('a follower tab exports and imports through the leader, with progress on its own page', async ({ profile }) => {
  const name = `follower-import-${Date.now()}`;
  const [leader, follower] = await openTabs(profile.context, 2, name);
  await leader!.evaluate(async (t) => {
    const { store } = window as unknown as TabWindow;
    await store.upsertThread(t);
    await store.appendMessage('x', 'user', 'exported');
  }, THREAD('x'));
  const outcome = await follower!.evaluate(async () => {
    const { store } = window as unknown as TabWindow;
    const bytes = await store.exportDatabase();
    await store.appendMessage('x', 'user', 'after the export');
    const phases: string[] = [];
    const result = await store.importDatabase(bytes, { onProgress: (p) => phases.push(p.phase) });
    return { leader: (await store.info()).leader, result, phases, contents: (await store.listMessages('x')).map((m) => m.content) };
  });
  expect(outcome.leader).toBe(false);
  expect(outcome.result).toMatchObject({ threads: 1, messages: 1 });
  expect(outcome.phases.at(-1)).toBe('done');
  expect(outcome.phases).toContain('copy');
  expect(outcome.contents).toEqual(['exported']);
  await Promise.all([leader!.close(), follower!.close()]);
});
