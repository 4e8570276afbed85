import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/core/errors.js';
import { createMemoryStore } from '../../src/memory-store.js';
import { SyncDevice } from '../../src/sync/device.js';
import { DEFAULT_SYNC_LIMITS, LEASED_SITES, SITE_SIZE } from '../../src/sync/protocol.js';
import { fillEveryTable } from '../support/full-store.js';
import { connect, dump, newDevice, newServer, session, settle, thread, goal, type DeviceSide, type ServerSide } from '../support/sync-loop.js';

/**
 * Sync's rules (docs/sync.md), both ends in one process: a server store with its SyncServer and
 * device stores with their SyncDevice, joined by test/support/sync-loop.ts's session. Real sqlite-wasm
 * everywhere; only the socket is left out (the simulation and the browser suite, test/sync, have it).
 */

const sync = (server: ServerSide, device: DeviceSide, options?: Parameters<typeof session>[2]) => session(server, device, options);
const pullOnly = (server: ServerSide, device: DeviceSide) => session(server, device, { pullOnly: true });

describe('sync between devices and their server (core, in-process)', () => {
  it('a new device gets every table, and the server and both devices hold the same rows', async () => {
    const server = await newServer();
    const a = await newDevice({ enable: false });
    await fillEveryTable(a.store);
    // A store that existed before sync uploads what it holds.
    a.sync.enable();
    expect(a.sync.status().pending).toBeGreaterThan(20);
    sync(server, a);
    expect(a.sync.status().pending).toBe(0);
    const b = await newDevice();
    sync(server, b);
    expect(await dump(b)).toEqual(await dump(a));
    expect(await dump(server)).toEqual(await dump(a));
    expect(b.store.findThreadNameById('alpha')).toBe('Alpha project');
    expect(b.store.searchMessages('zanzibar').length).toBe(1);
  });

  it('concurrent appends under one parent are both kept, as siblings, and ids never collide', async () => {
    const server = await newServer();
    const a = await newDevice();
    const b = await newDevice();
    settle(server, a, b);
    a.store.upsertThread(thread('t'));
    const root = a.store.appendMessage('t', 'user', 'hello');
    settle(server, a, b);
    // Both offline, both answer the same message.
    const fromA = a.store.appendMessage('t', 'assistant', 'answer from A');
    const fromB = b.store.appendMessage('t', 'assistant', 'answer from B');
    expect(fromA).not.toBe(fromB);
    // Each device allocates from its own leased site.
    expect(Math.floor(fromA / SITE_SIZE)).not.toBe(Math.floor(fromB / SITE_SIZE));
    expect(Math.floor(fromA / SITE_SIZE)).toBeLessThan(LEASED_SITES);
    settle(server, a, b);
    const siblings = (s: DeviceSide) => s.store.listLeafMessages('t').map((m) => m.id).sort();
    expect(siblings(a)).toEqual([fromA, fromB].sort());
    expect(siblings(b)).toEqual(siblings(a));
    // Each device's view stayed on its own branch.
    expect(a.store.getThread('t')?.currentLeafId).toBe(fromA);
    expect(b.store.getThread('t')?.currentLeafId).toBe(fromB);
    expect(a.store.getBranch('t').map((m) => m.id)).toEqual([root, fromA]);
    expect(await dump(a)).toEqual(await dump(b));
  });

  it("a remote message that continues this device's leaf moves it; one on another branch does not", async () => {
    const server = await newServer();
    const a = await newDevice();
    const b = await newDevice();
    a.store.upsertThread(thread('t'));
    const m1 = a.store.appendMessage('t', 'user', 'one');
    settle(server, a, b);
    const m2 = a.store.appendMessage('t', 'assistant', 'two');
    const m3 = a.store.appendMessage('t', 'user', 'three');
    sync(server, a);
    sync(server, b);
    expect(b.store.getThread('t')?.currentLeafId).toBe(m3);
    // B goes back to m1 and forks; A continues its own branch: B's view stays on B's fork.
    const fork = b.store.forkAtMessage(m1, 'user', 'B forks');
    const m4 = a.store.appendMessage('t', 'assistant', 'four');
    settle(server, a, b);
    expect(b.store.getThread('t')?.currentLeafId).toBe(fork);
    expect(a.store.getThread('t')?.currentLeafId).toBe(m4);
    b.store.setCurrentLeafId('t', m4);
    expect(b.store.listMessages('t').map((m) => m.id)).toEqual([m1, m2, m3, m4]);
  });

  it('goal usage from two devices adds up, exactly once even when an acknowledgement is lost', async () => {
    const server = await newServer();
    const a = await newDevice();
    const b = await newDevice();
    a.store.upsertThread(thread('t'));
    a.store.upsertThreadGoal(goal('t', 'g'));
    settle(server, a, b);
    a.store.recordThreadGoalUsage('t', 100, 10, 5);
    a.store.recordThreadGoalContinuation('t', 5);
    b.store.recordThreadGoalUsage('t', 30, 3, 5);
    b.store.recordThreadGoalUsage('t', 7, 0, 5);
    sync(server, b);
    // A pulls B's totals while its own usage is still unpushed: it shows both.
    pullOnly(server, a);
    expect(a.store.getThreadGoal('t')).toMatchObject({ tokensUsed: 137, timeUsedSeconds: 13, continuationCount: 1 });
    // A's push is applied but its ack never arrives; the next session resends it.
    sync(server, a, { loseAcks: true });
    a.store.recordThreadGoalUsage('t', 1, 1, 5);
    settle(server, a, b);
    for (const s of [a, b, server]) {
      const goal = s.store.getThreadGoal('t')!;
      expect([goal.tokensUsed, goal.timeUsedSeconds, goal.continuationCount]).toEqual([138, 14, 1]);
    }
  });

  it('a push number already applied is answered without writing', async () => {
    const server = await newServer();
    const a = await newDevice();
    a.store.upsertThread(thread('t'));
    a.store.upsertThreadGoal(goal('t', 'g'));
    sync(server, a);
    a.store.recordThreadGoalUsage('t', 5, 0, 5);
    const hello = a.sync.hello();
    connect(server, a);
    const batch = a.sync.nextPush(DEFAULT_SYNC_LIMITS)!;
    expect(server.sync.push(hello.device, batch).applied).toBe(1);
    expect(server.sync.push(hello.device, batch)).toMatchObject({ applied: 0, skipped: 0 });
    expect(server.store.getThreadGoal('t')!.tokensUsed).toBe(5);
    // The same number with other content is another copy of the device: refused, nothing written.
    expect(() => server.sync.push(hello.device, { ...batch, changes: [] })).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
  });

  it('a deleted thread stays deleted: an offline edit from another device does not bring it back', async () => {
    const server = await newServer();
    const a = await newDevice();
    const b = await newDevice();
    a.store.upsertThread(thread('t', { name: 'doomed' }));
    a.store.appendMessage('t', 'user', 'hi');
    a.store.saveCheckpoint('t', 'cp', { x: 1 });
    settle(server, a, b);
    a.store.deleteThread('t');
    sync(server, a);
    // B, offline, edited the thread meanwhile.
    b.store.updateThread('t', { title: 'renamed offline' });
    b.store.appendMessage('t', 'user', 'written offline');
    b.store.saveCheckpoint('t', 'cp2', { x: 2 });
    settle(server, a, b);
    for (const s of [a, b, server]) {
      expect(s.store.getThread('t')).toBeNull();
      expect(s.store.listThreadMessages('t')).toEqual([]);
    }
    expect(await dump(b)).toEqual(await dump(a));
    expect(await dump(server)).toEqual(await dump(a));
  });

  it('a record merges column by column in the order the server applied the writes; updatedAt takes the larger', async () => {
    const server = await newServer();
    const a = await newDevice();
    const b = await newDevice();
    a.store.upsertThread(thread('t'));
    a.store.upsertJob({ id: 'j', name: 'index', status: 'running', progress: 10, detail: null, createdAt: 1, updatedAt: 1 });
    settle(server, a, b);
    // B's clock is years ahead: it wins updatedAt (the larger), and only the columns it changed.
    b.store.upsertJob({ id: 'j', name: 'index', status: 'running', progress: 50, detail: 'from B', createdAt: 1, updatedAt: 9_999_999_999 });
    sync(server, b);
    // A writes later in the server's order: its changed columns win, the detail it did not change stays B's.
    a.store.upsertJob({ id: 'j', name: 'index', status: 'completed', progress: 100, detail: null, createdAt: 1, updatedAt: 2 });
    a.store.setThreadMemoryMode('t', 'disabled');
    settle(server, a, b);
    for (const s of [a, b, server]) expect(s.store.getJob('j')).toMatchObject({ status: 'completed', progress: 100, detail: 'from B', updatedAt: 9_999_999_999 });
    expect(b.store.getThread('t')?.memoryMode).toBe('disabled');
    expect(await dump(a)).toEqual(await dump(b));
  });

  it('a pulled change is announced to subscribers like a local one', async () => {
    const server = await newServer();
    const a = await newDevice();
    const b = await newDevice();
    a.store.upsertThread(thread('t'));
    settle(server, a, b);
    const seen: unknown[] = [];
    const stop = b.store.subscribe((c) => seen.push(c));
    a.store.appendMessage('t', 'user', 'news');
    settle(server, a, b);
    stop();
    expect(seen).toContainEqual(expect.objectContaining({ kind: 'message', threadId: 't', method: null }));
  });

  it('pages of a large pull carry the parents their rows need', async () => {
    const server = await newServer();
    const a = await newDevice();
    for (let t = 0; t < 5; t++) {
      a.store.upsertThread(thread(`t${t}`));
      for (let i = 0; i < 30; i++) a.store.appendMessage(`t${t}`, 'user', `m${i}`);
    }
    sync(server, a);
    // Every thread row was logged again after its messages (appends touch the thread), so a page
    // of messages comes before their thread in the server's order.
    for (let t = 0; t < 5; t++) a.store.updateThread(`t${t}`, { title: `T${t}` });
    sync(server, a);
    const b = await newDevice();
    sync(server, b, { pageSize: 7 });
    expect(await dump(b)).toEqual(await dump(a));
  });

  it('refuses a malformed push with INVALID_ARGUMENT, sets a bad change aside, and writes nothing of either', async () => {
    const server = await newServer();
    const a = await newDevice();
    a.store.upsertThread(thread('t'));
    a.store.appendMessage('t', 'user', 'hi');
    sync(server, a);
    const before = await dump(server);
    const hello = a.sync.hello();
    const limits = { ...DEFAULT_SYNC_LIMITS, maxChanges: 3, maxChangeBytes: 2000 };
    const valid = { table: 'threads', key: ['t'], row: { id: 't', preview: 'changed' }, cols: ['preview'] };
    // The frame itself is wrong: the whole push is refused.
    const frames: unknown[] = [{ push: 99, seen: 0, changes: 'not an array' }, { push: 99, seen: 0, changes: [valid, valid, valid, valid] }, { push: 0, seen: 0, changes: [] }, { push: 99, changes: [] }];
    for (const frame of frames) {
      expect(() => server.sync.push(hello.device, frame, limits), JSON.stringify(frame).slice(0, 120)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    // One change is wrong: it is set aside, named in the ack; the others are applied.
    const site = hello.site;
    const bad: unknown[] = [
      { table: 'nope', key: ['t'], row: null },
      { table: 'threads', key: [], row: null },
      { table: 'threads', key: ['t'], row: { id: 't', no_such_column: 1 } },
      { table: 'threads', key: ['t'], row: { id: 'other' } },
      { table: 'threads', key: ['t'], row: { id: 't', current_leaf_id: 5 } },
      { table: 'threads', key: ['t'], row: { id: 't', preview: 'x' }, cols: ['no_such_column'] },
      { table: 'messages', key: [site * SITE_SIZE + 99], row: { id: site * SITE_SIZE + 99, thread_id: 't', role: 'user', content: 'x'.repeat(5000), created_at: 1 } },
      { table: 'threads', key: ['t'], row: { id: 't', preview: { $bytes: '%%%' } } },
      { table: 'thread_goals', key: ['t'], row: { thread_id: 't', goal_id: 'g', objective: 'o', status: 'not-a-status', created_at: 1, updated_at: 1 } },
    ];
    bad.forEach((change, i) => {
      const ack = server.sync.push(hello.device, { push: 100 + i, seen: 0, changes: [change] }, limits);
      expect([ack.applied, ack.rejected.length], JSON.stringify(change).slice(0, 120)).toEqual([0, 1]);
      expect(ack.rejected[0]!.code).toMatch(/INVALID_ARGUMENT|STORAGE/);
    });
    expect(() => server.sync.push('never-said-hello', { push: 1, seen: 0, changes: [] })).toThrow(StoreError);
    expect(() => server.sync.hello({ ...hello, protocol: 99 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(await dump(server)).toEqual(before);
  });

  it('of two devices holding messages from before sync, the first uploads them; the second\'s are set aside, the rest of it syncs', async () => {
    const server = await newServer();
    const a = await newDevice({ enable: false });
    const b = await newDevice({ enable: false });
    for (const [s, t] of [[a, 'ta'], [b, 'tb']] as const) {
      s.store.upsertThread(thread(t));
      s.store.appendMessage(t, 'user', 'pre-sync');
      s.sync.enable();
    }
    sync(server, a);
    expect(b.sync.hello().preSync).toBe(true);
    sync(server, b);
    // B's pre-sync message has an id A's already used (1): it stays on B, set aside, counted.
    expect(b.sync.status()).toMatchObject({ pending: 0, rejected: 1 });
    expect(b.sync.rejected()).toEqual([expect.objectContaining({ table: 'messages', code: 'CONFLICT' })]);
    expect(server.store.getThread('tb')).not.toBeNull();
    expect(server.store.listThreadMessages('tb')).toEqual([]);
    expect(b.store.listThreadMessages('tb').map((m) => m.content)).toEqual(['pre-sync']);
  });

  it('a device that wrote before ever connecting keeps its provisional site; one that did not gets a leased site', async () => {
    const server = await newServer();
    const offline = await newDevice();
    offline.store.upsertThread(thread('t'));
    const id1 = offline.store.appendMessage('t', 'user', 'written before ever connecting');
    const site = Math.floor(id1 / SITE_SIZE);
    expect(site).toBeGreaterThanOrEqual(LEASED_SITES);
    sync(server, offline);
    const id2 = offline.store.appendMessage('t', 'user', 'after');
    expect(Math.floor(id2 / SITE_SIZE)).toBe(site);
    expect(id2).toBe(id1 + 1);
    const fresh = await newDevice();
    sync(server, fresh);
    fresh.store.upsertThread(thread('u'));
    // A leased site: below the provisional half, and not the offline device's.
    const leased = Math.floor(fresh.store.appendMessage('u', 'user', 'x') / SITE_SIZE);
    expect(leased).toBeLessThan(LEASED_SITES);
    expect(leased).not.toBe(site);
  });

  it("clearing a thread's messages on one device clears them on the other, and its leaf does not dangle", async () => {
    const server = await newServer();
    const a = await newDevice();
    const b = await newDevice();
    a.store.upsertThread(thread('t'));
    a.store.appendMessage('t', 'user', 'one');
    a.store.appendMessage('t', 'assistant', 'two');
    settle(server, a, b);
    a.store.clearMessages('t');
    settle(server, a, b);
    expect(b.store.listThreadMessages('t')).toEqual([]);
    expect(b.store.getThread('t')?.currentLeafId).toBeNull();
    expect(b.store.getBranch('t')).toEqual([]);
  });

  it('a streamed message reaches the other device with its final text and status', async () => {
    const server = await newServer();
    const a = await newDevice();
    const b = await newDevice();
    a.store.upsertThread(thread('t'));
    settle(server, a, b);
    const id = a.store.beginMessage('t', 'assistant');
    a.store.appendMessageDelta(id, 'Hel');
    sync(server, a);
    a.store.appendMessageDelta(id, 'lo');
    a.store.finishMessage(id);
    settle(server, a, b);
    expect(b.store.getBranch('t').map((m) => [m.id, m.content, m.status])).toEqual([[id, 'Hello', 'complete']]);
  });

  it('pushes and pulls of large rows are cut into frames within the limits', async () => {
    const server = await newServer();
    const a = await newDevice();
    a.store.upsertThread(thread('t'));
    // Three bytes per character on the wire: frames are measured in UTF-8 bytes, not characters.
    for (let i = 0; i < 30; i++) a.store.appendMessage('t', 'user', `${i} ${'漢'.repeat(40_000)}`);
    const limits = { ...DEFAULT_SYNC_LIMITS, maxFrameBytes: 400_000 };
    const id = connect(server, a, limits);
    let batches = 0;
    for (let batch = a.sync.nextPush(limits); batch; batch = a.sync.nextPush(limits)) {
      expect(Buffer.byteLength(JSON.stringify(batch))).toBeLessThanOrEqual(limits.maxFrameBytes);
      a.sync.acknowledge(server.sync.push(id, batch, limits));
      batches++;
    }
    expect(batches).toBeGreaterThanOrEqual(8);
    // The thread is logged again after its messages: a page cut by bytes must still bring it first.
    a.store.updateThread('t', { title: 'renamed after the messages' });
    sync(server, a, { limits });
    const b = await newDevice();
    sync(server, b, { limits });
    expect(b.store.listThreadMessages('t').length).toBe(30);
    expect(await dump(b)).toEqual(await dump(a));
  });

  it('keys with quotes, backslashes, control characters and non-ASCII text match between the triggers and the code', async () => {
    const server = await newServer();
    const a = await newDevice();
    const b = await newDevice();
    const ids = ['q"uote\\back/slash', 'tab\there', 'été 漢字 😀'];
    for (const id of ids) {
      a.store.upsertThread(thread(id));
      a.store.saveCheckpoint(id, `cp ${id}`, { id });
    }
    settle(server, a, b);
    for (const id of ids) b.store.saveCheckpoint(id, `cp ${id}`, { id, edited: true });
    // A's own pending edit of one of them is kept over the pulled one until it is pushed.
    a.store.saveCheckpoint(ids[0]!, `cp ${ids[0]}`, { mine: true });
    sync(server, b);
    pullOnly(server, a);
    expect(a.store.loadCheckpoint(ids[0]!, `cp ${ids[0]}`)?.state).toEqual({ mine: true });
    expect(a.store.loadCheckpoint(ids[1]!, `cp ${ids[1]}`)?.state).toEqual({ id: ids[1], edited: true });
    settle(server, a, b);
    expect(await dump(a)).toEqual(await dump(b));
    expect(a.sync.status().pending).toBe(0);
    expect(b.store.loadCheckpoint(ids[2]!, `cp ${ids[2]}`)?.state).toEqual({ id: ids[2], edited: true });
  });

  it('a row over the change limit is set aside with its reason, with the rows under it; the rest syncs', async () => {
    const server = await newServer();
    const a = await newDevice();
    a.store.upsertThread(thread('t'));
    const big = a.store.appendMessage('t', 'user', 'x'.repeat(3000));
    const reply = a.store.appendMessage('t', 'assistant', 'an answer to the big one');
    a.store.upsertThread(thread('u'));
    for (let i = 0; i < 10; i++) a.store.appendMessage('u', 'user', `small ${i}`);
    const limits = { ...DEFAULT_SYNC_LIMITS, maxChanges: 4, maxChangeBytes: 2000 };
    sync(server, a, { limits });
    expect(server.store.listThreadMessages('u').map((m) => m.content)).toEqual(Array.from({ length: 10 }, (_, i) => `small ${i}`));
    expect(server.store.getThread('t')).not.toBeNull();
    expect(server.store.listThreadMessages('t')).toEqual([]);
    expect(a.sync.status()).toMatchObject({ pending: 0, rejected: 2 });
    expect(a.sync.rejected()).toEqual([
      expect.objectContaining({ table: 'messages', key: [big], code: 'INVALID_ARGUMENT' }),
      expect.objectContaining({ table: 'messages', key: [reply], code: 'NOT_FOUND' }),
    ]);
    // Editing the row again tries again (and it still does not fit).
    a.store.updateThread('t', { title: 'still here' });
    sync(server, a, { limits });
    expect(server.store.getThread('t')?.name).toBe('still here');
  });

  it('a device refuses garbage pulled rows with INVALID_ARGUMENT and applies nothing of the page', async () => {
    const b = await newDevice();
    b.store.upsertThread(thread('t'));
    const before = await dump(b);
    const pages: unknown[] = [
      [{ seq: 1, table: 'session_index', key: ['t'], row: undefined }],
      [{ seq: 1, table: 'session_index', key: ['t'], row: 'a string' }],
      [{ seq: 1, table: 'threads', key: ['t'], row: [1, 2] }],
      [{ seq: 1, table: 'jobs', key: ['j'], row: { id: 'j', name: 'n', status: 'queued', created_at: 1, updated_at: 1 } }, { seq: 2, table: 'nope', key: ['x'], row: null }],
    ];
    for (const page of pages) {
      expect(() => b.sync.applyPulled(page as never, 5), JSON.stringify(page)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    expect(await dump(b)).toEqual(before);
    expect(b.sync.status().cursor).toBe(0);
  });

  it('tombstones every active device has pulled past are collected; a device away longer than the window re-pulls everything', async () => {
    let now = 1_000;
    const server = await newServer({ retentionSeconds: 100, collectEverySeconds: 0, now: () => now });
    const a = await newDevice();
    const b = await newDevice();
    const away = await newDevice();
    a.store.upsertThread(thread('doomed'));
    a.store.upsertThread(thread('kept'));
    settle(server, a, b, away);
    // The device goes away with an edit of a thread that will be deleted, and a thread of its own.
    away.store.updateThread('doomed', { title: 'edited while away' });
    away.store.upsertThread(thread('made while away'));
    a.store.deleteThread('doomed');
    settle(server, a, b);
    expect(server.sync.sizes().tombstones).toBeGreaterThan(0);
    // Time passes: the away device falls out of the window; the others' hellos collect the tombstones.
    now += 1_000;
    settle(server, a, b);
    expect(server.sync.sizes()).toMatchObject({ tombstones: 0 });
    expect(server.sync.sizes().floor).toBeGreaterThan(0);
    // It comes back: its cursor is below what was collected, so it pulls everything before it pushes.
    session(server, away);
    settle(server, a, b, away);
    for (const s of [server, a, b, away]) {
      expect(s.store.getThread('doomed')).toBeNull();
      expect(s.store.getThread('made while away')).not.toBeNull();
      expect(s.store.getThread('kept')).not.toBeNull();
    }
    expect(await dump(away)).toEqual(await dump(server));
    expect(await dump(a)).toEqual(await dump(server));
  });
});
