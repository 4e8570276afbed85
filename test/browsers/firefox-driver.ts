import type { Browser, Page } from 'puppeteer-core';
import puppeteer from 'puppeteer-core';
import { isReady, type BrowserDriver, type Tab } from './driver.js';

/** Debian's Firefox ESR (FIREFOX_PATH overrides it). */
export const FIREFOX_PATH = process.env['FIREFOX_PATH'] || '/usr/bin/firefox-esr';

/** Starts Firefox with WebDriver BiDi on the on-disk profile `dir`. */
export function launchFirefox(dir: string): Promise<Browser> {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX_PATH,
    headless: true,
    userDataDir: dir,
    protocolTimeout: 300_000,
    extraPrefsFirefox: {
      'dom.workers.maxPerDomain': 512,
      'browser.shell.checkDefaultBrowser': false,
      // Tabs opened by the tests are background tabs, whose timers Firefox clamps to 1 s (a test that
      // paces writes 25 ms apart took a minute). Playwright's Chromium runs with background timer
      // throttling off too (--disable-background-timer-throttling), so both engines are timed alike.
      'dom.min_background_timeout_value': 4,
      'dom.min_background_timeout_value_without_budget_throttling': 4,
      'dom.timeout.enable_budget_timer_throttling': false,
    },
  });
}

function firefoxTab(page: Page, baseURL: string): Tab {
  return {
    evaluate: (fn, arg) => page.evaluate(fn as never, arg as never) as never,
    async open(path = '/') {
      await page.goto(new URL(path, baseURL).href);
      await page.waitForFunction(isReady, { timeout: 60_000 });
    },
    async reload() {
      await page.reload();
      await page.waitForFunction(isReady, { timeout: 60_000 });
    },
    close: () => page.close(),
  };
}

/** Firefox as a BrowserDriver; `holder.browser` is the running browser, replaced on a restart. */
export function firefoxDriver(holder: { browser: Browser }, dir: string, baseURL: string): BrowserDriver {
  return {
    engine: 'firefox',
    opfs: true,
    async newTab(path = '/') {
      const tab = firefoxTab(await holder.browser.newPage(), baseURL);
      await tab.open(path);
      return tab;
    },
    async restart() {
      await holder.browser.close();
      holder.browser = await launchFirefox(dir);
    },
    async killAndRestart() {
      const child = holder.browser.process();
      // puppeteer starts Firefox in its own process group: kill that group, by its id.
      if (child?.pid) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }
      await holder.browser.close().catch(() => {});
      holder.browser = await launchFirefox(dir);
    },
  };
}
