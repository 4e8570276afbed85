import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { handleStoreRequest, type StoreRouterOptions } from '../../src/cloudflare/router.js';
import { DEFAULT_SYNC_LIMITS, SYNC_PROTOCOL, type ServerFrame } from '../../src/core/sync-protocol.js';
import { SMALL_SYNC_LIMITS } from './worker.js';

/**
 * The sync server on the edge: real WebSockets through the router into the store's Durable Object
 * (hibernation API), inside workerd. The frames are src/core/sync-protocol.ts's; the data work is
 * the core's serveHello/servePush/servePull, so these tests check the host: routing, authorization,
 * per-socket state, pokes, and that nothing a client sends can crash the object or touch its rows.
 */

let run = 0;
/** Two users with their own stores, fresh per test; authorize records the URLs it saw. */
function users() {
  run++;
  const alice = `user:alice-${run}`;
  const bob = `user:bob-${run}`;
  const tokens: Record<string, string> = { [`alice-${run}`]: alice, [`bob-${run}`]: bob };
  const seen: string[] = [];
  const authorize: StoreRouterOptions['authorize'] = (request) => {
    seen.push(request.url);
    const token = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
    return token ? (tokens[token] ?? null) : null;
  };
  return { alice, bob, aliceToken: `alice-${run}`, bobToken: `bob-${run}`, seen, options: { authorize } as StoreRouterOptions };
}

type Binding = 'STORES' | 'SMALL';

function syncRequest(store: string, init: { token?: string; query?: string; upgrade?: boolean; method?: string } = {}): Request {
  const headers = new Headers();
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  if (init.upgrade !== false) headers.set('upgrade', 'websocket');
  const query = init.query ? `?${init.query}` : '';
  return new Request(`https://app.example/stores/${encodeURIComponent(store)}/sync${query}`, { method: init.method ?? 'GET', headers });
}

/** A client end of a sync socket: frames arrive in order into a queue the test reads with next(). */
class Socket {
  readonly frames: ServerFrame[] = [];
  readonly #waiting: Array<(frame: ServerFrame) => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.accept();
    ws.addEventListener('message', (event) => {
      const frame = JSON.parse(String(event.data)) as ServerFrame;
      const waiter = this.#waiting.shift();
      if (waiter) waiter(frame);
      else this.frames.push(frame);
    });
    this.closed = new Promise((resolve) => ws.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason })));
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' || frame instanceof ArrayBuffer ? frame : JSON.stringify(frame));
  }

  /** The next frame the server sent (fails after 5 s). */
  next(): Promise<ServerFrame> {
    const queued = this.frames.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no frame within 5 s')), 5000);
      this.#waiting.push((frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
    });
  }

  /** Sends `frame` and returns the server's next frame. */
  async ask(frame: unknown): Promise<ServerFrame> {
    this.send(frame);
    return this.next();
  }

  close(): void {
    try {
      this.ws.close(1000, 'done');
    } catch {
      // already closed
    }
  }
}

/** Opens a sync socket through the router, as a browser does (the token in the query). */
async function connect(store: string, token: string, options: StoreRouterOptions, binding: Binding = 'STORES'): Promise<Socket> {
  const response = await handleStoreRequest(syncRequest(store, { query: `access_token=${encodeURIComponent(token)}` }), env, { ...options, binding });
  expect(response.status).toBe(101);
  expect(response.webSocket).toBeTruthy();
  return new Socket(response.webSocket!);
}

async function errorOf(response: Response): Promise<{ status: number; code: string; text: string }> {
  const text = await response.text();
  return { status: response.status, code: (JSON.parse(text) as { error: { code: string } }).error.code, text };
}

/** Every table of a store's object, canonically (test/support/full-store.ts). */
function dump(store: string, binding: Binding = 'STORES'): Promise<Record<string, string[]>> {
  const namespace = env[binding];
  return namespace.get(namespace.idFromName(store)).dump();
}

const hello = (device: string, over: Record<string, unknown> = {}) => ({ type: 'hello', protocol: SYNC_PROTOCOL, device, site: LEASED_PROVISIONAL, siteUsed: false, preSync: false, ...over });
/** A provisional site a device that never connected would pick (at or above LEASED_SITES). */
const LEASED_PROVISIONAL = 2 ** 20 + 12345;

