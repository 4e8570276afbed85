import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { handleStoreRequest, readOnly, type StoreRouterOptions } from '../../src/cloudflare/router.js';
import { edgeStore } from '../../src/cloudflare/client.js';
import rustSeed from '../fixtures/rust-seed-v4/state.db';

/**
 * The router against a hostile web: a cross-site form cannot call or import (415), a cross-site page
 * cannot open a sync socket with the user's cookies (403), authorize can limit the methods (403
 * naming the method), a failure inside shows only "internal error" and a request id, and a body that
 * nests 10,000 levels deep is a 400.
 */

let run = 0;
/** A store per test, a cookie-style authorize (a browser would send the cookie cross-site too), and a log. */
function setup(extra: Partial<StoreRouterOptions> = {}) {
  run++;
  const store = `user:victim-${run}-${crypto.randomUUID()}`;
  const logged: Array<{ requestId: string; error: unknown }> = [];
  const options: StoreRouterOptions = {
    authorize: (request) => (request.headers.get('cookie') === 'session=victim' ? store : null),
    logError: (requestId, error) => logged.push({ requestId, error }),
    ...extra,
  };
  return { store, options, logged };
}

const base = 'https://app.example';
function req(store: string, action: string, init: RequestInit = {}): Request {
  const headers = new Headers(init.headers);
  headers.set('cookie', 'session=victim');
  return new Request(`${base}/stores/${encodeURIComponent(store)}/${action}`, { ...init, headers });
}

async function body(response: Response): Promise<{ status: number; code: string; message: string; details?: Record<string, unknown>; text: string }> {
  const text = await response.text();
  const parsed = JSON.parse(text) as { error: { code: string; message: string; details?: Record<string, unknown> } };
  return { status: response.status, ...parsed.error, text };
}

const createThread = JSON.stringify({ method: 'createThread', args: [{ id: 'planted' }] });

describe('cross-site request forgery', () => {
  it('a forged form POST (urlencoded, multipart, text/plain) to the call route is 415 INVALID_ARGUMENT and writes nothing', async () => {
    const { store, options } = setup();
    const form = new FormData();
    form.set('x', createThread);
    const forged = [
      req(store, 'call', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `x=${encodeURIComponent(createThread)}` }),
      req(store, 'call', { method: 'POST', body: form }),
      req(store, 'call', { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: createThread }),
      req(store, 'call', { method: 'POST', body: createThread }),
    ];
    for (const request of forged) {
      const refused = await body(await handleStoreRequest(request, env, options));
      expect([refused.status, refused.code, refused.details?.['field']]).toEqual([415, 'INVALID_ARGUMENT', 'content-type']);
    }
    expect(await edgeStore(env.STORES, store).getThread('planted')).toBeNull();
    const json = await handleStoreRequest(req(store, 'call', { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: createThread }), env, options);
    expect(json.status).toBe(200);
  });

  it('an import sent as a form or text is 415; application/vnd.sqlite3 and application/octet-stream are taken', async () => {
    const { store, options } = setup();
    const file = new Uint8Array(rustSeed);
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x']) {
      const refused = await body(await handleStoreRequest(req(store, 'import', { method: 'POST', headers: { 'content-type': type }, body: file }), env, options));
      expect([refused.status, refused.code]).toEqual([415, 'INVALID_ARGUMENT']);
    }
    expect(await edgeStore(env.STORES, store).listThreads()).toEqual([]);
    for (const type of ['application/vnd.sqlite3', 'application/octet-stream']) {
      const response = await handleStoreRequest(req(store, 'import', { method: 'PUT', headers: { 'content-type': type }, body: file }), env, options);
      expect(response.status).toBe(200);
    }
  });

  it('PUT …/import of the Rust store’s own file answers 200 with what it imported (it was a 500)', async () => {
    const { store, options } = setup();
    const response = await handleStoreRequest(req(store, 'import', { method: 'PUT', headers: { 'content-type': 'application/vnd.sqlite3' }, body: new Uint8Array(rustSeed) }), env, options);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { value: unknown }).value).toMatchObject({ fromVersion: 4, threads: 4, messages: 16 });
  });
});

