import { describe, expect, it } from 'vitest';
import { createMemoryStore, type MemoryStore } from '../../src/memory-store.js';
import { StoreError } from '../../src/core/errors.js';
import { DEFAULT_SYNC_LIMITS, SITE_SIZE, SYNC_PROTOCOL, LEASED_SITES, type SyncLimits } from '../../src/core/sync-protocol.js';
import { fillEveryTable } from '../support/full-store.js';
import { syncedDump } from '../support/sync-dump.js';

/**
 * The core's sync, both ends in one process: a "server" store (what the Durable Object hosts) and
 * device stores, joined by a loop that does what the hosts do with frames (hello → welcome, push →
 * ack, pull → changes). Real sqlite-wasm everywhere; only the socket is left out (the browser
 * suite, test/sync, has it).
 */

type Sql = { all(sql: string, params?: unknown[]): Record<string, unknown>[] };
const sqlOf = (store: MemoryStore): Sql => (store as unknown as { db: Sql }).db;
const dump = (store: MemoryStore) => syncedDump((sql) => sqlOf(store).all(sql));

const thread = (id: string, over: Record<string, unknown> = {}) => ({
  id, preview: '', ephemeral: false, modelProvider: 'openai', createdAt: 1, updatedAt: 1, status: 'idle' as const, cwd: '/', cliVersion: '1', source: 'api' as const, ...over,
});

async function device(): Promise<MemoryStore> {
  const store = await createMemoryStore();
  store.enableSync();
  return store;
}

/** One sync session of a device: hello, every push (each acknowledged unless `loseAcks`), then every pull page. */
function sync(server: MemoryStore, store: MemoryStore, options: { loseAcks?: boolean; limits?: SyncLimits; pageSize?: number } = {}): { pushed: number; pulled: number } {
  const limits = options.limits ?? DEFAULT_SYNC_LIMITS;
  const id = store.enableSync();
  const welcome = server.serveHello({ type: 'hello', protocol: SYNC_PROTOCOL, ...id }, limits);
  store.syncWelcome(welcome);
  let pushed = 0;
  for (let batch = store.nextPush(limits); batch; batch = store.nextPush(limits)) {
    server.servePush(id.device, batch.push, batch.changes, limits);
    pushed += batch.changes.length;
    if (options.loseAcks) return { pushed, pulled: 0 };
    store.acknowledgePush(batch.push);
  }
  let pulled = 0;
  for (;;) {
    const page = server.servePull(store.syncStatus().cursor, options.pageSize ?? 500, id.device, limits);
    expect(Buffer.byteLength(JSON.stringify({ type: 'changes', ...page }))).toBeLessThanOrEqual(limits.maxFrameBytes);
    store.applyPulled(page.changes, page.cursor);
    pulled += page.changes.length;
    if (!page.more) break;
  }
  return { pushed, pulled };
}

/** Only the pull half of a session: what a device does when a poke arrives while it has unpushed changes. */
function pullOnly(server: MemoryStore, store: MemoryStore): void {
  const id = store.enableSync();
  store.syncWelcome(server.serveHello({ type: 'hello', protocol: SYNC_PROTOCOL, ...id }));
  for (;;) {
    const page = server.servePull(store.syncStatus().cursor, 500, id.device);
    store.applyPulled(page.changes, page.cursor);
    if (!page.more) break;
  }
}

/** Sync every device until nothing moves (two rounds: the last device's push reaches the first). */
function settle(server: MemoryStore, ...devices: MemoryStore[]): void {
  for (let round = 0; round < 2; round++) for (const d of devices) sync(server, d);
}

