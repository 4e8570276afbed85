import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { edgeStore } from '../../src/cloudflare/index.js';
import type { StoreObject } from './worker.js';

/**
 * edgeStore() outlives a reset of its object (what a deploy does): Cloudflare documents that a stub
 * that has thrown fails every later call, so the client makes a new one; reads are sent again, and
 * writes are sent again with their request id, which the object applies at most once. The object is
 * reset for real (ctx.abort) in workerd.
 */

const named = (prefix: string) => `${prefix}-${crypto.randomUUID()}`;
const object = (name: string) => env.STORES.get(env.STORES.idFromName(name)) as DurableObjectStub<StoreObject>;

/** Resets the object from a stub of its own; that stub's call fails, as every call in flight does. */
async function reset(name: string): Promise<void> {
  await object(name).reset().then(
    () => {
      throw new Error('the reset call returned');
    },
    () => undefined,
  );
}

describe('edgeStore() across a reset of its object', () => {
  it('a stub of a reset object is broken for good: a call on it after the reset fails (the platform behaviour the client works around)', async () => {
    const name = named('broken');
    const stub = object(name);
    expect(await stub.ping()).toBe(2);
    await reset(name);
    const after = await stub.ping().then(
      () => null,
      (error: unknown) => error,
    );
    expect(after).toBeInstanceOf(Error);
  });

  it('keeps working after a reset between calls: reads and writes go through a new stub', async () => {
    const name = named('between');
    const store = edgeStore(env.STORES, name);
    await store.createThread({ id: 'before', title: 'Before' });
    await reset(name);
    expect((await store.listThreads()).map((t) => t.id)).toEqual(['before']);
    await store.createThread({ id: 'after' });
    expect((await store.listThreads()).map((t) => t.id).sort()).toEqual(['after', 'before']);
  });

  it('a reset mid-use: every call in flight completes, each write exactly once and in the order made', async () => {
    const name = named('mid-use');
    const store = edgeStore(env.STORES, name);
    await store.createThread({ id: 't' });
    const writes = Array.from({ length: 30 }, (_, i) => store.appendMessage('t', 'user', `message ${i}`));
    const reads = Array.from({ length: 10 }, () => store.listThreads());
    await reset(name);
    const more = Array.from({ length: 10 }, (_, i) => store.appendMessage('t', 'user', `message ${30 + i}`));
    const ids = await Promise.all([...writes, ...more]);
    await Promise.all(reads);
    const messages = await store.listMessages('t', 100);
    expect(messages.map((m) => m.content)).toEqual(Array.from({ length: 40 }, (_, i) => `message ${i}`));
    expect(messages.map((m) => m.id)).toEqual(ids);
  });

  it('a write whose reply a reset lost is sent again and answered from the request log, not applied twice', async () => {
    const name = named('lost-reply');
    const store = edgeStore(env.STORES, name);
    await store.createThread({ id: 't' });
    await object(name).loseNextWriteReply();
    const id = await store.appendMessage('t', 'user', 'only once');
    const messages = await store.listMessages('t');
    expect(messages.map((m) => [m.id, m.content])).toEqual([[id, 'only once']]);
    const logged = await runInObject(name, (sql) => sql.exec("SELECT method, result_json FROM applied_requests WHERE method = 'appendMessage'").toArray());
    expect(logged).toEqual([{ method: 'appendMessage', result_json: String(id) }]);
  });

  it('a listener keeps hearing changes after a reset: the new stub opens the feed again', async () => {
    const name = named('feed');
    const store = edgeStore(env.STORES, name);
    const heard: string[] = [];
    const stop = store.subscribe((change) => heard.push(String(change.method)));
    await store.createThread({ id: 'a' });
    await reset(name);
    await store.createThread({ id: 'b' });
    // Notices come back over RPC after the write's reply: wait for them rather than for a fixed time.
    await expect.poll(() => heard, { timeout: 10_000 }).toEqual(['createThread', 'createThread']);
    stop();
  });

  it('gives up after its attempts with STORAGE when the object keeps failing, and never retries a caller error', async () => {
    const name = named('gives-up');
    let made = 0;
    const namespace = {
      idFromName: (n: string) => env.STORES.idFromName(n),
      get: (id: DurableObjectId) => {
        made++;
        const real = env.STORES.get(id);
        return { call: () => Promise.reject(new Error('network lost')), info: () => real.info(), subscribe: () => Promise.resolve({ ok: true, value: null }), unsubscribe: () => Promise.resolve({ ok: true, value: null }) };
      },
    } as unknown as Parameters<typeof edgeStore>[0];
    const store = edgeStore(namespace, name, { attempts: 3, backoffMs: 1 });
    await expect(store.listThreads()).rejects.toMatchObject({ name: 'StoreError', code: 'STORAGE' });
    expect(made).toBe(3);
  });
});

async function runInObject<T>(name: string, fn: (sql: SqlStorage) => T): Promise<T> {
  const { runInDurableObject } = await import('cloudflare:test');
  return runInDurableObject(object(name), (_instance, state) => fn(state.storage.sql));
}

describe('call order through one client', () => {
  it('30 writes made at once apply in the order they were made (one call at a time on the stub)', async () => {
    const store = edgeStore(env.STORES, named('order'));
    await store.createThread({ id: 't' });
    await Promise.all(Array.from({ length: 30 }, (_, i) => store.appendMessage('t', 'user', `message ${i}`)));
    expect((await store.listMessages('t', 100)).map((m) => m.content)).toEqual(Array.from({ length: 30 }, (_, i) => `message ${i}`));
  });
});

describe('request ids', () => {
  it('a request id over 128 characters is INVALID_ARGUMENT, nothing written', async () => {
    const name = named('request-id');
    const reply = await object(name).call('createThread', [{ id: 'x' }], 'r'.repeat(129));
    expect(reply).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', details: { field: 'requestId' } } });
    expect(await edgeStore(env.STORES, name).listThreads()).toEqual([]);
  });
});
