import { expect } from '@playwright/test';
import type { BrowserDriver, Tab } from '../driver.js';

/** Several tabs of one profile on one store: shared by test/e2e/tabs.spec.ts and test/browsers/tabs.spec.ts. */

const THREAD = (id: string) => ({ id, preview: '', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api' }) as const;

type TabWindow = Window & { store: Awaited<ReturnType<typeof window.openStateStore>>; seen: unknown[] };

/** Opens `count` tabs of the test app, each with the store `name` open as `window.store`. */
export async function openTabs(driver: BrowserDriver, count: number, name: string): Promise<Tab[]> {
  const tabs: Tab[] = [];
  for (let i = 0; i < count; i++) {
    const tab = await driver.newTab();
    await tab.evaluate(async (name) => {
      (window as unknown as { store: unknown }).store = await window.openStateStore({ name });
    }, name);
    tabs.push(tab);
  }
  return tabs;
}

export async function fourTabsAppendAtOnce(driver: BrowserDriver, perTab = 250): Promise<void> {
  const name = `tabs-${crypto.randomUUID()}`;
  const tabs = await openTabs(driver, 4, name);
  const roles = await Promise.all(tabs.map((p) => p.evaluate(async () => (await (window as unknown as TabWindow).store.info()).leader)));
  expect(roles.filter(Boolean)).toHaveLength(1);
  await tabs[0]!.evaluate(async (shared) => (window as unknown as TabWindow).store.upsertThread(shared), THREAD('shared'));

  await Promise.all(
    tabs.map((tab, t) =>
      tab.evaluate(
        async ({ t, own, perTab }) => {
          const { store } = window as unknown as TabWindow;
          await store.upsertThread(own);
          const calls: Promise<number>[] = [];
          for (let i = 0; i < perTab; i++) {
            calls.push(store.appendMessage(own.id, 'user', `own ${t}:${i}`));
            calls.push(store.appendMessage('shared', 'user', `shared ${t}:${i}`));
          }
          await Promise.all(calls);
        },
        { t, own: THREAD(`own-${t}`), perTab },
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
  expect(check['shared']).toEqual({ count: 4 * perTab, linked: true, unique: true, leafIsLast: true });
  for (let t = 0; t < 4; t++) expect(check[`own-${t}`]).toEqual({ count: perTab, linked: true, unique: true, leafIsLast: true });
  await Promise.all(tabs.map((p) => p.close()));
}

export async function leaderClosesMidRun(driver: BrowserDriver): Promise<void> {
  const name = `failover-${crypto.randomUUID()}`;
  const tabs = await openTabs(driver, 3, name);
  const leaders = await Promise.all(tabs.map((p) => p.evaluate(async () => (await (window as unknown as TabWindow).store.info()).leader)));
  const leaderIndex = leaders.indexOf(true);
  expect(leaderIndex).toBeGreaterThanOrEqual(0);
  const followers = tabs.filter((_, i) => i !== leaderIndex);
  await followers[0]!.evaluate(async (t) => (window as unknown as TabWindow).store.upsertThread(t), THREAD('t'));

  // Each follower writes a steady stream and records which writes resolved and the longest wait.
  const runs = followers.map((tab, f) =>
    tab.evaluate(async (f) => {
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
}

export async function subscribersSeeEveryChange(driver: BrowserDriver): Promise<void> {
  const name = `subscribe-${crypto.randomUUID()}`;
  const tabs = await openTabs(driver, 3, name);
  await Promise.all(
    tabs.map((p) =>
      p.evaluate(() => {
        const w = window as unknown as TabWindow;
        w.seen = [];
        // Leader notices come whenever the election settles; this test is about data changes.
        w.store.subscribe((change) => {
          if (change.kind !== 'leader') w.seen.push(change);
        });
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
  for (const tab of tabs) {
    await expect.poll(() => tab.evaluate(() => (window as unknown as TabWindow).seen), { timeout: 5000 }).toEqual(expected);
  }
  await Promise.all(tabs.map((p) => p.close()));
}
