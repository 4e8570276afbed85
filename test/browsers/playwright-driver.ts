import { execFileSync } from 'node:child_process';
import type { BrowserContext, Page } from '@playwright/test';
import { isReady, type BrowserDriver, type Tab } from './driver.js';

/** A Playwright page as a Tab. */
export function playwrightTab(page: Page, baseURL: string): Tab {
  return {
    evaluate: (fn, arg) => page.evaluate(fn as never, arg) as never,
    async open(path = '/') {
      await page.goto(new URL(path, baseURL).href);
      await page.waitForFunction(isReady);
    },
    async reload() {
      await page.reload();
      await page.waitForFunction(isReady);
    },
    close: () => page.close(),
  };
}

/** The pids of the processes started with this (unique) profile directory on their command line. */
function processesOfProfile(dir: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', '--', `--user-data-dir=${dir}`], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Chromium through Playwright, on a persistent on-disk profile. `launch` starts it on `dir`; the
 * driver keeps the current context in `holder.context` so the Chromium specs can use it too.
 */
export function playwrightDriver(holder: { context: BrowserContext }, baseURL: string, launch?: () => Promise<BrowserContext>, dir?: string): BrowserDriver {
  const driver: BrowserDriver = {
    engine: 'chromium',
    opfs: true,
    async newTab(path = '/') {
      const page = await holder.context.newPage();
      const tab = playwrightTab(page, baseURL);
      await tab.open(path);
      return tab;
    },
  };
  if (launch && dir) {
    driver.restart = async () => {
      await holder.context.close();
      holder.context = await launch();
    };
    driver.killAndRestart = async () => {
      // Only this profile's processes (the directory is a fresh mkdtemp), by their pids.
      const pids = processesOfProfile(dir);
      if (pids.length === 0) throw new Error(`no Chromium process runs on the profile ${dir}`);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await holder.context.close().catch(() => {});
      holder.context = await launch();
    };
  }
  return driver;
}
