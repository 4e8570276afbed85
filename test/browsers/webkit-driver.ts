import { spawn, type ChildProcess } from 'node:child_process';
import { isReady, type BrowserDriver, type Tab } from './driver.js';

/**
 * WebKitGTK through WebKitWebDriver (Debian's webkit2gtk-driver), with plain W3C WebDriver HTTP calls:
 * the driver runs MiniBrowser under xvfb-run. MiniBrowser in automation mode keeps its website data in
 * memory (no profile on disk), so data survives reloads within a session, not a browser restart.
 */

export const WEBKIT_DRIVER_PATH = process.env['WEBKIT_DRIVER_PATH'] || '/usr/bin/WebKitWebDriver';
export const MINIBROWSER_PATH = process.env['MINIBROWSER_PATH'] || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

interface Session {
  base: string;
  id: string;
  driver: ChildProcess;
}

async function http(method: string, url: string, body?: unknown): Promise<unknown> {
  const response = await fetch(url, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const json = (await response.json().catch(() => ({}))) as { value?: unknown };
  if (!response.ok) {
    const value = json.value as { error?: string; message?: string } | undefined;
    throw new Error(`WebDriver ${method} ${url.replace(/^.*\/session\/[^/]+/, '')}: ${value?.error ?? response.status} ${value?.message ?? ''}`);
  }
  return json.value;
}

/** Starts WebKitWebDriver (under xvfb-run) on `port` and opens a session; `close` ends both. */
export async function startWebKit(port: number, features: string[] = []): Promise<{ session: Session; close(): Promise<void> }> {
  // Its own process group, so that the driver, Xvfb and MiniBrowser are ended together, by the group's id.
  const driver = spawn('xvfb-run', ['-a', WEBKIT_DRIVER_PATH, `--port=${port}`], { detached: true, stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const status = (await http('GET', `${base}/status`)) as { ready?: boolean };
      if (status.ready) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || driver.exitCode !== null) throw new Error(`WebKitWebDriver did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const created = (await http('POST', `${base}/session`, {
    capabilities: { alwaysMatch: { browserName: 'MiniBrowser', 'webkitgtk:browserOptions': { binary: MINIBROWSER_PATH, args: ['--automation', ...(features.length ? [`--features=${features.join(',')}`] : [])] } } },
  })) as { sessionId: string };
  const session = { base, id: created.sessionId, driver };
  await http('POST', `${base}/session/${session.id}/timeouts`, { script: 600_000, pageLoad: 60_000 });
  return {
    session,
    async close() {
      await http('DELETE', `${base}/session/${session.id}`).catch(() => {});
      if (driver.pid) {
        try {
          process.kill(-driver.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    },
  };
}

// The function runs as the body of an async script: its result (or error) goes back through the callback.
const wrap = (source: string) => `
const done = arguments[arguments.length - 1];
const arg = arguments[0];
Promise.resolve().then(() => (${source})(arg)).then(
  (value) => done({ value: value === undefined ? null : value }),
  (error) => done({ error: String((error && error.message) || error), stack: String(error && error.stack) }),
);`;

/** WebKit as a BrowserDriver. WebDriver drives one window at a time, so calls take turns. */
export function webkitDriver(session: Session, baseURL: string, opfs = false, getDirectoryRejects = false): BrowserDriver {
  const root = `${session.base}/session/${session.id}`;
  let turn: Promise<unknown> = Promise.resolve();
  let current: string | null = null;
  let firstUsed = false;
  let firstHandle: string | null = null;
  const inTurn = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = turn.then(fn, fn);
    turn = run.catch(() => {});
    return run;
  };
  const select = async (handle: string) => {
    if (current !== handle) await http('POST', `${root}/window`, { handle });
    current = handle;
  };
  const waitReady = async () => {
    const deadline = Date.now() + 60_000;
    while (!(await http('POST', `${root}/execute/sync`, { script: `return (${isReady.toString()})()`, args: [] }))) {
      if (Date.now() > deadline) throw new Error('the test app did not get ready');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const tab = (handle: string): Tab => ({
    evaluate: (fn, arg) =>
      inTurn(async () => {
        await select(handle);
        const result = (await http('POST', `${root}/execute/async`, { script: wrap(fn.toString()), args: [arg === undefined ? null : arg] })) as { value?: unknown; error?: string; stack?: string };
        if (result && 'error' in result && result.error !== undefined) throw new Error(`in WebKit: ${result.error}\n${result.stack ?? ''}`);
        return result.value as never;
      }),
    open: (path = '/') =>
      inTurn(async () => {
        await select(handle);
        await http('POST', `${root}/url`, { url: new URL(path, baseURL).href });
        await waitReady();
      }),
    reload: () =>
      inTurn(async () => {
        await select(handle);
        await http('POST', `${root}/refresh`, {});
        await waitReady();
      }),
    close: () =>
      inTurn(async () => {
        await select(handle);
        if (handle === firstHandle) {
          // WebDriver ends the session with its last window: the first one stays, blank, for the next tab.
          await http('POST', `${root}/url`, { url: 'about:blank' });
          firstUsed = false;
          return;
        }
        await http('DELETE', `${root}/window`);
        current = null;
      }),
  });
  return {
    engine: 'webkit',
    opfs,
    getDirectoryRejects,
    newTab: async (path = '/') => {
      const handle = await inTurn(async () => {
        if (!firstUsed) {
          // The session's own first window is the first tab.
          firstUsed = true;
          firstHandle ??= (await http('GET', `${root}/window`)) as string;
          return firstHandle;
        }
        const made = (await http('POST', `${root}/window/new`, { type: 'tab' })) as { handle: string };
        return made.handle;
      });
      const t = tab(handle);
      await t.open(path);
      return t;
    },
  };
}
