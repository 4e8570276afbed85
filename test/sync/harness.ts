import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { BrowserContext, Page } from '@playwright/test';
import { expect } from '@playwright/test';
import { unstable_dev } from 'wrangler';
import type { StateStoreClient } from 'agent-state-store';
import type { SyncState } from '../../src/core/types.js';
import { loadEngine } from '../../src/driver/engine.js';
import { oo1Driver, type Oo1Database, type Oo1Engine } from '../../src/driver/oo1.js';
import { launchProfile, newProfileDir, openApp } from '../e2e/fixtures.js';
import { PORTS } from '../ports.js';
import { syncedDump } from '../support/sync-dump.js';

/**
 * The sync suite's harness: one local sync server (the test Worker of test/sync/server under wrangler's
 * workerd, persisting to a directory it can be stopped and restarted on), and Chromium "devices", each a
 * persistent context with a profile of its own, whose pages open a store with sync through the test app
 * (test/e2e/app, served by playwright.sync.config.ts). Nothing is mocked: the pages talk to the server over
 * real WebSockets, the stores live in OPFS, the server's in its Durable Object's SQLite.
 */

declare global {
  interface Window {
    /** The store the sync suite opened in this page. */
    syncStore?: StateStoreClient;
    /** What the store's getToken returns; a test changes it to hand the store a new token. */
    syncToken?: string;
  }
}

type Worker = Awaited<ReturnType<typeof unstable_dev>>;

/** The stores the scenarios use on the server: each has its own token, `tok-<store>`. `bob-token` is for bob's store only. */
export const SYNC_STORES = ['s1', 's2', 's3', 's4', 's5', 's6', 's7', 'demo-a', 'mech'] as const;

/** The bearer token that opens `store` on the test server. */
export const tokenFor = (store: string): string => `tok-${store}`;

/** The token of another user, bob: the server maps it to bob's store and nothing else. */
export const BOB_TOKEN = 'bob-token';

/** token → store, as the test Worker's SYNC_TOKENS reads it. */
export const SYNC_TOKENS: Record<string, string> = Object.fromEntries([...SYNC_STORES.map((s) => [tokenFor(s), s]), [BOB_TOKEN, 'bob']]);

/** The local sync server: started, stopped (the workerd process ends) and started again on the same persistence directory. */
export class SyncServer {
  readonly port = PORTS.syncServer;
  #dir: string | null = null;

  /** The server's directory (its persistence under `state/`), made at the first start and kept across restarts. */
  get dir(): string {
    this.#dir ??= mkdtempSync(join(tmpdir(), 'ass-sync-server-'));
    return this.#dir;
  }
  #worker: Worker | null = null;

  /** The store's URL on the router, as a page gives it to openStateStore's `sync.url`. */
  storeUrl(store: string): string {
    return `http://127.0.0.1:${this.port}/stores/${encodeURIComponent(store)}`;
  }

  get running(): boolean {
    return this.#worker !== null;
  }

