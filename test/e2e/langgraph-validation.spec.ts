import { deltaChannelHistoryTests, validate, type CheckpointSaverTestInitializer } from '@langchain/langgraph-checkpoint-validation';
import type { Page } from '@playwright/test';
import { StateStoreSaver, type GraphCheckpointStore } from '../../src/langgraph/index.js';
import { expect, openApp, test } from './fixtures.js';

/**
 * LangGraph's own checkpointer validation suite (@langchain/langgraph-checkpoint-validation), run
 * through the browser client: the saver runs here, in the Playwright process, and every store call
 * it makes goes to a Chromium page's openStateStore() client, through the worker, to OPFS on an
 * on-disk profile. The suite's specs call Vitest's globals; they are mapped onto Playwright Test's
 * (describe → test.describe, it → test, hooks, expect), as the suite only uses what both have.
 */

let page: Page | undefined;
const STORE = 'langgraph-validation';

/** The page's client, as the saver sees a store: each call crosses to the page with bytes encoded. */
const pageStore: GraphCheckpointStore = new Proxy({} as GraphCheckpointStore, {
  get: (_, method: string) => async (...args: unknown[]) =>
    decode(await page!.evaluate(([name, m, a]) => window.langgraph.graphCall(name, m, a), [STORE, method, encode(args) as unknown[]] as const)),
});

function encode(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return value.map(encode);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
}

function decode(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decode);
  if (typeof value !== 'object' || value === null) return value;
  if (typeof (value as { $bytes?: unknown }).$bytes === 'string') return new Uint8Array(Buffer.from((value as { $bytes: string }).$bytes, 'base64'));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]));
}

/** Every checkpointer shares the page's one store (a worker each would dominate the run), emptied after each. */
const initializer: CheckpointSaverTestInitializer<StateStoreSaver> = {
  checkpointerName: 'agent-state-store (browser client)',
  createCheckpointer: async () => new StateStoreSaver(pageStore),
  destroyCheckpointer: async () => {
    const threads = new Set((await pageStore.listGraphCheckpoints()).map((c) => c.threadId));
    for (const threadId of threads) await pageStore.deleteGraphThread(threadId);
  },
};

/** `name` with vitest's printf-style placeholders filled from one row of an .each table. */
function title(name: string, row: unknown): string {
  const values = Array.isArray(row) ? [...row] : [row];
  return name
    .replace(/%[sdij]/g, () => String(values.shift()))
    .replace(/\$([A-Za-z_]\w*)/g, (whole, key: string) => (typeof row === 'object' && row !== null && key in row ? String((row as Record<string, unknown>)[key]) : whole));
}

// The suite has a few titles twice in one describe, which Vitest runs and Playwright refuses: the repeats get a number.
const seen = new Map<string, number>();
function unique(name: string): string {
  const n = (seen.get(name) ?? 0) + 1;
  seen.set(name, n);
  return n === 1 ? name : `${name} [${n}]`;
}

type Fn = (...args: unknown[]) => unknown;
const run = (fn: Fn) => async () => void (await fn());
const describe = Object.assign((name: string, fn: () => void) => test.describe(name, fn), {
  each: (rows: unknown[]) => (name: string, fn: Fn) => {
    for (const row of rows) test.describe(title(name, row), () => void fn(...(Array.isArray(row) ? row : [row])));
  },
});
const it = Object.assign((name: string, fn: Fn) => test(unique(name), run(fn)), {
  skip: (name: string, fn: Fn) => test.skip(unique(name), run(fn)),
  each: (rows: unknown[]) => (name: string, fn: Fn) => {
    for (const row of rows) test(unique(title(name, row)), run(() => fn(...(Array.isArray(row) ? row : [row]))));
  },
});
Object.assign(globalThis, {
  describe,
  it,
  expect,
  beforeAll: (fn: Fn) => test.beforeAll(run(fn)),
  afterAll: (fn: Fn) => test.afterAll(run(fn)),
  beforeEach: (fn: Fn) => test.beforeEach(run(fn)),
  afterEach: (fn: Fn) => test.afterEach(run(fn)),
});


test.beforeAll(async ({ profile, baseURL }) => {
  page = await profile.context.newPage();
  await openApp(page, new URL('/langgraph.html', baseURL ?? 'http://localhost').toString());
});

test.afterAll(async () => {
  await page?.close();
});

validate(initializer);
deltaChannelHistoryTests(initializer);