describe('sync between devices and their server (core, in-process)', () => {
  it('a new device gets every table, and the server and both devices hold the same rows', async () => {
    const server = await createMemoryStore();
    const a = await createMemoryStore();
    await fillEveryTable(a);
    // A store that existed before sync uploads what it holds.
    a.enableSync();
    expect(a.syncStatus().pending).toBeGreaterThan(20);
    sync(server, a);
    expect(a.syncStatus().pending).toBe(0);
    const b = await device();
    sync(server, b);
    expect(await dump(b)).toEqual(await dump(a));
    expect(await dump(server)).toEqual(await dump(a));
    expect(b.findThreadNameById('alpha')).toBe('Alpha project');
    expect(b.searchMessages('zanzibar').length).toBe(1);
  });

  it('concurrent appends under one parent are both kept, as siblings, and ids never collide', async () => {
    const server = await createMemoryStore();
    const a = await device();
    const b = await device();
    settle(server, a, b);
    a.upsertThread(thread('t'));
    const root = a.appendMessage('t', 'user', 'hello');
    settle(server, a, b);
    // Both offline, both answer the same message.
    const fromA = a.appendMessage('t', 'assistant', 'answer from A');
    const fromB = b.appendMessage('t', 'assistant', 'answer from B');
    expect(fromA).not.toBe(fromB);
    // Each device allocates from its own leased site.
    expect(Math.floor(fromA / SITE_SIZE)).not.toBe(Math.floor(fromB / SITE_SIZE));
    expect(Math.floor(fromA / SITE_SIZE)).toBeLessThan(LEASED_SITES);
    settle(server, a, b);
    const siblings = (s: MemoryStore) => s.listLeafMessages('t').map((m) => m.id).sort();
    expect(siblings(a)).toEqual([fromA, fromB].sort());
    expect(siblings(b)).toEqual(siblings(a));
    // Each device's view stayed on its own branch.
    expect(a.getThread('t')?.currentLeafId).toBe(fromA);
    expect(b.getThread('t')?.currentLeafId).toBe(fromB);
    expect(a.getBranch('t').map((m) => m.id)).toEqual([root, fromA]);
    expect(await dump(a)).toEqual(await dump(b));
  });

  it("a remote message that continues this device's leaf moves it; one on another branch does not", async () => {
    const server = await createMemoryStore();
    const a = await device();
    const b = await device();
    a.upsertThread(thread('t'));
    const m1 = a.appendMessage('t', 'user', 'one');
    settle(server, a, b);
    const m2 = a.appendMessage('t', 'assistant', 'two');
    const m3 = a.appendMessage('t', 'user', 'three');
    sync(server, a);
    sync(server, b);
    expect(b.getThread('t')?.currentLeafId).toBe(m3);
    // B goes back to m1 and forks; A continues its own branch: B's view stays on B's fork.
    const fork = b.forkAtMessage(m1, 'user', 'B forks');
    const m4 = a.appendMessage('t', 'assistant', 'four');
    settle(server, a, b);
    expect(b.getThread('t')?.currentLeafId).toBe(fork);
    expect(a.getThread('t')?.currentLeafId).toBe(m4);
    b.setCurrentLeafId('t', m4);
    expect(b.listMessages('t').map((m) => m.id)).toEqual([m1, m2, m3, m4]);
  });

  it('goal usage from two devices adds up, exactly once even when an acknowledgement is lost', async () => {
    const server = await createMemoryStore();
    const a = await device();
    const b = await device();
    a.upsertThread(thread('t'));
    a.upsertThreadGoal({ threadId: 't', goalId: 'g', objective: 'o', status: 'active', tokenBudget: null, tokensUsed: 0, timeUsedSeconds: 0, continuationCount: 0, createdAt: 1, updatedAt: 1 });
    settle(server, a, b);
    a.recordThreadGoalUsage('t', 100, 10, 5);
    a.recordThreadGoalContinuation('t', 5);
    b.recordThreadGoalUsage('t', 30, 3, 5);
    b.recordThreadGoalUsage('t', 7, 0, 5);
    sync(server, b);
    // A pulls B's totals while its own usage is still unpushed: it shows both.
    pullOnly(server, a);
    expect(a.getThreadGoal('t')).toMatchObject({ tokensUsed: 137, timeUsedSeconds: 13, continuationCount: 1 });
    // A's push is applied but its ack never arrives; the next session resends it.
    sync(server, a, { loseAcks: true });
    a.recordThreadGoalUsage('t', 1, 1, 5);
    settle(server, a, b);
    for (const s of [a, b, server]) {
      const goal = s.getThreadGoal('t')!;
      expect([goal.tokensUsed, goal.timeUsedSeconds, goal.continuationCount]).toEqual([138, 14, 1]);
    }
  });

  it('a push number already applied is answered without writing', async () => {
    const server = await createMemoryStore();
    const a = await device();
    a.upsertThread(thread('t'));
    a.upsertThreadGoal({ threadId: 't', goalId: 'g', objective: 'o', status: 'active', tokenBudget: null, tokensUsed: 0, timeUsedSeconds: 0, continuationCount: 0, createdAt: 1, updatedAt: 1 });
    sync(server, a);
    a.recordThreadGoalUsage('t', 5, 0, 5);
    const id = a.enableSync();
    a.syncWelcome(server.serveHello({ type: 'hello', protocol: SYNC_PROTOCOL, ...id }));
    const batch = a.nextPush(DEFAULT_SYNC_LIMITS)!;
    expect(server.servePush(id.device, batch.push, batch.changes).applied).toBe(1);
    expect(server.servePush(id.device, batch.push, batch.changes)).toMatchObject({ applied: 0, skipped: 0 });
    expect(server.getThreadGoal('t')!.tokensUsed).toBe(5);
  });

  it('a deleted thread stays deleted: an offline edit from another device does not bring it back', async () => {
    const server = await createMemoryStore();
    const a = await device();
    const b = await device();
    a.upsertThread(thread('t', { name: 'doomed' }));
    a.appendMessage('t', 'user', 'hi');
    a.saveCheckpoint('t', 'cp', { x: 1 });
    settle(server, a, b);
    a.deleteThread('t');
    sync(server, a);
    // B, offline, edited the thread meanwhile.
    b.updateThread('t', { title: 'renamed offline' });
    b.appendMessage('t', 'user', 'written offline');
    b.saveCheckpoint('t', 'cp2', { x: 2 });
    settle(server, a, b);
    for (const s of [a, b, server]) {
      expect(s.getThread('t')).toBeNull();
      expect(s.listThreadMessages('t')).toEqual([]);
    }
    expect(await dump(b)).toEqual(await dump(a));
    expect(await dump(server)).toEqual(await dump(a));
  });

  it('threads, jobs and checkpoints: last writer wins in the order the server applied them, for the whole record', async () => {
    const server = await createMemoryStore();
    const a = await device();
    const b = await device();
    a.upsertThread(thread('t'));
    a.upsertJob({ id: 'j', name: 'index', status: 'running', progress: 10, detail: null, createdAt: 1, updatedAt: 1 });
    settle(server, a, b);
    // B's clock is years ahead; A writes later in server order and wins anyway.
    b.upsertJob({ id: 'j', name: 'index', status: 'running', progress: 50, detail: 'from B', createdAt: 1, updatedAt: 9_999_999_999 });
    sync(server, b);
    a.upsertJob({ id: 'j', name: 'index', status: 'completed', progress: 100, detail: null, createdAt: 1, updatedAt: 2 });
    a.setThreadMemoryMode('t', 'disabled');
    settle(server, a, b);
    for (const s of [a, b, server]) expect(s.getJob('j')).toMatchObject({ status: 'completed', progress: 100, detail: null, updatedAt: 2 });
    expect(b.getThread('t')?.memoryMode).toBe('disabled');
    expect(await dump(a)).toEqual(await dump(b));
  });

  it('a pulled change is announced to subscribers like a local one', async () => {
    const server = await createMemoryStore();
    const a = await device();
    const b = await device();
    a.upsertThread(thread('t'));
    settle(server, a, b);
    const seen: unknown[] = [];
    const stop = b.subscribe((c) => seen.push(c));
    a.appendMessage('t', 'user', 'news');
    settle(server, a, b);
    stop();
    expect(seen).toContainEqual(expect.objectContaining({ kind: 'message', threadId: 't', method: null }));
  });

  it('pages of a large pull carry the parents their rows need', async () => {
    const server = await createMemoryStore();
    const a = await device();
    for (let t = 0; t < 5; t++) {
      a.upsertThread(thread(`t${t}`));
      for (let i = 0; i < 30; i++) a.appendMessage(`t${t}`, 'user', `m${i}`);
    }
    sync(server, a);
    // Every thread row was logged again after its messages (appends touch the thread), so a page
    // of messages comes before their thread in the server's order.
    for (let t = 0; t < 5; t++) a.updateThread(`t${t}`, { title: `T${t}` });
    sync(server, a);
    const b = await device();
    sync(server, b, { pageSize: 7 });
    expect(await dump(b)).toEqual(await dump(a));
  });

  it('refuses garbage with INVALID_ARGUMENT and leaves the server as it was', async () => {
    const server = await createMemoryStore();
    const a = await device();
    a.upsertThread(thread('t'));
    a.appendMessage('t', 'user', 'hi');
    sync(server, a);
    const before = await dump(server);
    const id = a.enableSync();
    const limits = { ...DEFAULT_SYNC_LIMITS, maxChanges: 3, maxChangeBytes: 2000 };
    const valid = { table: 'threads', key: ['t'], row: { ...server.getThread('t'), id: 't' } };
    const cases: unknown[][] = [
      [[{ table: 'nope', key: ['t'], row: null }]],
      [[{ table: 'threads', key: [], row: null }]],
      [[{ table: 'threads', key: ['t'], row: { id: 't', no_such_column: 1 } }]],
      [[{ table: 'threads', key: ['t'], row: { id: 'other' } }]],
      [[{ table: 'messages', key: [5], row: { id: 5, thread_id: 't', role: 'user', content: 'not my site', created_at: 1 } }]],
      [[{ table: 'messages', key: [id.site * SITE_SIZE + 99], row: { id: id.site * SITE_SIZE + 99, thread_id: 't', role: 'user', content: 'x'.repeat(5000), created_at: 1 } }]],
      [[{ table: 'threads', key: ['t'], row: { id: 't', preview: { $bytes: '%%%' } } }]],
      [[valid, valid, valid, valid]],
      ['not an array'],
    ];
    for (const [changes] of cases) {
      let error: unknown;
      try {
        server.servePush(id.device, 99, changes, limits);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(changes).slice(0, 120)).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('INVALID_ARGUMENT');
    }
    // A batch whose last change violates a constraint rolls back the ones before it.
    expect(() =>
      server.servePush(id.device, 100, [
        { table: 'jobs', key: ['j'], row: { id: 'j', name: 'n', status: 's', created_at: 1, updated_at: 1 } },
        { table: 'thread_goals', key: ['t'], row: { thread_id: 't', goal_id: 'g', objective: 'o', status: 'not-a-status', created_at: 1, updated_at: 1 } },
      ]),
    ).toThrow(StoreError);
    expect(() => server.servePush('never-said-hello', 1, [])).toThrow(StoreError);
    expect(() => server.serveHello({ type: 'hello', protocol: 99, device: id.device, site: id.site, siteUsed: false, preSync: false })).toThrow(StoreError);
    expect(await dump(server)).toEqual(before);
  });

  it('two devices holding messages from before sync cannot both join: CONFLICT, nothing written', async () => {
    const server = await createMemoryStore();
    const a = await createMemoryStore();
    const b = await createMemoryStore();
    for (const s of [a, b]) {
      s.upsertThread(thread('t'));
      s.appendMessage('t', 'user', 'pre-sync');
    }
    a.enableSync();
    sync(server, a);
    const id = b.enableSync();
    expect(id.preSync).toBe(true);
    expect(() => server.serveHello({ type: 'hello', protocol: SYNC_PROTOCOL, ...id })).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
  });

  it('a device that wrote before ever connecting keeps its provisional site; one that did not gets a leased site', async () => {
    const server = await createMemoryStore();
    const offline = await device();
    offline.upsertThread(thread('t'));
    const id1 = offline.appendMessage('t', 'user', 'written before ever connecting');
    const site = Math.floor(id1 / SITE_SIZE);
    expect(site).toBeGreaterThanOrEqual(LEASED_SITES);
    sync(server, offline);
    const id2 = offline.appendMessage('t', 'user', 'after');
    expect(Math.floor(id2 / SITE_SIZE)).toBe(site);
    expect(id2).toBe(id1 + 1);
    const fresh = await device();
    sync(server, fresh);
    fresh.upsertThread(thread('u'));
    expect(Math.floor(fresh.appendMessage('u', 'user', 'x') / SITE_SIZE)).toBe(1);
  });

  it("clearing a thread's messages on one device clears them on the other, and its leaf does not dangle", async () => {
    const server = await createMemoryStore();
    const a = await device();
    const b = await device();
    a.upsertThread(thread('t'));
    a.appendMessage('t', 'user', 'one');
    a.appendMessage('t', 'assistant', 'two');
    settle(server, a, b);
    a.clearMessages('t');
    settle(server, a, b);
    expect(b.listThreadMessages('t')).toEqual([]);
    expect(b.getThread('t')?.currentLeafId).toBeNull();
    expect(b.getBranch('t')).toEqual([]);
  });

  it('a streamed message reaches the other device with its final text and status', async () => {
    const server = await createMemoryStore();
    const a = await device();
    const b = await device();
    a.upsertThread(thread('t'));
    settle(server, a, b);
    const id = a.beginMessage('t', 'assistant');
    a.appendMessageDelta(id, 'Hel');
    sync(server, a);
    a.appendMessageDelta(id, 'lo');
    a.finishMessage(id);
    settle(server, a, b);
    expect(b.getBranch('t').map((m) => [m.id, m.content, m.status])).toEqual([[id, 'Hello', 'complete']]);
  });

  it('pushes and pulls of large rows are cut into frames within the limits', async () => {
    const server = await createMemoryStore();
    const a = await device();
    a.upsertThread(thread('t'));
    // Three bytes per character on the wire: frames are measured in UTF-8 bytes, not characters.
    for (let i = 0; i < 30; i++) a.appendMessage('t', 'user', `${i} ${'漢'.repeat(40_000)}`);
    const limits = { ...DEFAULT_SYNC_LIMITS, maxFrameBytes: 400_000 };
    const id = a.enableSync();
    a.syncWelcome(server.serveHello({ type: 'hello', protocol: SYNC_PROTOCOL, ...id }, limits));
    let batches = 0;
    for (let batch = a.nextPush(limits); batch; batch = a.nextPush(limits)) {
      expect(Buffer.byteLength(JSON.stringify(batch))).toBeLessThanOrEqual(limits.maxFrameBytes);
      server.servePush(id.device, batch.push, batch.changes, limits);
      a.acknowledgePush(batch.push);
      batches++;
    }
    expect(batches).toBeGreaterThanOrEqual(8);
    // The thread is logged again after its messages: a page cut by bytes must still bring it first.
    a.updateThread('t', { title: 'renamed after the messages' });
    sync(server, a, { limits });
    const b = await device();
    sync(server, b, { limits });
    expect(b.listThreadMessages('t').length).toBe(30);
    expect(await dump(b)).toEqual(await dump(a));
  });

  it('keys with quotes, backslashes, control characters and non-ASCII text match between the triggers and the code', async () => {
    const server = await createMemoryStore();
    const a = await device();
    const b = await device();
    const ids = ['q"uote\\back/slash', 'tab\there', 'été 漢字 😀'];
    for (const id of ids) {
      a.upsertThread(thread(id));
      a.saveCheckpoint(id, `cp ${id}`, { id });
    }
    settle(server, a, b);
    for (const id of ids) b.saveCheckpoint(id, `cp ${id}`, { id, edited: true });
    // A's own pending edit of one of them is kept over the pulled one until it is pushed.
    a.saveCheckpoint(ids[0]!, `cp ${ids[0]}`, { mine: true });
    sync(server, b);
    pullOnly(server, a);
    expect(a.loadCheckpoint(ids[0]!, `cp ${ids[0]}`)?.state).toEqual({ mine: true });
    expect(a.loadCheckpoint(ids[1]!, `cp ${ids[1]}`)?.state).toEqual({ id: ids[1], edited: true });
    settle(server, a, b);
    expect(await dump(a)).toEqual(await dump(b));
    expect(a.syncStatus().pending).toBe(0);
    expect(b.loadCheckpoint(ids[2]!, `cp ${ids[2]}`)?.state).toEqual({ id: ids[2], edited: true });
  });

  it('a row over the change limit stays in the outbox and does not hold back the rows behind it', async () => {
    const server = await createMemoryStore();
    const a = await device();
    a.upsertThread(thread('t'));
    a.appendMessage('t', 'user', 'x'.repeat(3000));
    for (let i = 0; i < 10; i++) a.appendMessage('t', 'user', `small ${i}`);
    const limits = { ...DEFAULT_SYNC_LIMITS, maxChanges: 4, maxChangeBytes: 2000 };
    sync(server, a, { limits });
    expect(server.listThreadMessages('t').map((m) => m.content)).toEqual(Array.from({ length: 10 }, (_, i) => `small ${i}`));
    expect(a.syncStatus().pending).toBe(1);
  });

  it('a device refuses garbage pulled rows with INVALID_ARGUMENT and applies nothing of the page', async () => {
    const b = await device();
    b.upsertThread(thread('t'));
    const before = await dump(b);
    const pages: unknown[] = [
      [{ seq: 1, table: 'session_index', key: ['t'], row: undefined }],
      [{ seq: 1, table: 'session_index', key: ['t'], row: 'a string' }],
      [{ seq: 1, table: 'threads', key: ['t'], row: [1, 2] }],
      [{ seq: 1, table: 'jobs', key: ['j'], row: { id: 'j', name: 'n', status: 'queued', created_at: 1, updated_at: 1 } }, { seq: 2, table: 'nope', key: ['x'], row: null }],
    ];
    for (const page of pages) {
      expect(() => b.applyPulled(page as never, 5), JSON.stringify(page)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    expect(await dump(b)).toEqual(before);
    expect(b.syncStatus().cursor).toBe(0);
  });
});