  /** Starts workerd on the test Worker, persisting to this server's directory (the same one every time). */
  async start(): Promise<void> {
    if (this.#worker) return;
    this.#worker = await unstable_dev('test/sync/server/worker.ts', {
      config: 'test/sync/server/wrangler.jsonc',
      ip: '127.0.0.1',
      port: this.port,
      logLevel: 'error',
      persistTo: join(this.dir, 'state'),
      vars: { SYNC_TOKENS: JSON.stringify(SYNC_TOKENS) },
      experimental: { disableExperimentalWarning: true, disableDevRegistry: true, watch: false },
    });
  }

  /** Stops workerd: every open socket drops, and whatever the object had not committed is gone. */
  async stop(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    await worker?.stop();
  }

  /** Stops the server for good and removes its directory. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = null;
  }

  /** A request to the running server. */
  async fetch(path: string, init?: Parameters<Worker['fetch']>[1]): Promise<Response> {
    if (!this.#worker) throw new Error('the sync server is not running');
    return (await this.#worker.fetch(path, init)) as unknown as Response;
  }

  /** The server's copy of a store: the router's export (a SQLite file), dumped with sqlite-wasm in Node. */
  async dump(store: string): Promise<Dump> {
    const response = await this.fetch(`/stores/${encodeURIComponent(store)}/export`, { headers: { authorization: `Bearer ${tokenFor(store)}` } });
    expect(response.status, `export of ${store}`).toBe(200);
    return fileDump(new Uint8Array(await response.arrayBuffer()));
  }
}

/**
 * A dump of what every device and the server must agree on after sync: test/support/sync-dump.ts's
 * syncedDump, the canonical dump of every table without
 * - `threads.current_leaf_id` (each device's current leaf is its own by design: the merge rules),
 * - the sync bookkeeping tables (names starting `sync_`), `applied_requests` (one browser's tab request
 *   log) and `sqlite_sequence` (allocator state), and the sync tables' and triggers' schema.
 */
export type Dump = Record<string, string[]>;

/** The rows of one table of a dump, parsed. */
export function rowsOf(dump: Dump, table: string): Array<Record<string, unknown>> {
  return (dump[table] ?? []).map((row) => JSON.parse(row) as Record<string, unknown>);
}

const MINIFLARE_NAME_TABLE = '__miniflare_do_name';

/** Dumps a SQLite file with sqlite-wasm in Node (syncedDump). */
export async function fileDump(bytes: Uint8Array): Promise<Dump> {
  const sqlite3 = await loadEngine();
  const engine = sqlite3 as unknown as Oo1Engine;
  const db = oo1Driver(engine, new sqlite3.oo1.DB(':memory:', 'c') as unknown as Oo1Database).openImage(bytes);
  try {
    const dump = await syncedDump((sql) => db.all(sql));
    // wrangler's local runtime keeps each object's name in a table of its own, `__miniflare_do_name`, which
    // an export of the object's storage carries; it is the runtime's, not the store's (deployed, it is absent).
    delete dump[MINIFLARE_NAME_TABLE];
    if (dump['(schema)']) dump['(schema)'] = dump['(schema)'].filter((entry) => !entry.startsWith(`table ${MINIFLARE_NAME_TABLE}:`));
    return dump;
  } finally {
    db.close();
  }
}

/** A Chromium device: a persistent context on a profile directory of its own, with pages of the test app. */
export class Device {
  readonly errors: string[] = [];
  private constructor(
    readonly label: string,
    readonly context: BrowserContext,
    readonly dir: string,
  ) {}

  /** Launches a device with a fresh profile. */
  static async launch(label: string): Promise<Device> {
    const dir = newProfileDir();
    return new Device(label, await launchProfile(dir), dir);
  }

  /** A new tab on the test app, its uncaught errors collected in `errors`. */
  async newPage(baseURL: string): Promise<Page> {
    const page = await this.context.newPage();
    page.on('pageerror', (e) => this.errors.push(`${this.label}: ${e.message}`));
    await openApp(page, baseURL);
    return page;
  }

  /** Cuts the device off the network (DevTools offline emulation, as Playwright's setOffline) or brings it back. */
  async setOffline(offline: boolean): Promise<void> {
    await this.context.setOffline(offline);
  }

  /** Closes the browser and removes the profile. */
  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Opens `name` with sync in the page (as window.syncStore), getToken answering window.syncToken. */
export async function openSynced(page: Page, name: string, url: string, token: string, durability: 'strict' | 'relaxed' = 'strict'): Promise<void> {
  await page.evaluate(
    async ({ name, url, token, durability }) => {
      window.syncToken = token;
      window.syncStore = await window.openStateStore({ name, durability, sync: { url, getToken: async () => window.syncToken ?? '' } });
    },
    { name, url, token, durability },
  );
}

/** The page store's sync status (info().sync). */
export async function syncState(page: Page): Promise<SyncState> {
  return page.evaluate(async () => {
    const info = await window.syncStore!.info();
    const sync = (info as { sync?: SyncState }).sync;
    if (!sync) throw new Error('info().sync is missing: the store was not opened with sync');
    return sync;
  });
}

/**
 * Waits until the page's store says `synced` with nothing pending; returns the state then. Polls
 * info() in the page (every 50 ms), so that the time it reports is the page's own.
 */
export async function waitSynced(page: Page, timeoutMs = 60_000): Promise<SyncState> {
  const result = await page.evaluate(
    async ({ timeoutMs }) => {
      const until = Date.now() + timeoutMs;
      let last: unknown = null;
      while (Date.now() < until) {
        const sync = ((await window.syncStore!.info()) as { sync?: { state: string; pending: number } }).sync;
        last = sync;
        if (sync && sync.state === 'synced' && sync.pending === 0) return { ok: true, sync };
        await new Promise((r) => setTimeout(r, 50));
      }
      return { ok: false, sync: last };
    },
    { timeoutMs },
  );
  if (!result.ok) throw new Error(`not synced after ${timeoutMs} ms: ${JSON.stringify(result.sync)}`);
  return result.sync as SyncState;
}

/** Waits until the page's sync status passes `accept` (polled in the page); returns it. */
export async function waitSyncState(page: Page, accept: string, timeoutMs = 30_000): Promise<SyncState> {
  // `accept` is a JS expression over `s` (the SyncState), evaluated in the page.
  const result = await page.evaluate(
    async ({ accept, timeoutMs }) => {
      const test = new Function('s', `return (${accept});`) as (s: unknown) => boolean;
      const until = Date.now() + timeoutMs;
      let last: unknown = null;
      while (Date.now() < until) {
        last = ((await window.syncStore!.info()) as { sync?: unknown }).sync;
        if (last && test(last)) return { ok: true, sync: last };
        await new Promise((r) => setTimeout(r, 50));
      }
      return { ok: false, sync: last };
    },
    { accept, timeoutMs },
  );
  if (!result.ok) throw new Error(`sync state never matched ${accept} in ${timeoutMs} ms: ${JSON.stringify(result.sync)}`);
  return result.sync as SyncState;
}

/** The page store's database, dumped in the sync view (exportDatabase → sqlite-wasm in Node). */
export async function deviceDump(page: Page): Promise<Dump> {
  const base64 = await page.evaluate(async () => {
    const bytes = await window.syncStore!.exportDatabase();
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(text);
  });
  return fileDump(new Uint8Array(Buffer.from(base64, 'base64')));
}

/**
 * Waits until every page is synced and every page's dump equals the server's, then returns the server's
 * dump. While another device is still pushing, a device can be synced yet behind, so this retries the
 * comparison; on a timeout the last comparison fails with its diff.
 */
export async function waitConverged(server: SyncServer, store: string, pages: Page[], timeoutMs = 120_000): Promise<Dump> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    for (const page of pages) await waitSynced(page, Math.max(1000, until - Date.now()));
    const serverDump = await server.dump(store);
    const dumps = await Promise.all(pages.map(deviceDump));
    const equal = dumps.every((d) => JSON.stringify(d) === JSON.stringify(serverDump));
    if (equal) return serverDump;
    if (Date.now() > until) {
      for (const d of dumps) expect(d).toEqual(serverDump);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Messages of a dump whose content starts with `prefix`. */
export function messagesWith(dump: Dump, prefix: string): Array<Record<string, unknown>> {
  return rowsOf(dump, 'messages').filter((m) => String(m['content']).startsWith(prefix));
}

/** Asserts that no two messages of the dump share a content (every test message's content is unique): nothing was doubled. */
export function expectNoDuplicateMessages(dump: Dump): void {
  const contents = rowsOf(dump, 'messages').map((m) => `${String(m['thread_id'])}\u0000${String(m['content'])}`);
  const seen = new Set<string>();
  const doubled = contents.filter((c) => (seen.has(c) ? true : (seen.add(c), false)));
  expect(doubled, 'messages that arrived twice').toEqual([]);
}

/** Writes a timing to test-results/sync-timings.json (merged with what is there), with the load it was measured under. */
export function recordTiming(name: string, value: Record<string, unknown>): Record<string, unknown> {
  const file = 'test-results/sync-timings.json';
  const all = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
  const entry = { ...value, date: new Date().toISOString(), commit: gitCommit(), loadAverage: loadavg().map((n) => Number(n.toFixed(2))), nodeCpus: cpus().length };
  all[name] = entry;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(all, null, 2) + '\n');
  return entry;
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}
