import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/core/errors.js';
import { handleStoreRequest, type StoreRouterOptions } from '../../src/cloudflare/router.js';
import { edgeStore } from '../../src/cloudflare/client.js';

/**
 * The HTTP router in front of the Durable Objects: authorization cannot be skipped, one user's token
 * never reaches another user's store, bad input is refused before it reaches a store, and a refused
 * request writes nothing and tells nothing about the other store.
 */

let run = 0;
/** Two users with their own stores, fresh per test (Durable Object names are per test run). */
function users() {
  run++;
  const alice = `user:alice-${run}`;
  const bob = `user:bob-${run}`;
  const tokens: Record<string, string> = { [`alice-${run}`]: alice, [`bob-${run}`]: bob };
  const authorize: StoreRouterOptions['authorize'] = (request) => {
    const header = request.headers.get('authorization') ?? '';
    const token = /^Bearer (.+)$/.exec(header)?.[1];
    if (token === 'expired') throw new StoreError('UNAUTHORIZED', 'the token has expired');
    if (token === 'crash') throw new Error('secret database password leaked in a stack trace');
    return token ? (tokens[token] ?? null) : null;
  };
  return { alice, bob, aliceToken: `alice-${run}`, bobToken: `bob-${run}`, options: { authorize } };
}

const thread = (id: string) => ({ id, preview: `preview ${id}`, ephemeral: false, modelProvider: 'openai', createdAt: 1, updatedAt: 1, status: 'idle' as const, cwd: '/', cliVersion: '1', source: 'api' as const });

function request(path: string, init: RequestInit & { token?: string } = {}): Request {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  return new Request(`https://app.example${path}`, { ...init, headers });
}

const JSON_TYPE = { 'content-type': 'application/json' };
const FILE_TYPE = { 'content-type': 'application/vnd.sqlite3' };

function callRequest(store: string, body: unknown, token?: string): Request {
  return request(`/stores/${encodeURIComponent(store)}/call`, {
    method: 'POST',
    headers: JSON_TYPE,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(token ? { token } : {}),
  });
}

async function errorOf(response: Response): Promise<{ status: number; code: string; message: string; text: string }> {
  const text = await response.text();
  const body = JSON.parse(text) as { error: { code: string; message: string } };
  return { status: response.status, code: body.error.code, message: body.error.message, text };
}

/** Bob's store with one thread of his, written directly (not through the router). */
async function bobHasData(bob: string) {
  const store = edgeStore(env.STORES, bob);
  await store.upsertThread(thread('bob-secret-thread'));
  await store.appendMessage('bob-secret-thread', 'user', 'bob private words');
  return store;
}

async function threadIds(name: string): Promise<string[]> {
  return (await edgeStore(env.STORES, name).listThreads({ includeArchived: true })).map((t) => t.id).sort();
}

describe('the allowed path', () => {
  it('calls a method on the caller own store and returns its JSON value', async () => {
    const { alice, aliceToken, options } = users();
    const written = await handleStoreRequest(callRequest(alice, { method: 'upsertThread', args: [thread('t1')] }, aliceToken), env, options);
    expect(written.status).toBe(200);
    const listed = await handleStoreRequest(callRequest(alice, { method: 'listThreads', args: [] }, aliceToken), env, options);
    expect(listed.status).toBe(200);
    expect(listed.headers.get('content-type')).toContain('application/json');
    const body = (await listed.json()) as { value: Array<{ id: string }> };
    expect(body.value.map((t) => t.id)).toEqual(['t1']);
    expect(await threadIds(alice)).toEqual(['t1']);
  });

  it('carries bytes as { $bytes: base64 } both ways', async () => {
    const { alice, aliceToken, options } = users();
    const checkpoint = { threadId: 'g', checkpointId: 'c1', type: 'bytes', checkpoint: { $bytes: btoa('\u0000\u00ff\u0007') }, metadata: { step: 1 } };
    expect((await handleStoreRequest(callRequest(alice, { method: 'putGraphCheckpoint', args: [checkpoint] }, aliceToken), env, options)).status).toBe(200);
    const read = await handleStoreRequest(callRequest(alice, { method: 'getGraphCheckpoint', args: [{ threadId: 'g' }] }, aliceToken), env, options);
    const body = (await read.json()) as { value: { checkpoint: { $bytes: string } } };
    expect(body.value.checkpoint).toEqual({ $bytes: btoa('\u0000\u00ff\u0007') });
  });

  it('maps a store error to its code and HTTP status', async () => {
    const { alice, aliceToken, options } = users();
    const missing = await errorOf(await handleStoreRequest(callRequest(alice, { method: 'appendMessage', args: ['nope', 'user', 'hi'] }, aliceToken), env, options));
    expect([missing.status, missing.code]).toEqual([404, 'NOT_FOUND']);
  });
});

