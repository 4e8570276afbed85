import { copyFileSync, mkdirSync } from 'node:fs';
import type { BrowserContext, Locator, Page } from '@playwright/test';
import { PORTS, url } from '../ports.js';
import { expect, test as base } from './fixtures.js';

/** Where the demo's production build is served (see playwright.config.ts). */
export const DEMO_URL = `${url(PORTS.demoPreview)}/`;

/** The demo, opened on a store of its own so tests never see each other's data. */
export interface Demo {
  page: Page;
  store: string;
  /** Opens the demo again in this tab (a reload keeps the URL, so the store and the selected thread). */
  reload(): Promise<void>;
}

/** Opens the demo on `store` in a new tab and waits until it has rendered from the store. */
export async function openDemo(context: BrowserContext, store: string, viewport = { width: 1280, height: 860 }): Promise<Page> {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  await page.goto(`${DEMO_URL}?store=${store}`);
  await expect(page.locator('body[data-ready="true"]')).toBeAttached({ timeout: 30_000 });
  return page;
}

/**
 * `demo`: a tab of the demo in the worker's persistent on-disk profile, on a fresh store. Any
 * uncaught error in the page fails the test.
 */
export const test = base.extend<{ demo: Demo }>({
  demo: async ({ profile }, use, testInfo) => {
    const store = `demo-${testInfo.testId.slice(0, 8)}-${Date.now().toString(36)}`;
    const page = await openDemo(profile.context, store);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await use({
      page,
      store,
      reload: async () => {
        await page.reload();
        await expect(page.locator('body[data-ready="true"]')).toBeAttached({ timeout: 30_000 });
      },
    });
    await page.close();
    if (errors.length > 0) throw new Error(`uncaught errors in the demo: ${errors.join('; ')}`);
  },
});

export { expect };

/** The current branch's messages: the list's own items (a reply's Markdown may hold lists of its own). */
export function messages(page: Page): Locator {
  return page.getByRole('list', { name: 'Messages', exact: true }).locator(':scope > li');
}

/** Clicks "New chat" (opening the thread drawer first on a narrow screen) and waits for the empty chat. */
export async function newThread(page: Page): Promise<void> {
  const button = page.getByRole('button', { name: 'New chat' });
  if (!(await button.isVisible())) await page.getByRole('button', { name: 'Threads', exact: true }).click();
  await button.click();
  await expect(page.getByRole('textbox', { name: 'Message' })).toBeEnabled();
  await expect(page.getByText('What can the agent do for you?')).toBeVisible();
  await expect(messages(page)).toHaveCount(0);
}

/** Waits until the agent is not streaming and `count` finished agent replies are on the branch. */
export async function waitForReplies(page: Page, count: number): Promise<void> {
  await expect(page.locator('.message.role-assistant:not(.streaming)')).toHaveCount(count, { timeout: 20_000 });
  await expect(page.locator('.message.streaming')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Send', exact: true })).toBeEnabled();
}

/** Waits for a reply that starts now (after an edit or a regenerate, when the count alone may already match). */
export async function waitForNewReply(page: Page, repliesAfter: number): Promise<void> {
  await expect(page.locator('.message.streaming')).toBeVisible();
  await waitForReplies(page, repliesAfter);
}

/** Types a message in the composer, sends it with Enter and waits for the reply. */
export async function say(page: Page, text: string, repliesAfter: number): Promise<void> {
  const composer = page.getByRole('textbox', { name: 'Message' });
  await composer.fill(text);
  await composer.press('Enter');
  await waitForReplies(page, repliesAfter);
}

/**
 * Saves a screenshot of `target` in the test's output directory and attaches it to the report; with
 * UPDATE_SCREENSHOTS=1 it also replaces demo/screenshots/<name>.png, the pictures the README shows.
 */
export async function shoot(target: Page | Locator, name: string, { showToasts = false } = {}): Promise<void> {
  const path = base.info().outputPath(`${name}.png`);
  // A focus ring left by the last click is noise in a picture of the panel.
  const page = 'page' in target ? target.page() : target;
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  // Toasts float over whatever is below them; only the picture of a toast itself wants them.
  await target.screenshot({ path, animations: 'disabled', caret: 'hide', ...(showToasts ? {} : { style: '#toasts { visibility: hidden; }' }) });
  await base.info().attach(name, { path, contentType: 'image/png' });
  if (process.env['UPDATE_SCREENSHOTS'] === '1') {
    const dir = new URL('../../demo/screenshots/', import.meta.url);
    mkdirSync(dir, { recursive: true });
    copyFileSync(path, new URL(`${name}.png`, dir));
  }
}

/** The computed opacity of the hover actions of `message` (they fade in, so poll it). */
export function actionsOpacity(message: Locator): Promise<number> {
  return message.locator('.message-actions').evaluate((el) => Number(getComputedStyle(el).opacity));
}
