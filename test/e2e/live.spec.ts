import type { BrowserContext, Page } from '@playwright/test';
import type { BranchMessage, StoreChange, ThreadMetadata } from '../../src/core/index.js';
import { storeChannels } from '../../src/wire.js';
import * as live from '../browsers/bodies/live.js';
import { playwrightDriver } from '../browsers/playwright-driver.js';
import { PORTS, url } from '../ports.js';
import { expect, openApp, test } from './fixtures.js';

const base = url(PORTS.e2ePreview);
// Four of these tests are shared with Firefox (test/browsers/bodies/live.ts).

/**
 * Live queries and change notices across tabs of one profile: what tab A writes, tab B's watchBranch,
 * watchThreads and subscribe hear, coalesced; and a tab that takes the lead tells every subscriber.
 */

type LiveWindow = Window & {
  store: Awaited<ReturnType<typeof window.openStateStore>>;
  branches: BranchMessage[][];
  lists: ThreadMetadata[][];
  changes: StoreChange[];
  frameCount: number;
};

async function openTabs(context: BrowserContext, count: number, name: string): Promise<Page[]> {
  const pages: Page[] = [];
  for (let i = 0; i < count; i++) {
    const page = await context.newPage();
    await openApp(page);
    await page.evaluate(async (name) => {
      const w = window as unknown as LiveWindow;
      w.store = await window.openStateStore({ name });
      w.branches = [];
      w.lists = [];
      w.changes = [];
    }, name);
    pages.push(page);
  }
  return pages;
}

/** The tab whose worker leads, first. */
async function leaderFirst(tabs: Page[]): Promise<Page[]> {
  const leads = await Promise.all(tabs.map((p) => p.evaluate(async () => (await (window as unknown as LiveWindow).store.info()).leader)));
  expect(leads.filter(Boolean)).toHaveLength(1);
  return [...tabs].sort((a, b) => Number(leads[tabs.indexOf(b)]) - Number(leads[tabs.indexOf(a)]));
}

const branches = (page: Page) => page.evaluate(() => (window as unknown as LiveWindow).branches);
const contentsOf = (branch: BranchMessage[] | undefined) => (branch ?? []).map((m) => m.content);

test("watchBranch in tab B delivers tab A's addMessage", async ({ profile }) => {
  await live.watchBranchDeliversOtherTabsWrite(playwrightDriver(profile, base));
});