describe('cross-site WebSocket hijacking', () => {
  const upgrade = (store: string, origin?: string) => req(store, 'sync', { headers: { upgrade: 'websocket', ...(origin ? { origin } : {}) } });

  it('refuses a sync upgrade from another origin (403 FORBIDDEN) before it reaches the object', async () => {
    const { store, options } = setup();
    const refused = await body(await handleStoreRequest(upgrade(store, 'https://evil.example'), env, options));
    expect([refused.status, refused.code, refused.details?.['field']]).toEqual([403, 'FORBIDDEN', 'origin']);
  });

  it('accepts the router’s own origin, no Origin (not a browser), and an origin allowedOrigins names', async () => {
    const { store, options } = setup({ allowedOrigins: ['https://app.example.org'] });
    for (const origin of [base, undefined, 'https://app.example.org']) {
      const response = await handleStoreRequest(upgrade(store, origin), env, options);
      expect(response.status, String(origin)).toBe(101);
      response.webSocket!.accept();
      response.webSocket!.close();
    }
    const other = await handleStoreRequest(upgrade(store, 'https://app.example.org.evil.example'), env, options);
    expect(other.status).toBe(403);
  });
});

describe('per-method permissions from authorize', () => {
  it('a read-only grant reads and exports but cannot write, clear, prune or import: 403 FORBIDDEN naming the method', async () => {
    const { store, options } = setup();
    await edgeStore(env.STORES, store).createThread({ id: 'kept', title: 'Kept' });
    const reader: StoreRouterOptions = { ...options, authorize: () => ({ store, can: readOnly }) };
    const call = (method: string, args: unknown[]) =>
      handleStoreRequest(req(store, 'call', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method, args }) }), env, reader);
    expect((await call('listThreads', [])).status).toBe(200);
    expect((await handleStoreRequest(req(store, 'export'), env, reader)).status).toBe(200);
    for (const [method, args] of [['clearMessages', ['kept']], ['pruneThreads', [{ olderThan: 0 }]], ['createThread', [{}]], ['deleteThread', ['kept']]] as const) {
      const refused = await body(await call(method, [...args]));
      expect([refused.status, refused.code, refused.details?.['method']]).toEqual([403, 'FORBIDDEN', method]);
      expect(refused.message).toContain(method);
    }
    const imported = await body(await handleStoreRequest(req(store, 'import', { method: 'PUT', headers: { 'content-type': 'application/vnd.sqlite3' }, body: new Uint8Array(rustSeed) }), env, reader));
    expect([imported.status, imported.code, imported.details?.['method']]).toEqual([403, 'FORBIDDEN', 'importDatabase']);
    expect((await edgeStore(env.STORES, store).listThreads()).map((t) => t.id)).toEqual(['kept']);
  });

  it('a can() that throws or answers anything but true is a refusal', async () => {
    const { store, options } = setup();
    for (const can of [() => { throw new Error('boom'); }, () => 'yes' as unknown as boolean]) {
      const grant: StoreRouterOptions = { ...options, authorize: () => ({ store, can }) };
      const refused = await handleStoreRequest(req(store, 'call', { method: 'POST', headers: { 'content-type': 'application/json' }, body: createThread }), env, grant);
      expect(refused.status).toBe(403);
    }
  });
});

describe('no internal text to callers', () => {
  /** A namespace whose object fails the way the platform or an engine does (not a store refusal). */
  const failing = (fail: () => Promise<unknown>) => ({ BROKEN: { idFromName: () => 'id', get: () => ({ call: fail, fetch: fail }) } });

  for (const [label, fail] of [
    ['an engine error from the object', async () => ({ ok: false, error: { code: 'STORAGE', message: 'SQLITE_IOERR: disk I/O error at /var/secret/tenant-7.sqlite' } })],
    ['a TypeError thrown on the way', async () => { throw new TypeError("Cannot read properties of undefined (reading 'secretColumn')"); }],
  ] as const) {
    it(`${label}: 500 "internal error" with a request id; the details go to the log`, async () => {
      const { store, options, logged } = setup({ binding: 'BROKEN' });
      const response = await handleStoreRequest(req(store, 'call', { method: 'POST', headers: { 'content-type': 'application/json' }, body: createThread }), failing(fail), options);
      const error = await body(response);
      expect(error.status).toBe(500);
      expect(error.message).toMatch(/^internal error \(request [0-9a-f-]{36}\)$/);
      expect(error.text).not.toMatch(/secret|SQLITE|TypeError/);
      expect(response.headers.get('x-request-id')).toBe(error.details?.['requestId']);
      expect(logged).toHaveLength(1);
      expect(logged[0]!.requestId).toBe(error.details?.['requestId']);
      expect(String((logged[0]!.error as Error).message)).toMatch(/secret/);
    });
  }

  it('a missing binding (a deploy mistake) is a 500 without the router’s own message', async () => {
    const { store, options, logged } = setup({ binding: 'NOT_BOUND' });
    const error = await body(await handleStoreRequest(req(store, 'call', { method: 'POST', headers: { 'content-type': 'application/json' }, body: createThread }), env, options));
    expect(error.status).toBe(500);
    expect(error.text).not.toContain('NOT_BOUND');
    expect(logged).toHaveLength(1);
  });
});

