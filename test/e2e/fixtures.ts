import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, test as base, type BrowserContext, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../playwright.config.js';

/** Launches Debian's Chromium with an on-disk profile, so OPFS and IndexedDB are real files. */
export async function launchProfile(dir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(dir, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/** A fresh profile directory; remove it with `rmSync(dir, { recursive: true })`. */
export function newProfileDir(): string {
  return mkdtempSync(join(tmpdir(), 'ass-profile-'));
}

/** Opens the test app and waits until it has put its API on `window`. */
export async function openApp(page: Page, url = '/'): Promise<void> {
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
}

type WorkerFixtures = { profile: { context: BrowserContext; dir: string } };
type TestFixtures = { app: Page };

/**
 * `app`: a page of the test app in a persistent on-disk profile shared by the tests of one
 * Playwright worker (a browser launch per test would dominate the run time).
 */
export const test = base.extend<TestFixtures, WorkerFixtures>({
  profile: [
    async ({}, use) => {
      const dir = newProfileDir();
      const context = await launchProfile(dir);
      await use({ context, dir });
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],
  app: async ({ profile, baseURL }, use) => {
    const page = await profile.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await openApp(page, baseURL ?? '/');
    await use(page);
    await page.close();
    if (errors.length > 0) throw new Error(`uncaught errors in the page: ${errors.join('; ')}`);
  },
});

export { expect } from '@playwright/test';
