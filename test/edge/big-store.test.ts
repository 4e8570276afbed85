import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { handleStoreRequest, type StoreRouterOptions } from '../../src/cloudflare/router.js';
import { RPC_VALUE_LIMIT_BYTES } from '../../src/cloudflare/staging.js';
import { edgeStore } from '../../src/cloudflare/index.js';
import type { StoreObject } from './worker.js';

/**
 * Export and import at the sizes a Durable Object holds: a store larger than one RPC value (32 MiB;
 * `BIG_STORE_MB`, 40 by default, 300 with scripts/big-store.sh) is exported through the router as a
 * stream and piped straight into another object's import; both hold the same rows afterwards, each
 * checkpoint's text compared by SHA-256. Neither side holds the file: the test never does either.
 */

const MB = 1024 * 1024;
const sizeMb = Number(env.BIG_STORE_MB);
const ROW_BYTES = MB;

const object = (name: string) => env.STORES.get(env.STORES.idFromName(name)) as DurableObjectStub<StoreObject>;

/** Fills a store inside its object: one thread, a few messages, and `rows` checkpoints of about 1 MiB each, every one different. */
async function fill(name: string, rows: number): Promise<void> {
  for (let done = 0; done < rows; done += 20) {
    await runInDurableObject(object(name), (instance) => {
      const store = (instance as unknown as StoreObject).localStore();
      if (done === 0) {
        store.createThread({ id: 'big', title: 'A big store' });
        for (let i = 0; i < 5; i++) store.addMessage('big', { role: 'user', content: `message ${i} ${'x'.repeat(1000)}` });
      }
      for (let i = done; i < Math.min(rows, done + 20); i++) {
        const text = `${i}:`.repeat(Math.ceil(ROW_BYTES / `${i}:`.length)).slice(0, ROW_BYTES);
        store.saveCheckpoint('big', `cp-${String(i).padStart(5, '0')}`, { text });
      }
    });
  }
}

/** Each checkpoint's id, size and SHA-256 of its text, read row by row inside the object. */
function fingerprint(name: string): Promise<string[]> {
  return runInDurableObject(object(name), async (_instance, state) => {
    const ids = state.storage.sql.exec('SELECT checkpoint_id AS id FROM checkpoints ORDER BY checkpoint_id').toArray().map((r) => String(r['id']));
    const out: string[] = [];
    for (const id of ids) {
      const row = state.storage.sql.exec('SELECT state_json AS s FROM checkpoints WHERE checkpoint_id = ?', id).one();
      const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(String(row['s'])));
      out.push(`${id} ${String(row['s']).length} ${[...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')}`);
    }
    const counts = state.storage.sql.exec('SELECT (SELECT count(*) FROM threads) AS t, (SELECT count(*) FROM messages) AS m').one();
    out.push(`threads ${String(counts['t'])} messages ${String(counts['m'])}`);
    return out;
  });
}

describe(`a store of ${sizeMb} MB`, () => {
  it('exports as a stream and re-imports into another object with the same rows, through the router', { timeout: 30 * 60_000 }, async () => {
    const source = `big-source-${crypto.randomUUID()}`;
    const target = `big-target-${crypto.randomUUID()}`;
    const rows = Math.ceil((sizeMb * MB) / ROW_BYTES);
    const started = Date.now();
    await fill(source, rows);
    const filled = Date.now();
    const sizeBytes = (await edgeStore(env.STORES, source).info()).databaseSizeBytes;
    expect(sizeBytes).toBeGreaterThan(sizeMb * MB);
    expect(sizeBytes).toBeGreaterThan(RPC_VALUE_LIMIT_BYTES);
    // scripts/big-store.sh --fill-only: the memory of filling and reading the store alone, to compare with.
    if (env.BIG_STORE_FILL_ONLY === '1') {
      expect((await fingerprint(source)).length).toBe(rows + 1);
      return;
    }

    const options: StoreRouterOptions = { authorize: (request) => new URL(request.url).pathname.split('/')[2] ?? null };
    const url = (name: string, action: string) => `https://app.example/stores/${name}/${action}`;
    const exported = await handleStoreRequest(new Request(url(source, 'export')), env, options);
    // scripts/big-store.sh --export-only: the export alone, read to its end and dropped.
    if (env.BIG_STORE_FILL_ONLY === 'export') {
      let total = 0;
      for await (const chunk of exported.body!) total += (chunk as Uint8Array).byteLength;
      expect(total).toBe(Number(exported.headers.get('content-length')));
      return;
    }
    expect(exported.status).toBe(200);
    const length = Number(exported.headers.get('content-length'));
    expect(length).toBeGreaterThan(sizeMb * MB);
    // Counted on the way through, never held.
    let streamed = 0;
    const counted = exported.body!.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          streamed += chunk.byteLength;
          controller.enqueue(chunk);
        },
      }),
    );
    const imported = await handleStoreRequest(
      new Request(url(target, 'import'), { method: 'PUT', headers: { 'content-type': 'application/vnd.sqlite3' }, body: counted, duplex: 'half' } as RequestInit),
      env,
      options,
    );
    const result = (await imported.json()) as { value?: { threads: number; messages: number }; error?: unknown };
    expect(imported.status, JSON.stringify(result.error)).toBe(200);
    expect(result.value).toMatchObject({ threads: 1, messages: 5 });
    expect(streamed).toBe(length);
    const moved = Date.now();

    const [a, b] = [await fingerprint(source), await fingerprint(target)];
    expect(a.length).toBe(rows + 1);
    expect(b).toEqual(a);
    console.log(`big store: ${sizeMb} MB asked, database ${(sizeBytes / MB).toFixed(0)} MiB, file ${(length / MB).toFixed(0)} MiB; fill ${filled - started} ms, export+import ${moved - filled} ms`);
  });
});

describe('the size limits of whole files on the edge', () => {
  it('edgeStore().importDatabase(bytes) refuses a file over the RPC value limit before sending it: INVALID_ARGUMENT naming the limit', async () => {
    const store = edgeStore(env.STORES, `rpc-limit-${crypto.randomUUID()}`);
    const error = await store.importDatabase(new Uint8Array(RPC_VALUE_LIMIT_BYTES)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: 'StoreError', code: 'INVALID_ARGUMENT', details: { field: 'bytes', limitBytes: RPC_VALUE_LIMIT_BYTES - 64 * 1024 } });
  });

  it('importStream refuses a stream past maxBytes (INVALID_ARGUMENT, limitBytes) and the router a body past maxImportBytes (413), nothing imported, nothing staged', async () => {
    const name = `stream-limit-${crypto.randomUUID()}`;
    const store = edgeStore(env.STORES, name);
    await store.createThread({ id: 'kept' });
    const stream = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 4; i++) controller.enqueue(new Uint8Array(64 * 1024));
          controller.close();
        },
      });
    const error = await store.importStream(stream(), { maxBytes: 100_000 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: 'StoreError', code: 'INVALID_ARGUMENT', details: { field: 'body', limitBytes: 100_000 } });
    const options: StoreRouterOptions = { authorize: () => name, maxImportBytes: 100_000 };
    const refused = await handleStoreRequest(
      new Request(`https://app.example/stores/${name}/import`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: stream(), duplex: 'half' } as RequestInit),
      env,
      options,
    );
    expect(refused.status).toBe(413);
    expect((await store.listThreads()).map((t) => t.id)).toEqual(['kept']);
    const leftover = await runInDurableObject(object(name), (_instance, state) => [...state.storage.kv.list({ prefix: 'agent-state-store:staging:' })].length);
    expect(leftover).toBe(0);
  });
});
