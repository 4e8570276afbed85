/**
 * The small driver interface that every browser runner implements, so that one test body runs in
 * Chromium (Playwright), Firefox (puppeteer-core over WebDriver BiDi) and WebKitGTK (W3C WebDriver
 * through WebKitWebDriver). A body opens tabs of the test app and evaluates self-contained functions
 * in them (no closures: the function's source is sent to the page), exactly like page.evaluate().
 */

export type Engine = 'chromium' | 'firefox' | 'webkit';

/** One tab of a browser, showing a page of the test app. */
export interface Tab {
  /** Runs `fn(arg)` in the page and returns its (awaited, JSON-like) result. */
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<Awaited<R>>;
  /** Loads `path` of the test app (default "/") and waits until the page says it is ready. */
  open(path?: string): Promise<void>;
  /** Reloads the page and waits until it is ready again. */
  reload(): Promise<void>;
  /** Closes the tab (its workers go with it). */
  close(): Promise<void>;
}

export interface BrowserDriver {
  readonly engine: Engine;
  /** Whether this browser's workers have OPFS with sync access handles (what the store's `auto` looks for). */
  readonly opfs: boolean;
  /** The page has navigator.storage.getDirectory, but it rejects (an ephemeral session, a private window). */
  readonly getDirectoryRejects?: boolean;
  /** A new tab in the same profile, with `path` of the test app opened (default "/"). */
  newTab(path?: string): Promise<Tab>;
  /**
   * Kills the browser's processes (SIGKILL, nothing flushed) and starts it again on the same on-disk
   * profile. Every tab is gone. Absent where the profile is not on disk (WebKitGTK's automation mode).
   */
  killAndRestart?(): Promise<void>;
  /** Closes the browser normally and starts it again on the same profile. */
  restart?(): Promise<void>;
}

/** The page says it is ready: the test app (test/e2e/app/main.ts and its sibling pages) or the demo (body[data-ready]). */
export const isReady = (): boolean => document.getElementById('status')?.textContent === 'ready' || document.body?.dataset['ready'] === 'true';