describe('the sync route: authorization', () => {
  it('refuses an upgrade with no token (401) and with a wrong token (401)', async () => {
    const { alice, options } = users();
    const none = await errorOf(await handleStoreRequest(syncRequest(alice), env, options));
    expect([none.status, none.code]).toEqual([401, 'UNAUTHORIZED']);
    for (const init of [{ token: 'wrong' }, { query: 'access_token=wrong' }]) {
      const wrong = await errorOf(await handleStoreRequest(syncRequest(alice, init), env, options));
      expect([wrong.status, wrong.code]).toEqual([401, 'UNAUTHORIZED']);
    }
  });

  it("refuses one user's token on another user's store (403), by header or by query", async () => {
    const { bob, aliceToken, options } = users();
    for (const init of [{ token: aliceToken }, { query: `access_token=${aliceToken}` }, { token: aliceToken, upgrade: false }]) {
      const refused = await errorOf(await handleStoreRequest(syncRequest(bob, init), env, options));
      expect([refused.status, refused.code]).toEqual([403, 'FORBIDDEN']);
      expect(refused.text).not.toContain('bob');
    }
  });

  it('moves access_token into the Authorization header, out of the URL authorize sees', async () => {
    const { alice, aliceToken, seen, options } = users();
    const socket = await connect(alice, aliceToken, options);
    expect(seen).toEqual([`https://app.example/stores/${encodeURIComponent(alice)}/sync`]);
    socket.close();
  });

  it('refuses a token sent both ways (400), and reads access_token on the sync route only', async () => {
    const { alice, aliceToken, options } = users();
    const both = await errorOf(await handleStoreRequest(syncRequest(alice, { token: aliceToken, query: `access_token=${aliceToken}` }), env, options));
    expect([both.status, both.code]).toEqual([400, 'INVALID_ARGUMENT']);
    const call = new Request(`https://app.example/stores/${encodeURIComponent(alice)}/call?access_token=${aliceToken}`, { method: 'POST', body: '{"method":"listThreads","args":[]}' });
    const refused = await errorOf(await handleStoreRequest(call, env, options));
    expect([refused.status, refused.code]).toEqual([401, 'UNAUTHORIZED']);
  });

  it('answers the probe (GET without upgrade) 204 after authorize, and refuses other methods', async () => {
    const { alice, aliceToken, options } = users();
    const probe = await handleStoreRequest(syncRequest(alice, { token: aliceToken, upgrade: false }), env, options);
    expect(probe.status).toBe(204);
    const byQuery = await handleStoreRequest(syncRequest(alice, { query: `access_token=${aliceToken}`, upgrade: false }), env, options);
    expect(byQuery.status).toBe(204);
    const bad = await errorOf(await handleStoreRequest(syncRequest(alice, { token: 'wrong', upgrade: false }), env, options));
    expect([bad.status, bad.code]).toEqual([401, 'UNAUTHORIZED']);
    const post = await handleStoreRequest(syncRequest(alice, { token: aliceToken, method: 'POST' }), env, options);
    expect(post.status).toBe(405);
  });

  it('the object itself accepts nothing but a WebSocket upgrade', async () => {
    const stub = env.STORES.get(env.STORES.newUniqueId());
    const response = await stub.fetch('https://object/sync');
    expect(response.status).toBe(426);
  });
});

describe('frames a client may not send', () => {
  it('answers garbage with INVALID_ARGUMENT error frames and keeps the socket open', async () => {
    const { alice, aliceToken, options } = users();
    const before = await dump(alice);
    const socket = await connect(alice, aliceToken, options);
    const garbage: unknown[] = ['not json', '{"type":', '[1,2]', 'null', '42', '{"no":"type"}', { type: 42 }, { type: 'teleport' }, new TextEncoder().encode('{"type":"pull","cursor":0}').buffer];
    for (const frame of garbage) {
      const answer = await socket.ask(frame);
      expect(answer, String(frame)).toMatchObject({ type: 'error', code: 'INVALID_ARGUMENT' });
    }
    expect(await dump(alice)).toEqual(before);
    socket.close();
  });

  it('refuses push and pull before a successful hello, with the push number in the error', async () => {
    const { alice, aliceToken, options } = users();
    const before = await dump(alice);
    const socket = await connect(alice, aliceToken, options);
    const refused = await socket.ask({ type: 'push', push: 1, changes: [] });
    expect(refused).toMatchObject({ type: 'error', code: 'INVALID_ARGUMENT', push: 1 });
    expect(refused.type === 'error' && refused.message).toContain('hello');
    expect(await socket.ask({ type: 'pull', cursor: 0 })).toMatchObject({ type: 'error', code: 'INVALID_ARGUMENT' });
    expect(await dump(alice)).toEqual(before);
    socket.close();
  });

  it('refuses a frame over maxFrameBytes before parsing it', async () => {
    const { alice, aliceToken, options } = users();
    const socket = await connect(alice, aliceToken, options, 'SMALL');
    const answer = await socket.ask(JSON.stringify({ type: 'pull', cursor: 0, pad: 'x'.repeat(SMALL_SYNC_LIMITS.maxFrameBytes) }));
    expect(answer).toMatchObject({ type: 'error', code: 'INVALID_ARGUMENT' });
    expect(answer.type === 'error' && answer.message).toContain(String(SMALL_SYNC_LIMITS.maxFrameBytes));
    socket.close();
  });
});

export { DEFAULT_SYNC_LIMITS, hello };
