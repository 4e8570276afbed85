import type { Page } from '@playwright/test';
import * as tabs from '../browsers/bodies/tabs.js';
import { playwrightDriver } from '../browsers/playwright-driver.js';
import { PORTS, url } from '../ports.js';
import { expect, openApp, test } from './fixtures.js';

const base = url(PORTS.e2ePreview);

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

// The first three are shared with Firefox (test/browsers/bodies/tabs.ts).
test('four tabs append 250 messages each to their own thread and 250 to a shared one at once: all 2,000 land, every chain intact', async ({ profile }) => {
  await tabs.fourTabsAppendAtOnce(playwrightDriver(profile, base));
});

test('when the leader tab closes mid-run another tab takes over within 2 s, and nothing is lost or duplicated', async ({ profile }) => {
  await tabs.leaderClosesMidRun(playwrightDriver(profile, base));
});

test('subscribers in every tab see every change, from every tab', async ({ profile }) => {
  await tabs.subscribersSeeEveryChange(playwrightDriver(profile, base));
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
