import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { bearerToken, handleStoreRequest, type StoreRouterOptions } from '../../src/cloudflare/router.js';
import { edgeStore } from '../../src/cloudflare/client.js';
import { LATEST_SCHEMA_VERSION } from '../../src/core/migrate.js';
import { DEFAULT_SYNC_LIMITS, LEASED_SITES, SITE_SIZE, SYNC_PROTOCOL, type PushedChange, type ServerFrame, type Welcome } from '../../src/sync/protocol.js';
import { SMALL_SYNC_LIMITS } from './worker.js';

/**
 * The sync server on the edge: real WebSockets through the router into the store's Durable Object
 * (hibernation API), inside workerd. The frames are src/sync/protocol.ts's; the data work is
 * SyncServer's (src/sync/server.ts), so these tests check the host: routing, authorization,
 * per-socket state, pokes, socket lifetime, and that nothing a client sends can crash the object or
 * touch its rows.
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

type Binding = 'STORES' | 'SMALL' | 'SHORT';

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

/** A hello from a device that never connected: a provisional site (at or above LEASED_SITES) it has not used. */
const hello = (device: string, over: Record<string, unknown> = {}) => ({
  type: 'hello', protocol: SYNC_PROTOCOL, schema: LATEST_SCHEMA_VERSION, device, secret: `secret of ${device}`, site: LEASED_SITES + 12345, siteUsed: false, preSync: false, push: 0, epoch: null, cursor: 0, ...over,
});

/** Says hello and returns the welcome (fails on anything else). */
async function welcomed(socket: Socket, device: string, over: Record<string, unknown> = {}): Promise<Welcome> {
  const answer = await socket.ask(hello(device, over));
  expect(answer).toMatchObject({ type: 'welcome' });
  return answer as Welcome;
}

