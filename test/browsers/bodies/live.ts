import { expect } from '@playwright/test';
import type { BranchMessage, StoreChange, ThreadMetadata } from '../../../src/core/index.js';
import type { BrowserDriver, Tab } from '../driver.js';

/**
 * Live queries and change notices across tabs of one profile: shared by test/e2e/live.spec.ts
 * (Chromium) and test/browsers/live.spec.ts (Firefox).
 */

export type LiveWindow = Window & {
  store: Awaited<ReturnType<typeof window.openStateStore>>;
  branches: BranchMessage[][];
  lists: ThreadMetadata[][];
  changes: StoreChange[];
  frameCount: number;
};

export async function openTabs(driver: BrowserDriver, count: number, name: string): Promise<Tab[]> {
  const tabs: Tab[] = [];
  for (let i = 0; i < count; i++) {
    const tab = await driver.newTab();
    await tab.evaluate(async (name) => {
      const w = window as unknown as LiveWindow;
      w.store = await window.openStateStore({ name });
      w.branches = [];
      w.lists = [];
      w.changes = [];
    }, name);
    tabs.push(tab);
  }
  return tabs;
}

/** The tab whose worker leads, first. */
export async function leaderFirst(tabs: Tab[]): Promise<Tab[]> {
  const leads = await Promise.all(tabs.map((p) => p.evaluate(async () => (await (window as unknown as LiveWindow).store.info()).leader)));
  expect(leads.filter(Boolean)).toHaveLength(1);
  return [...tabs].sort((a, b) => Number(leads[tabs.indexOf(b)]) - Number(leads[tabs.indexOf(a)]));
}

export const branches = (tab: Tab) => tab.evaluate(() => (window as unknown as LiveWindow).branches);
export const contentsOf = (branch: BranchMessage[] | undefined) => (branch ?? []).map((m) => m.content);

export async function watchBranchDeliversOtherTabsWrite(driver: BrowserDriver): Promise<void> {
  const [a, b] = await openTabs(driver, 2, `live-add-${crypto.randomUUID()}`);
  await a!.evaluate(async () => {
    const { store } = window as unknown as LiveWindow;
    await store.createThread({ id: 't' });
    await store.addMessage('t', { role: 'user', content: 'hello' });
  });
  await b!.evaluate(() => {
    const w = window as unknown as LiveWindow;
    w.store.watchBranch('t', (branch) => w.branches.push(branch));
  });
  await expect.poll(async () => (await branches(b!)).length).toBe(1);
  await a!.evaluate(async () => {
    await (window as unknown as LiveWindow).store.addMessage('t', { role: 'assistant', content: 'hi there' });
  });
  await expect.poll(async () => contentsOf((await branches(b!)).at(-1))).toEqual(['hello', 'hi there']);
  expect(await branches(b!)).toHaveLength(2);
  await Promise.all([a!.close(), b!.close()]);
}

export async function watchThreadsReorders(driver: BrowserDriver): Promise<void> {
  const [a, b] = await openTabs(driver, 2, `live-threads-${crypto.randomUUID()}`);
  await a!.evaluate(async () => {
    const { store } = window as unknown as LiveWindow;
    await store.createThread({ id: 'old', createdAt: 100, updatedAt: 100 });
    await store.createThread({ id: 'new', createdAt: 200, updatedAt: 200 });
  });
  await b!.evaluate(() => {
    const w = window as unknown as LiveWindow;
    w.store.watchThreads(undefined, (list) => w.lists.push(list));
  });
  const order = () => b!.evaluate(() => (window as unknown as LiveWindow).lists.map((list) => list.map((t) => t.id)));
  await expect.poll(order).toEqual([['new', 'old']]);
  await a!.evaluate(async () => {
    await (window as unknown as LiveWindow).store.addMessage('old', { role: 'user', content: 'back to this one' });
  });
  await expect.poll(order).toEqual([['new', 'old'], ['old', 'new']]);
  await Promise.all([a!.close(), b!.close()]);
}

export async function leaderNoticeAfterLeaderCloses(driver: BrowserDriver): Promise<void> {
  const [leader, b] = await leaderFirst(await openTabs(driver, 2, `live-leader-${crypto.randomUUID()}`));
  await b!.evaluate(() => {
    const w = window as unknown as LiveWindow;
    w.store.subscribe((change) => w.changes.push(change));
  });
  await leader!.close();
  await expect
    .poll(() => b!.evaluate(() => (window as unknown as LiveWindow).changes), { timeout: 10_000 })
    .toEqual([{ kind: 'leader', method: null, threadId: null, id: null }]);
  // The first call B makes after the notice finds it leading.
  expect(await b!.evaluate(async () => (await (window as unknown as LiveWindow).store.info()).leader)).toBe(true);
  await b!.close();
}

export async function liveQuerySurvivesFailover(driver: BrowserDriver): Promise<void> {
  const [leader, b] = await leaderFirst(await openTabs(driver, 2, `live-failover-${crypto.randomUUID()}`));
  await leader!.evaluate(async () => {
    const { store } = window as unknown as LiveWindow;
    await store.createThread({ id: 't' });
    await store.addMessage('t', { role: 'user', content: 'before' });
  });
  await b!.evaluate(() => {
    const w = window as unknown as LiveWindow;
    w.store.watchBranch('t', (branch) => w.branches.push(branch));
  });
  await expect.poll(async () => (await branches(b!)).length).toBe(1);
  await leader!.close();
  await b!.evaluate(async () => {
    await (window as unknown as LiveWindow).store.addMessage('t', { role: 'assistant', content: 'after' });
  });
  await expect.poll(async () => contentsOf((await branches(b!)).at(-1)), { timeout: 10_000 }).toEqual(['before', 'after']);
  await b!.close();
}
