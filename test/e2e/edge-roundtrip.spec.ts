import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unstable_dev } from 'wrangler';
import { expect, test } from './fixtures.js';
import { PORTS } from '../ports.js';
import { LATEST_SCHEMA_VERSION } from '../../src/core/migrate.js';
import { loadEngine } from '../../src/driver/engine.js';
import { oo1Driver, type Oo1Database, type Oo1Engine } from '../../src/driver/oo1.js';
import { SEARCH_WORD, canonicalDump, fillEveryTable } from '../support/full-store.js';

/**
 * A database file moves edge → native sqlite3 → browser → edge → browser with every record intact: the edge is
 * the package's Durable Object and router under workerd (wrangler's local runtime, started here), the
 * browser a Chromium page on OPFS through openStateStore.
 */

type Worker = Awaited<ReturnType<typeof unstable_dev>>;
const AUTH = { authorization: 'Bearer round-trip-test' };
let worker: Worker;
const work = mkdtempSync(join(tmpdir(), 'ass-edge-rt-'));

test.beforeAll(async () => {
  test.setTimeout(180_000);
  worker = await unstable_dev('test/edge/roundtrip/worker.ts', {
    config: 'test/edge/roundtrip/wrangler.jsonc',
    ip: '127.0.0.1',
    port: PORTS.edgeRoundTrip,
    logLevel: 'error',
    persistTo: join(work, 'state'),
    experimental: { disableExperimentalWarning: true, disableDevRegistry: true, watch: false },
  });
});

test.afterAll(async () => {
  await worker?.stop();
  rmSync(work, { recursive: true, force: true });
});

function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (item instanceof Uint8Array ? { $bytes: Buffer.from(item).toString('base64') } : item));
}

/** A store on the edge, reached through the router's call route. */
function edgeClient(name: string): object {
  return new Proxy(
    {},
    {
      get: (_target, method) => async (...args: unknown[]) => {
        const response = await worker.fetch(`/stores/${encodeURIComponent(name)}/call`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: toJson({ method, args }) });
        const body = (await response.json()) as { value?: unknown; error?: { code: string; message: string } };
        if (!response.ok) throw new Error(`${String(method)}: ${body.error?.code} ${body.error?.message}`);
        return body.value;
      },
    },
  );
}

async function edgeDump(name: string): Promise<Record<string, string[]>> {
  const response = await worker.fetch(`/dump/${encodeURIComponent(name)}`, { headers: AUTH });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, string[]>;
}

async function fileDump(bytes: Uint8Array): Promise<Record<string, string[]>> {
  const sqlite3 = await loadEngine();
  const engine = sqlite3 as unknown as Oo1Engine;
  const db = oo1Driver(engine, new sqlite3.oo1.DB(':memory:', 'c') as unknown as Oo1Database).openImage(bytes);
  try {
    return await canonicalDump((sql) => db.all(sql));
  } finally {
    db.close();
  }
}

function nativeSql(bytes: Uint8Array, sql: string): string {
  const sqlite3 = '/usr/bin/sqlite3';
  if (!existsSync(sqlite3)) throw new Error(`${sqlite3} is missing: install it with \`apt-get install sqlite3\``);
  const file = join(work, `${crypto.randomUUID()}.sqlite`);
  writeFileSync(file, bytes);
  return execFileSync(sqlite3, ['-bail', file], { input: sql, encoding: 'utf8' }).trim();
}

test('a file moves edge → native sqlite3 → browser → edge → browser with every record intact', async ({ app }) => {
  test.setTimeout(180_000);
  const suffix = crypto.randomUUID();
  const source = `rt-source-${suffix}`;
  const target = `rt-target-${suffix}`;
  await fillEveryTable(edgeClient(source));

  const exported = await worker.fetch(`/stores/${encodeURIComponent(source)}/export`, { headers: AUTH });
  expect(exported.status).toBe(200);
  expect(exported.headers.get('content-type')).toBe('application/vnd.sqlite3');
  const edgeFile = new Uint8Array(await exported.arrayBuffer());
  expect(nativeSql(edgeFile, 'PRAGMA integrity_check;')).toBe('ok');
  expect(nativeSql(edgeFile, 'PRAGMA user_version;')).toBe(String(LATEST_SCHEMA_VERSION));
  expect(nativeSql(edgeFile, `SELECT count(*) FROM message_fts WHERE message_fts MATCH '${SEARCH_WORD}';`)).toBe('1');

  // The browser takes the edge's file in, finds the text, and gives its own file back.
  const browser = await app.evaluate(
    async ({ bytes, name, word }) => {
      const store = await window.openStateStore({ name });
      const result = await store.importDatabase(new Uint8Array(bytes));
      const hits = await store.searchMessages(word);
      const out = await store.exportDatabase();
      await store.close();
      return { result, hits: hits.length, bytes: Array.from(out) };
    },
    { bytes: Array.from(edgeFile), name: `edge-rt-${suffix}`, word: SEARCH_WORD },
  );
  expect(browser.result).toMatchObject({ fromVersion: LATEST_SCHEMA_VERSION, schemaVersion: LATEST_SCHEMA_VERSION, threads: 4 });
  expect(browser.hits).toBe(1);
  const browserFile = new Uint8Array(browser.bytes);
  expect(nativeSql(browserFile, 'PRAGMA integrity_check;')).toBe('ok');

  const imported = await worker.fetch(`/stores/${encodeURIComponent(target)}/import`, { method: 'PUT', headers: { ...AUTH, 'content-type': 'application/vnd.sqlite3' }, body: browserFile });
  expect(imported.status).toBe(200);
  expect(((await imported.json()) as { value: { threads: number } }).value.threads).toBe(4);

  const [sourceDump, edgeFileDump, browserFileDump, targetDump] = await Promise.all([edgeDump(source), fileDump(edgeFile), fileDump(browserFile), edgeDump(target)]);
  expect(sourceDump['messages']?.length).toBeGreaterThan(5);
  expect(edgeFileDump).toEqual(sourceDump);
  expect(browserFileDump).toEqual(sourceDump);
  expect(targetDump).toEqual(sourceDump);
  expect(((await (edgeClient(target) as { searchMessages(q: string): Promise<unknown[]> }).searchMessages(SEARCH_WORD)) as unknown[]).length).toBe(1);

  // And back: the edge's copy of the browser's file goes into a second browser store, so the data
  // has gone browser → edge → browser too.
  const again = await worker.fetch(`/stores/${encodeURIComponent(target)}/export`, { headers: AUTH });
  expect(again.status).toBe(200);
  const back = await app.evaluate(
    async ({ bytes, name }) => {
      const store = await window.openStateStore({ name });
      await store.importDatabase(new Uint8Array(bytes));
      const out = await store.exportDatabase();
      await store.close();
      return Array.from(out);
    },
    { bytes: Array.from(new Uint8Array(await again.arrayBuffer())), name: `edge-rt-back-${suffix}` },
  );
  expect(await fileDump(new Uint8Array(back))).toEqual(sourceDump);
});