/** Rows as a device pushes them: the table's columns by name, the key first. */
const threadRow = (id: string, over: Record<string, unknown> = {}) => ({
  id, rollout_path: null, preview: `preview ${id}`, ephemeral: 0, model_provider: 'openai', created_at: 100, updated_at: 100, status: 'idle', cwd: '/', cli_version: '1', source: 'api', title: `title ${id}`, archived: 0, ...over,
});
const threadChange = (id: string, over: Record<string, unknown> = {}): PushedChange => ({ table: 'threads', key: [id], row: threadRow(id, over) as PushedChange['row'] });
const messageChange = (id: number, threadId: string, content: string, parent: number | null = null): PushedChange => ({
  table: 'messages', key: [id], row: { id, thread_id: threadId, role: 'user', content, item_json: null, created_at: 100, parent_entry_id: parent },
});
/** A goal row in the device's state now, with the usage it recorded since its last push (no other column changed). */
const goalChange = (threadId: string, tokensUsed: number, add: number): PushedChange => ({
  table: 'thread_goals',
  key: [threadId],
  row: { thread_id: threadId, goal_id: 'goal-1', objective: 'ship it', status: 'active', token_budget: null, tokens_used: tokensUsed, time_used_seconds: 0, continuation_count: 0, created_at: 100, updated_at: 100 },
  cols: [],
  add: { tokens_used: add, time_used_seconds: 0, continuation_count: 0 },
});
const push = (n: number, changes: unknown[]) => ({ type: 'push', push: n, seen: 0, changes });

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

  it('bearerToken reads the token of an Authorization: Bearer header, and nothing else', () => {
    const withHeader = (value?: string) => new Request('https://app.example/', value === undefined ? {} : { headers: { authorization: value } });
    expect(bearerToken(withHeader('Bearer abc.def-1'))).toBe('abc.def-1');
    expect(bearerToken(withHeader('bearer abc'))).toBe('abc');
    for (const value of [undefined, '', 'Bearer', 'Bearer ', 'Basic abc', 'Bearer a b', 'abc']) expect(bearerToken(withHeader(value)), String(value)).toBeNull();
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
    const refused = await socket.ask({ type: 'push', push: 1, seen: 0, changes: [] });
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

describe('hello and welcome', () => {
  it('leases each new device its own site in place of an unused provisional one, with the limits', async () => {
    const { alice, aliceToken, options } = users();
    const a = await connect(alice, aliceToken, options);
    const b = await connect(alice, aliceToken, options);
    const wa = await welcomed(a, 'device-a-0001');
    const wb = await welcomed(b, 'device-b-0001');
    for (const w of [wa, wb]) {
      expect(w.site).toBeGreaterThanOrEqual(1);
      expect(w.site).toBeLessThan(LEASED_SITES);
      expect(w).toMatchObject({ lastPush: 0, limits: DEFAULT_SYNC_LIMITS, resync: 'epoch' });
    }
    expect(wa.site).not.toBe(wb.site);
    // What a socket said lives in its attachment, which survives hibernation (nothing in the object's memory).
    const attachments = await runInDurableObject(env.STORES.get(env.STORES.idFromName(alice)), (_object, state) => state.getWebSockets().map((ws) => ws.deserializeAttachment() as unknown));
    expect(attachments).toEqual(expect.arrayContaining([expect.objectContaining({ device: 'device-a-0001' }), expect.objectContaining({ device: 'device-b-0001' })]));
    // The same device, back on a new socket, keeps its site.
    a.close();
    const again = await connect(alice, aliceToken, options);
    expect((await welcomed(again, 'device-a-0001')).site).toBe(wa.site);
    for (const s of [b, again]) s.close();
  });

  it('keeps a provisional site the device already used, and refuses one another device holds (CONFLICT, socket closed)', async () => {
    const { alice, aliceToken, options } = users();
    const a = await connect(alice, aliceToken, options);
    const used = LEASED_SITES + 777;
    expect((await welcomed(a, 'device-a-0002', { site: used, siteUsed: true })).site).toBe(used);
    const before = await dump(alice);
    const c = await connect(alice, aliceToken, options);
    expect(await c.ask(hello('device-c-0002', { site: used, siteUsed: true }))).toMatchObject({ type: 'error', code: 'CONFLICT' });
    expect((await c.closed).code).toBe(1008);
    expect(await dump(alice)).toEqual(before);
    a.close();
  });

  it('refuses a bad hello with an error frame and closes the socket; a second hello on one socket is refused', async () => {
    const { alice, aliceToken, options } = users();
    const bad = await connect(alice, aliceToken, options);
    expect(await bad.ask(hello('device-x-0003', { protocol: 99 }))).toMatchObject({ type: 'error', code: 'INVALID_ARGUMENT' });
    expect((await bad.closed).code).toBe(1008);
    const short = await connect(alice, aliceToken, options);
    expect(await short.ask(hello('x'))).toMatchObject({ type: 'error', code: 'INVALID_ARGUMENT' });
    expect((await short.closed).code).toBe(1008);
    const a = await connect(alice, aliceToken, options);
    await welcomed(a, 'device-a-0003');
    expect(await a.ask(hello('device-z-0003'))).toMatchObject({ type: 'error', code: 'INVALID_ARGUMENT' });
    expect(await a.ask({ type: 'pull', cursor: 0 })).toMatchObject({ type: 'changes' });
    a.close();
  });
});

describe('push, poke and pull', () => {
  it('acks a push, pokes every other welcomed socket (not the pusher, not one without hello), and the other device pulls the rows', async () => {
    const { alice, aliceToken, options } = users();
    const a = await connect(alice, aliceToken, options);
    const b = await connect(alice, aliceToken, options);
    const silent = await connect(alice, aliceToken, options);
    const { site } = await welcomed(a, 'device-a-0004');
    await welcomed(b, 'device-b-0004');
    const id = site * SITE_SIZE + 1;
    const ack = await a.ask(push(1, [threadChange('t1'), messageChange(id, 't1', 'hello from a')]));
    expect(ack).toMatchObject({ type: 'ack', push: 1, applied: 2, skipped: 0 });
    const cursor = (ack as { cursor: number }).cursor;
    expect(cursor).toBeGreaterThan(0);
    expect(await b.next()).toEqual({ type: 'poke', cursor });
    // Frames arrive in order: had the pusher been poked, the poke would come before this answer.
    expect(await a.ask({ type: 'pull', cursor: 0 })).toMatchObject({ type: 'changes' });
    expect(await silent.ask('not json')).toMatchObject({ type: 'error' });
    const pulled = await b.ask({ type: 'pull', cursor: 0 });
    expect(pulled).toMatchObject({ type: 'changes', cursor, more: false });
    const changes = (pulled as { changes: Array<{ table: string; key: unknown[]; row: Record<string, unknown> | null }> }).changes;
    expect(changes.map((c) => [c.table, c.key])).toEqual([['threads', ['t1']], ['messages', [id]]]);
    expect(changes[1]!.row).toMatchObject({ content: 'hello from a', thread_id: 't1' });
    // And it is in the store's own tables.
    expect((await dump(alice))['messages']!.map((row) => (JSON.parse(row) as { content: string }).content)).toEqual(['hello from a']);
    for (const s of [a, b, silent]) s.close();
  });

  it('applies a push number once: a resent push changes nothing and pokes no one; goal usage from two devices adds up', async () => {
    const { alice, aliceToken, options } = users();
    const a = await connect(alice, aliceToken, options);
    const b = await connect(alice, aliceToken, options);
    await welcomed(a, 'device-a-0005');
    await welcomed(b, 'device-b-0005');
    expect(await a.ask(push(1, [threadChange('g'), goalChange('g', 10, 10)]))).toMatchObject({ type: 'ack', applied: 2 });
    expect(await b.next()).toMatchObject({ type: 'poke' });
    expect(await a.ask(push(2, [goalChange('g', 15, 5)]))).toMatchObject({ type: 'ack', push: 2, applied: 1 });
    expect(await b.next()).toMatchObject({ type: 'poke' });
    const before = await dump(alice);
    // The same push again (a reconnect after the ack was lost): acknowledged, not applied.
    expect(await a.ask(push(2, [goalChange('g', 15, 5)]))).toMatchObject({ type: 'ack', push: 2, applied: 0 });
    expect(await a.ask(push(1, [goalChange('g', 10, 10)]))).toMatchObject({ type: 'ack', push: 1, applied: 0 });
    expect(await dump(alice)).toEqual(before);
    expect(await b.ask({ type: 'pull', cursor: 1_000_000 })).toMatchObject({ type: 'changes' });
    expect((await edgeStore(env.STORES, alice).getThreadGoal('g'))?.tokensUsed).toBe(15);
    // Another device's usage of the same goal is a delta too.
    expect(await b.ask(push(1, [goalChange('g', 7, 7)]))).toMatchObject({ type: 'ack', applied: 1 });
    expect((await edgeStore(env.STORES, alice).getThreadGoal('g'))?.tokensUsed).toBe(22);
    // A device back on a new socket learns which push was applied last.
    a.close();
    const again = await connect(alice, aliceToken, options);
    expect((await welcomed(again, 'device-a-0005')).lastPush).toBe(2);
    for (const s of [b, again]) s.close();
  });
});

describe('pushes the server refuses, with the data intact', () => {
  it('sets a bad change aside, named in the ack, and applies the rest; a malformed push is refused whole', async () => {
    const { alice, aliceToken, options } = users();
    const a = await connect(alice, aliceToken, options);
    const b = await connect(alice, aliceToken, options);
    const { site } = await welcomed(a, 'device-a-0006');
    await welcomed(b, 'device-b-0006');
    expect(await a.ask(push(1, [threadChange('t')]))).toMatchObject({ type: 'ack', applied: 1 });
    expect(await b.next()).toMatchObject({ type: 'poke' });
    const before = await dump(alice);
    const bad: Array<[string, unknown]> = [
      ['an unknown table', { table: 'sqlite_master', key: ['x'], row: null }],
      ['a table the store has but does not sync', { table: 'sync_log', key: [1], row: null }],
      ['a key of the wrong shape', { table: 'threads', key: 't', row: null }],
      ['a column the table lacks', threadChange('u', { evil: 1 })],
      ['a row whose key differs from the change key', { table: 'threads', key: ['v'], row: threadRow('w') }],
      ['a message id outside the device sites', messageChange(((site + 1) % LEASED_SITES) * SITE_SIZE + 1, 't', 'not mine')],
      ['a change that is not an object', 'DROP TABLE threads'],
      ['usage on a table without usage', { ...threadChange('t'), add: { tokens_used: 1, time_used_seconds: 0, continuation_count: 0 } }],
      ['a row the schema refuses (a NOT NULL column missing)', { table: 'threads', key: ['late'], row: { id: 'late' } }],
    ];
    let n = 2;
    for (const [what, change] of bad) {
      const ack = await a.ask(push(n++, [change]));
      expect(ack, what).toMatchObject({ type: 'ack', applied: 0 });
      expect((ack as { rejected: unknown[] }).rejected, what).toHaveLength(1);
    }
    for (const frame of [{ type: 'push', push: n, seen: 0, changes: { 0: 'x' } }, ...[0, -1, 1.5, '2', null].map((k) => ({ type: 'push', push: k, seen: 0, changes: [] }))]) {
      expect(await a.ask(frame), JSON.stringify(frame)).toMatchObject({ type: 'error', code: 'INVALID_ARGUMENT' });
    }
    // Only the device's push number moved: no row, no log entry.
    const after = await dump(alice);
    for (const table of Object.keys(before)) if (table !== 'sync_devices') expect(after[table], table).toEqual(before[table]);
    // The good change beside a bad one is applied.
    const ack = await a.ask(push(n, [threadChange('t', { title: 'changed' }), { table: 'nope', key: ['x'], row: null }]));
    expect(ack).toMatchObject({ type: 'ack', applied: 1 });
    expect((await edgeStore(env.STORES, alice).getThread('t'))?.name).toBe('changed');
    for (const s of [a, b]) s.close();
  });

  it('refuses a push over the configured limits as a whole (too many changes), and sets aside a change too big', async () => {
    const { alice, aliceToken, options } = users();
    const a = await connect(alice, aliceToken, options, 'SMALL');
    const welcome = await welcomed(a, 'device-a-0007');
    expect(welcome.limits).toEqual(SMALL_SYNC_LIMITS);
    const before = await dump(alice, 'SMALL');
    const many = Array.from({ length: SMALL_SYNC_LIMITS.maxChanges + 1 }, (_, i) => threadChange(`t${i}`));
    expect(await a.ask(push(1, many))).toMatchObject({ type: 'error', code: 'INVALID_ARGUMENT', push: 1 });
    expect(await dump(alice, 'SMALL')).toEqual(before);
    const big = threadChange('big', { preview: 'x'.repeat(SMALL_SYNC_LIMITS.maxChangeBytes) });
    const ack = await a.ask(push(1, [big]));
    expect(ack).toMatchObject({ type: 'ack', applied: 0, rejected: [expect.objectContaining({ code: 'INVALID_ARGUMENT' })] });
    expect(await a.ask(push(2, many.slice(0, SMALL_SYNC_LIMITS.maxChanges)))).toMatchObject({ type: 'ack', applied: SMALL_SYNC_LIMITS.maxChanges });
    a.close();
  });
});

describe('a socket has a bounded life', () => {
  it('a socket older than syncSocketMaxAgeMs is closed (4001) at its next frame, so authorize sees the token again', async () => {
    const { alice, aliceToken, options } = users();
    const a = await connect(alice, aliceToken, options, 'SHORT');
    await welcomed(a, 'device-a-0008');
    await new Promise((r) => setTimeout(r, 300));
    a.send({ type: 'pull', cursor: 0 });
    expect((await a.closed).code).toBe(4001);
  });
});

describe("the server's own writes", () => {
  it('a message written through edgeStore() takes an id of the server\'s site, is logged, and pokes the devices', async () => {
    const { alice, aliceToken, options } = users();
    const a = await connect(alice, aliceToken, options);
    const { site } = await welcomed(a, 'device-a-0009');
    expect(await a.ask(push(1, [threadChange('t')]))).toMatchObject({ type: 'ack', applied: 1 });
    const client = edgeStore(env.STORES, alice);
    const id = await client.appendMessage('t', 'assistant', 'from the server');
    expect(Math.floor(id / SITE_SIZE)).not.toBe(site);
    expect(Math.floor(id / SITE_SIZE)).toBeGreaterThan(0);
    expect(await a.next()).toMatchObject({ type: 'poke' });
    const pulled = (await a.ask({ type: 'pull', cursor: 0 })) as { changes: Array<{ table: string; key: unknown[] }> };
    expect(pulled.changes.map((c) => [c.table, c.key])).toContainEqual(['messages', [id]]);
    a.close();
  });
});