describe('authorization that cannot be skipped', () => {
  it('refuses a request with no token (401 UNAUTHORIZED) and writes nothing', async () => {
    const { alice, options } = users();
    const refused = await errorOf(await handleStoreRequest(callRequest(alice, { method: 'upsertThread', args: [thread('sneaky')] }), env, options));
    expect([refused.status, refused.code]).toEqual([401, 'UNAUTHORIZED']);
    expect(await threadIds(alice)).toEqual([]);
  });

  it('refuses a bad token and an expired one (401) and writes nothing', async () => {
    const { alice, options } = users();
    for (const token of ['not-a-token', 'expired']) {
      const refused = await errorOf(await handleStoreRequest(callRequest(alice, { method: 'upsertThread', args: [thread('sneaky')] }, token), env, options));
      expect([refused.status, refused.code]).toEqual([401, 'UNAUTHORIZED']);
    }
    expect(await threadIds(alice)).toEqual([]);
  });

  it('refuses an authorize that throws as UNAUTHORIZED without echoing its message', async () => {
    const { alice, options } = users();
    const refused = await errorOf(await handleStoreRequest(callRequest(alice, { method: 'listThreads', args: [] }, 'crash'), env, options));
    expect([refused.status, refused.code]).toEqual([401, 'UNAUTHORIZED']);
    expect(refused.text).not.toContain('password');
  });

  it('refuses one user token on another user store (403 FORBIDDEN): no write, no read, no leak', async () => {
    const { alice, bob, aliceToken, options } = users();
    await bobHasData(bob);
    const write = await errorOf(await handleStoreRequest(callRequest(bob, { method: 'upsertThread', args: [thread('from-alice')] }, aliceToken), env, options));
    expect([write.status, write.code]).toEqual([403, 'FORBIDDEN']);
    const read = await errorOf(await handleStoreRequest(callRequest(bob, { method: 'listThreads', args: [] }, aliceToken), env, options));
    expect([read.status, read.code]).toEqual([403, 'FORBIDDEN']);
    expect(read.text).not.toContain('bob-secret');
    const exported = await errorOf(await handleStoreRequest(request(`/stores/${encodeURIComponent(bob)}/export`, { token: aliceToken }), env, options));
    expect([exported.status, exported.code]).toEqual([403, 'FORBIDDEN']);
    const imported = await errorOf(await handleStoreRequest(request(`/stores/${encodeURIComponent(bob)}/import`, { method: 'PUT', headers: FILE_TYPE, body: new Uint8Array(4096), token: aliceToken }), env, options));
    expect([imported.status, imported.code]).toEqual([403, 'FORBIDDEN']);
    expect(await threadIds(bob)).toEqual(['bob-secret-thread']);
    expect(await threadIds(alice)).toEqual([]);
  });

  it('refuses a store name that only differs by encoding or case', async () => {
    const { bob, bobToken, options } = users();
    for (const path of [`/stores/${encodeURIComponent(bob.toUpperCase())}/call`, `/stores/${encodeURIComponent(bob)}%20/call`, `/stores/${encodeURIComponent(bob)}/../x/call`]) {
      const refused = await handleStoreRequest(request(path, { method: 'POST', body: '{"method":"listThreads","args":[]}', token: bobToken }), env, options);
      expect([403, 404]).toContain(refused.status);
    }
  });
});

