import type { BrowserContext, Page } from '@playwright/test';
import * as react from '../browsers/bodies/react.js';
import { playwrightDriver } from '../browsers/playwright-driver.js';
import { PORTS, url } from '../ports.js';
import { expect, openApp, test } from './fixtures.js';

// The hooks of agent-state-store/react, rendered by React 19 in StrictMode on test/e2e/app/react.html.
// Most tests use the Vite dev server, where React is its development build: StrictMode really mounts
// every component twice (subscribe, unsubscribe, subscribe) and React's own warnings (a getSnapshot
// that is not cached, updates after unmount) are printed, which fails the test. The last test uses the
// production build.

const DEV = url(PORTS.e2eDev);
const PREVIEW = url(PORTS.e2ePreview);

interface ReactPage {
  page: Page;
  /** console errors and uncaught exceptions of the page so far */
  problems: string[];
}

async function openReactPage(context: BrowserContext, storeName: string, base = DEV): Promise<ReactPage> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) problems.push(m.text());
  });
  await page.goto(`${base}/react.html?store=${encodeURIComponent(storeName)}`);
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', undefined, { timeout: 30_000 });
  return { page, problems };
}

const storeName = (what: string) => `react-${what}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

/** Creates a thread with messages through the page's store; returns its id. */
async function seedThread(page: Page, title: string, contents: string[], at = 1_000): Promise<string> {
  return page.evaluate(
    async ({ title, contents, at }) => {
      const { store } = window.reactPage;
      const { id } = await store.createThread({ title, createdAt: at, updatedAt: at });
      for (const content of contents) await store.addMessage(id, { role: content.startsWith('Q') ? 'user' : 'assistant', content });
      // addMessage moved updatedAt to now; put it back so the list order is the test's.
      await store.updateThread(id, { updatedAt: at });
      return id;
    },
    { title, contents, at },
  );
}

const select = (page: Page, selected: string | null) => page.evaluate((selected) => window.reactPage.render({ selected }), selected);
const counts = (page: Page) => page.evaluate(() => ({ ...window.reactPage.counts }));

test.describe('agent-state-store/react in Chromium', () => {
  test("StrictMode mounts twice and each hook keeps one live query; useBranch with no thread starts none", async ({ profile }) => {
    const { page, problems } = await openReactPage(profile.context, storeName('strict'));
    await expect(page.locator('#threads')).toHaveCount(1);
    // The list's query was started twice (StrictMode's double mount) and stopped once; the chat has no thread.
    expect(await counts(page)).toEqual({ started: 2, active: 1 });
    await expect(page.locator('#branch-loading')).toBeVisible();
    const id = await seedThread(page, 'One', ['Q1']);
    await select(page, id);
    await expect(page.locator('#branch li .content')).toHaveText(['Q1']);
    // A new thread id is a new subscription, once (StrictMode repeats only mounts).
    expect(await counts(page)).toEqual({ started: 3, active: 2 });
    expect(problems).toEqual([]);
    await page.close();
  });

  test('useThreads lists the threads and moves an older thread to the top when a message is added to it', async ({ profile }) => {
    const { page, problems } = await openReactPage(profile.context, storeName('list'));
    const a = await seedThread(page, 'Alpha', [], 100);
    await seedThread(page, 'Bravo', [], 200);
    await seedThread(page, 'Charlie', [], 300);
    await expect(page.locator('#threads li')).toHaveText(['Charlie', 'Bravo', 'Alpha']);
    await page.evaluate((a) => window.reactPage.store.addMessage(a, { role: 'user', content: 'Q: back to Alpha' }), a);
    await expect(page.locator('#threads li')).toHaveText(['Alpha', 'Charlie', 'Bravo']);
    expect(problems).toEqual([]);
    await page.close();
  });

  test('useBranch shows the branch and updates when another tab adds a message and a sibling', async ({ profile }) => {
    const name = storeName('tabs');
    const { page, problems } = await openReactPage(profile.context, name);
    const id = await seedThread(page, 'Lisbon', ['Q: Three days in Lisbon?', 'Day 1: Alfama']);
    await select(page, id);
    await expect(page.locator('#branch li .content')).toHaveText(['Q: Three days in Lisbon?', 'Day 1: Alfama']);

    const other = await profile.context.newPage();
    await openApp(other, `${DEV}/`); // the React page's origin, so the same OPFS store
    const question = await other.evaluate(
      async ({ name, id }) => {
        const store = await window.openStateStore({ name });
        await store.addMessage(id, { role: 'user', content: 'Q: and Belém?' });
        const [first] = await store.getBranch(id);
        await store.close();
        return first!.id;
      },
      { name, id },
    );
    await expect(page.locator('#branch li .content')).toHaveText(['Q: Three days in Lisbon?', 'Day 1: Alfama', 'Q: and Belém?']);
    await expect(page.locator('#branch li .siblings')).toHaveText(['‹ 1/1 ›', '‹ 1/1 ›', '‹ 1/1 ›']);

    // Regenerate the first answer from the other tab: a second sibling, now the current branch.
    await other.evaluate(
      async ({ name, id, question }) => {
        const store = await window.openStateStore({ name });
        await store.addMessage(id, { role: 'assistant', content: 'Day 1: Belém', parentId: question });
        await store.close();
      },
      { name, id, question },
    );
    await expect(page.locator('#branch li .content')).toHaveText(['Q: Three days in Lisbon?', 'Day 1: Belém']);
    await expect(page.locator('#branch li .siblings')).toHaveText(['‹ 1/1 ›', '‹ 2/2 ›']);
    await other.close();
    expect(problems).toEqual([]);
    await page.close();
  });

  test("useBranch's switchBranch: ‹ on a regenerated answer brings back the older answer with its follow-ups", async ({ profile }) => {
    const { page, problems } = await openReactPage(profile.context, storeName('branches'));
    const id = await seedThread(page, 'Branches', ['Q1', 'A1', 'Q: follow-up', 'A1b']);
    // Regenerate A1: a sibling under Q1, now the current branch.
    await page.evaluate(async (id) => {
      const { store } = window.reactPage;
      const [q1] = await store.getBranch(id);
      await store.addMessage(id, { role: 'assistant', content: 'A2', parentId: q1!.id });
    }, id);
    await select(page, id);
    await expect(page.locator('#branch li .content')).toHaveText(['Q1', 'A2']);
    await expect(page.locator('#branch li .siblings')).toHaveText(['‹ 1/1 ›', '‹ 2/2 ›']);
    await page.locator('#branch li').nth(1).locator('button.previous').click();
    await expect(page.locator('#branch li .content')).toHaveText(['Q1', 'A1', 'Q: follow-up', 'A1b']);
    await expect(page.locator('#branch li .siblings')).toHaveText(['‹ 1/1 ›', '‹ 1/2 ›', '‹ 1/1 ›', '‹ 1/1 ›']);
    await page.locator('#branch li').nth(1).locator('button.next').click();
    await expect(page.locator('#branch li .content')).toHaveText(['Q1', 'A2']);
    expect(await page.evaluate(() => window.reactPage.errors)).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  test("switching the thread shows the new thread's messages and never renders the previous thread's under the new id", async ({ profile }) => {
    const { page, problems } = await openReactPage(profile.context, storeName('switch'));
    const one = await seedThread(page, 'One', ['Q: one', 'one answer', 'Q: one again']);
    const two = await seedThread(page, 'Two', ['Q: two', 'two answer']);
    await select(page, one);
    await expect(page.locator('#branch li .content')).toHaveText(['Q: one', 'one answer', 'Q: one again']);
    await select(page, two);
    await expect(page.locator('#branch li .content')).toHaveText(['Q: two', 'two answer']);
    // Quick switches, some before the previous thread's first result has arrived.
    for (let i = 0; i < 10; i++) await select(page, i % 2 === 0 ? one : two);
    await expect(page.locator('#branch')).toHaveAttribute('data-thread', two);
    await expect(page.locator('#branch li .content')).toHaveText(['Q: two', 'two answer']);
    expect(await page.locator('#branch li').evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset['thread']))).toEqual([two, two]);

    const log = await page.evaluate(() => window.reactPage.chatLog);
    const wrong = log.filter((entry) => entry.shown.some((thread) => thread !== entry.selected));
    expect(wrong).toEqual([]);
    // The log saw both threads' messages and the empty renders in between.
    expect(log.some((entry) => entry.selected === one && entry.shown.length > 0)).toBe(true);
    expect(log.some((entry) => entry.selected === two && entry.shown.length === 0)).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  test('unmounting a component stops its live query and it never renders again', async ({ profile }) => {
    const { page, problems } = await openReactPage(profile.context, storeName('unmount'));
    const id = await seedThread(page, 'One', ['Q: one']);
    await select(page, id);
    await expect(page.locator('#branch li .content')).toHaveText(['Q: one']);
    expect((await counts(page)).active).toBe(2);

    await page.evaluate(() => window.reactPage.render({ chat: false }));
    await expect(page.locator('#branch')).toHaveCount(0);
    expect((await counts(page)).active).toBe(1);
    const before = await page.evaluate(() => ({ ...window.reactPage.renders }));
    await page.evaluate((id) => window.reactPage.store.addMessage(id, { role: 'assistant', content: 'after unmount' }), id);
    // The list still hears the change (its thread's updatedAt moved), so the change did go out.
    await expect.poll(() => page.evaluate(() => window.reactPage.renders.list)).toBeGreaterThan(before.list);
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => window.reactPage.renders.chat)).toBe(before.chat);

    await page.evaluate(() => window.reactPage.render({ list: false }));
    await expect(page.locator('#threads')).toHaveCount(0);
    expect((await counts(page)).active).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  test('a streamed reply renders its final text after far fewer renders than it had deltas', async ({ profile }) => {
    const { page, problems } = await openReactPage(profile.context, storeName('stream'));
    const id = await seedThread(page, 'Stream', ['Q: tell me a story']);
    await select(page, id);
    await expect(page.locator('#branch li .content')).toHaveText(['Q: tell me a story']);

    const deltas = 400;
    const result = await page.evaluate(
      async ({ id, deltas }) => {
        const { store, renders } = window.reactPage;
        const before = renders.chat;
        const messageId = await store.beginMessage(id, 'assistant');
        const sent: Promise<void>[] = [];
        for (let i = 0; i < deltas; i++) {
          sent.push(store.appendMessageDelta(messageId, `w${i} `));
          if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 40));
        }
        await Promise.all(sent);
        await store.finishMessage(messageId);
        return { before, text: Array.from({ length: deltas }, (_, i) => `w${i} `).join('') };
      },
      { id, deltas },
    );
    await expect(page.locator('#branch li .content')).toHaveText(['Q: tell me a story', result.text]);
    await expect(page.locator('#branch li').last()).toHaveAttribute('data-status', 'complete');
    const rendered = (await page.evaluate(() => window.reactPage.renders.chat)) - result.before;
    console.log(`streamed ${deltas} deltas: ${rendered} chat renders (StrictMode renders twice)`);
    expect(rendered).toBeGreaterThan(1);
    expect(rendered).toBeLessThan(deltas / 10);
    expect(problems).toEqual([]);
    await page.close();
  });

  test('onError hears NOT_FOUND for a thread that does not exist, and the branch stays undefined', async ({ profile }) => {
    const { page, problems } = await openReactPage(profile.context, storeName('missing'));
    await select(page, 'no-such-thread');
    await expect.poll(() => page.evaluate(() => window.reactPage.errors)).toEqual(['NOT_FOUND']);
    await expect(page.locator('#branch-loading')).toBeVisible();
    expect(problems).toEqual([]);
    await page.close();
  });

  test('the production build of the page works too', async ({ profile }) => {
    const { page, problems } = await openReactPage(profile.context, storeName('prod'), PREVIEW);
    const id = await seedThread(page, 'Prod', ['Q: built?', 'yes']);
    await select(page, id);
    await expect(page.locator('#threads li')).toHaveText(['Prod']);
    await expect(page.locator('#branch li .content')).toHaveText(['Q: built?', 'yes']);
    await page.evaluate((id) => window.reactPage.store.addMessage(id, { role: 'user', content: 'Q: live?' }), id);
    await expect(page.locator('#branch li .content')).toHaveText(['Q: built?', 'yes', 'Q: live?']);
    // Production React does not repeat mounts in StrictMode.
    expect(await counts(page)).toEqual({ started: 2, active: 2 });
    expect(problems).toEqual([]);
    await page.close();
  });
});

// Shared with Firefox (test/browsers/bodies/react.ts), on the production build.
test("the React hooks render the store and follow another tab's writes (shared body)", async ({ profile }) => {
  await react.hooksFollowAnotherTab(playwrightDriver(profile, PREVIEW));
});
