import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as base } from '@playwright/test';
import type { Browser } from 'puppeteer-core';
import { PORTS, url } from '../ports.js';
import type { BrowserDriver, Engine } from './driver.js';
import { firefoxDriver, launchFirefox } from './firefox-driver.js';
import { startWebKit, webkitDriver } from './webkit-driver.js';

/**
 * The fixture of the Firefox and WebKit runs (playwright.browsers.config.ts): one browser per
 * Playwright worker, started once and shared by its tests (a launch per test would dominate the run).
 * The project's name says which engine.
 */
export const test = base.extend<{ engine: Engine }, { driver: BrowserDriver }>({
  driver: [
    async ({}, use, workerInfo) => {
      // "webkit-fs": WebKitGTK with its Storage API and File System (OPFS) features turned on at run time.
      const project = workerInfo.project.name;
      const engine = project.replace(/-fs$/, '') as Engine;
      const baseURL = url(PORTS.e2ePreview);
      if (engine === 'firefox') {
        const dir = mkdtempSync(join(tmpdir(), 'ass-firefox-'));
        const holder: { browser: Browser } = { browser: await launchFirefox(dir) };
        await use(firefoxDriver(holder, dir, baseURL));
        await holder.browser.close().catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      } else if (engine === 'webkit') {
        const features = project === 'webkit-fs' ? ['+StorageAPI', '+StorageAPIEstimate', '+FileSystem', '+FileSystemWritableStream'] : [];
        const webkit = await startWebKit(PORTS.webkitDriver + workerInfo.parallelIndex, features);
        // No OPFS either way: with the features on, getDirectory rejects in this ephemeral session.
        await use(webkitDriver(webkit.session, baseURL, false, features.length > 0));
        await webkit.close();
      } else {
        throw new Error(`no driver for the project ${engine}`);
      }
    },
    { scope: 'worker', timeout: 120_000 },
  ],
  engine: async ({ driver }, use) => use(driver.engine),
});

export { expect } from '@playwright/test';