describe('input checked before it reaches a store', () => {
  it('refuses malformed JSON, a non-object body, a missing or unknown method and args that are not an array (400), data intact', async () => {
    const { alice, aliceToken, options } = users();
    await edgeStore(env.STORES, alice).upsertThread(thread('keep'));
    for (const body of ['{not json', '[1,2]', '{"args":[]}', '{"method":"dropEverything","args":[]}', '{"method":"close","args":[]}', '{"method":"listThreads","args":{"0":1}}', '"listThreads"']) {
      const refused = await errorOf(await handleStoreRequest(callRequest(alice, body, aliceToken), env, options));
      expect([refused.status, refused.code], body).toEqual([400, 'INVALID_ARGUMENT']);
    }
    expect(await threadIds(alice)).toEqual(['keep']);
  });

  it('refuses arguments of the wrong type with the store own INVALID_ARGUMENT, nothing written', async () => {
    const { alice, aliceToken, options } = users();
    const refused = await errorOf(await handleStoreRequest(callRequest(alice, { method: 'upsertThread', args: [{ ...thread('x'), createdAt: 'yesterday' }] }, aliceToken), env, options));
    expect([refused.status, refused.code]).toEqual([400, 'INVALID_ARGUMENT']);
    expect(await threadIds(alice)).toEqual([]);
  });

  it('refuses a body over the declared limit (413), whether or not Content-Length says so', async () => {
    const { alice, aliceToken, options } = users();
    const small = { ...options, maxCallBytes: 1024 };
    const big = JSON.stringify({ method: 'upsertThread', args: [{ ...thread('big'), preview: 'x'.repeat(2000) }] });
    const declared = await errorOf(await handleStoreRequest(callRequest(alice, big, aliceToken), env, small));
    expect([declared.status, declared.code]).toEqual([413, 'INVALID_ARGUMENT']);
    const stream = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(big)), c.close()) });
    const undeclared = await errorOf(await handleStoreRequest(request(`/stores/${encodeURIComponent(alice)}/call`, { method: 'POST', headers: JSON_TYPE, body: stream, token: aliceToken, duplex: 'half' } as RequestInit & { token: string }), env, small));
    expect([undeclared.status, undeclared.code]).toEqual([413, 'INVALID_ARGUMENT']);
    expect(await threadIds(alice)).toEqual([]);
  });

  it('refuses a wrong HTTP method (405) and an unknown route (404)', async () => {
    const { alice, aliceToken, options } = users();
    const get = await handleStoreRequest(request(`/stores/${encodeURIComponent(alice)}/call`, { token: aliceToken }), env, options);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await handleStoreRequest(request(`/stores/${encodeURIComponent(alice)}/drop`, { method: 'POST', token: aliceToken }), env, options)).status).toBe(404);
    expect((await handleStoreRequest(request('/elsewhere', { token: aliceToken }), env, options)).status).toBe(404);
  });
});

describe('cross-origin pages (allowedOrigins)', () => {
  const page = 'https://app.example.org';

  it('answers an allowed origin’s preflight before authorize, and marks its answers, refusals included', async () => {
    const { alice, aliceToken, options } = users();
    const withCors = { ...options, allowedOrigins: [page] };
    const preflight = await handleStoreRequest(request(`/stores/${alice}/sync`, { method: 'OPTIONS', headers: { origin: page } }), env, withCors);
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(page);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');
    const probe = await handleStoreRequest(request(`/stores/${alice}/sync`, { headers: { origin: page }, token: aliceToken }), env, withCors);
    expect(probe.status).toBe(204);
    expect(probe.headers.get('access-control-allow-origin')).toBe(page);
    // A refused token must be readable by the page too, or it looks like a network failure.
    const refused = await handleStoreRequest(request(`/stores/${alice}/sync`, { headers: { origin: page }, token: 'wrong' }), env, withCors);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe(page);
  });

  it('gives another origin, or a router without the option, no CORS headers', async () => {
    const { alice, aliceToken, options } = users();
    const other = await handleStoreRequest(request(`/stores/${alice}/sync`, { headers: { origin: 'https://evil.example' }, token: aliceToken }), env, { ...options, allowedOrigins: [page] });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await handleStoreRequest(request(`/stores/${alice}/sync`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } }), env, { ...options, allowedOrigins: (o) => o === page });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.status).toBe(401);
    const none = await handleStoreRequest(request(`/stores/${alice}/sync`, { headers: { origin: page }, token: aliceToken }), env, options);
    expect(none.headers.get('access-control-allow-origin')).toBeNull();
  });
});