describe('deeply nested JSON', () => {
  it('10,000 levels is 400 INVALID_ARGUMENT naming the limit, before authorize’s store sees it', async () => {
    const { store, options, logged } = setup();
    const deep = `{"method":"createThread","args":[${'['.repeat(10_000)}${']'.repeat(10_000)}]}`;
    const error = await body(await handleStoreRequest(req(store, 'call', { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep }), env, options));
    expect([error.status, error.code, error.details?.['limitDepth']]).toEqual([400, 'INVALID_ARGUMENT', 128]);
    expect(logged).toEqual([]);
  });

  it('brackets inside strings do not count, and the limit itself is allowed', async () => {
    const { store, options } = setup();
    const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const text = JSON.stringify({ method: 'saveCheckpoint', args: ['t', 'c', '[[[['.repeat(1000)] });
    // args (1) + the object (1) = 2 levels around the payload.
    const atLimit = `{"method":"saveCheckpoint","args":["t","c",${nested(126)}]}`;
    for (const b of [text, atLimit]) {
      const response = await handleStoreRequest(req(store, 'call', { method: 'POST', headers: { 'content-type': 'application/json' }, body: b }), env, options);
      // The store refuses the missing thread (404): the body itself got through.
      expect(response.status, b.slice(0, 60)).toBe(404);
    }
    const over = `{"method":"saveCheckpoint","args":["t","c",${nested(127)}]}`;
    expect((await handleStoreRequest(req(store, 'call', { method: 'POST', headers: { 'content-type': 'application/json' }, body: over }), env, options)).status).toBe(400);
  });
});

describe('sync tickets instead of ?access_token', () => {
  const ticketFor = async (store: string, options: StoreRouterOptions) => {
    const response = await handleStoreRequest(req(store, 'ticket', { method: 'POST' }), env, options);
    expect(response.status).toBe(200);
    return ((await response.json()) as { value: { ticket: string; expiresAt: number } }).value;
  };
  const byTicket = (store: string, ticket: string) =>
    new Request(`${base}/stores/${encodeURIComponent(store)}/sync?ticket=${ticket}`, { headers: { upgrade: 'websocket', origin: base } });

  it('a ticket from POST …/ticket opens one sync socket without a token in the URL; a second use is 401', async () => {
    const { store, options } = setup();
    const { ticket, expiresAt } = await ticketFor(store, options);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(30_000);
    const socket = await handleStoreRequest(byTicket(store, ticket), env, options);
    expect(socket.status).toBe(101);
    socket.webSocket!.accept();
    socket.webSocket!.close();
    const again = await body(await handleStoreRequest(byTicket(store, ticket), env, options));
    expect([again.status, again.code]).toEqual([401, 'UNAUTHORIZED']);
  });

  it('a ticket is good for its own store only, refuses a token beside it, and needs the sync grant to be issued', async () => {
    const { store, options } = setup();
    const other = setup();
    const { ticket } = await ticketFor(store, options);
    expect((await handleStoreRequest(byTicket(other.store, ticket), env, other.options)).status).toBe(401);
    const { ticket: second } = await ticketFor(store, options);
    const both = new Request(`${base}/stores/${encodeURIComponent(store)}/sync?ticket=${second}&access_token=x`, { headers: { upgrade: 'websocket' } });
    expect((await handleStoreRequest(both, env, options)).status).toBe(400);
    const none = await body(await handleStoreRequest(req(store, 'ticket', { method: 'POST' }), env, { ...options, authorize: () => ({ store, can: () => false }) }));
    expect([none.status, none.code, none.details?.['method']]).toEqual([403, 'FORBIDDEN', 'sync']);
    expect((await handleStoreRequest(new Request(`${base}/stores/${encodeURIComponent(store)}/ticket`, { method: 'POST' }), env, options)).status).toBe(401);
  });

  it('an expired ticket is refused', async () => {
    const { store } = setup();
    const stub = env.STORES.get(env.STORES.idFromName(store));
    const issued = await stub.issueTicket(1);
    if (!issued.ok) throw new Error('no ticket');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await stub.redeemTicket(issued.value.ticket)).toBe(false);
  });
});