test("watchBranch in tab B follows tab A's stream, at most once per frame and far fewer times than deltas, ending with the whole text", async ({ profile }) => {
  const [a, b] = await openTabs(profile.context, 2, `live-stream-${crypto.randomUUID()}`);
  const id = await a!.evaluate(async () => {
    const { store } = window as unknown as LiveWindow;
    await store.createThread({ id: 't' });
    await store.addMessage('t', { role: 'user', content: 'tell me a story' });
    return store.beginMessage('t', 'assistant');
  });
  await b!.evaluate(() => {
    const w = window as unknown as LiveWindow;
    w.frameCount = 0;
    const tick = () => {
      w.frameCount++;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    w.store.watchBranch('t', (branch) => w.branches.push(branch));
  });
  await expect.poll(async () => (await branches(b!)).length).toBe(1);
  const framesBefore = await b!.evaluate(() => (window as unknown as LiveWindow).frameCount);
  const DELTAS = 200;
  // As a model streams: chunks of 10 tokens 25 ms apart, longer than the delta buffer's 200 ms in all.
  const whole = await a!.evaluate(
    async ({ id, count }) => {
      const { store } = window as unknown as LiveWindow;
      const parts = Array.from({ length: count }, (_, i) => `token${i} `);
      for (let i = 0; i < count; i += 10) {
        await Promise.all(parts.slice(i, i + 10).map((part) => store.appendMessageDelta(id, part)));
        await new Promise((r) => setTimeout(r, 25));
      }
      await store.finishMessage(id);
      return parts.join('');
    },
    { id, count: DELTAS },
  );
  await expect.poll(async () => (await branches(b!)).at(-1)?.at(-1)?.status).toBe('complete');
  const { seen, frames, visible } = await b!.evaluate(() => {
    const w = window as unknown as LiveWindow;
    return { seen: w.branches, frames: w.frameCount, visible: document.visibilityState };
  });
  expect(visible).toBe('visible');
  const answers = seen.slice(1).map((branch) => branch.at(-1)!);
  expect(answers.at(-1)!.content).toBe(whole);
  // B saw the text grow while it streamed, not only at the end.
  expect(answers.some((m) => m.status === 'streaming' && m.content.length > 0 && m.content.length < whole.length)).toBe(true);
  expect(answers.length).toBeLessThanOrEqual(frames - framesBefore + 1);
  expect(answers.length).toBeLessThan(DELTAS / 2);
  await Promise.all([a!.close(), b!.close()]);
});

test('watchThreads in tab B moves a thread to the top when tab A adds a message to it', async ({ profile }) => {
  await live.watchThreadsReorders(playwrightDriver(profile, base));
});

test("when the leader's tab closes, tab B's subscribers hear a leader notice and B's info() says it leads", async ({ profile }) => {
  await live.leaderNoticeAfterLeaderCloses(playwrightDriver(profile, base));
});

test("a live query in tab B keeps delivering after the leader's tab closes", async ({ profile }) => {
  await live.liveQuerySurvivesFailover(playwrightDriver(profile, base));
});

test('a visible page re-runs a live query at most once per animation frame, however fast change notices come', async ({ app }) => {
  const name = `live-frames-${crypto.randomUUID()}`;
  const result = await app.evaluate(
    async ({ name, changesChannel }) => {
      // Count the live query's reads as they leave for the worker: every getBranch call is one message.
      let reads = 0;
      const post = Worker.prototype.postMessage;
      Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker['postMessage']>) {
        if (JSON.stringify(args[0] ?? null).includes('"getBranch"')) reads++;
        return post.apply(this, args);
      } as Worker['postMessage'];
      const store = await window.openStateStore({ name });
      await store.createThread({ id: 't' });
      let frames = 0;
      let counting = true;
      const tick = () => {
        frames++;
        if (counting) requestAnimationFrame(tick);
      };
      const stop = store.watchBranch('t', () => {});
      await new Promise((r) => setTimeout(r, 200));
      const readsBefore = reads;
      requestAnimationFrame(tick);
      // Notices of thread t, one task apart (a few ms, well under a frame), as a busy writer in another tab sends them.
      const notices = new BroadcastChannel(changesChannel);
      const NOTICES = 100;
      for (let i = 0; i < NOTICES; i++) {
        notices.postMessage([{ kind: 'message', method: 'addMessage', threadId: 't', id: i }]);
        await new Promise((r) => setTimeout(r, 0));
      }
      await new Promise((r) => setTimeout(r, 200));
      counting = false;
      notices.close();
      stop();
      await store.close();
      Worker.prototype.postMessage = post;
      return { visible: document.visibilityState, notices: NOTICES, reads: reads - readsBefore, frames };
    },
    { name, changesChannel: storeChannels(name).changes },
  );
  expect(result.visible).toBe('visible');
  // Unless notices came faster than frames, the test shows nothing: make sure they did.
  expect(result.notices).toBeGreaterThan(result.frames);
  expect(result.reads).toBeGreaterThan(0);
  expect(result.reads).toBeLessThanOrEqual(result.frames);
});

test("watching its own stream does not make the leader commit the delta buffer once a frame: re-reads leave it to its 200 ms flush", async ({ app }) => {
  const result = await app.evaluate(async () => {
    const store = await window.openStateStore({ name: `live-flush-${crypto.randomUUID()}` });
    const thread = await store.createThread({ id: 't' });
    let deliveries = 0;
    const stop = store.watchBranch(thread.id, () => void deliveries++);
    const id = await store.beginMessage('t', 'assistant');
    const before = (await store.info()).commits ?? 0;
    const started = performance.now();
    // A paced stream, as a model sends it: a delta every 10 ms for about two seconds.
    for (let i = 0; i < 200; i++) {
      await store.appendMessageDelta(id, `w${i} `);
      await new Promise((r) => setTimeout(r, 10));
    }
    const elapsed = performance.now() - started;
    const commits = ((await store.info()).commits ?? 0) - before;
    await store.finishMessage(id);
    stop();
    await store.close();
    return { commits, elapsed, deliveries };
  });
  console.log(`stream watched by its own tab: ${result.commits} commits in ${Math.round(result.elapsed)} ms, ${result.deliveries} deliveries`);
  // The buffer flushes 200 ms after the first delta it holds, so a stream of T ms makes at most
  // ceil(T / 200) + 1 commits; a re-read that wrote the buffer would add one per re-read.
  expect(result.commits).toBeLessThanOrEqual(Math.ceil(result.elapsed / 200) + 1);
  expect(result.deliveries).toBeGreaterThan(1);
});
