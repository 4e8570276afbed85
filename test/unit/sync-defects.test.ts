import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/memory-store.js';
import { SyncDevice, sweepOwnWork } from '../../src/sync/device.js';
import { DEFAULT_SYNC_LIMITS, SITE_SIZE } from '../../src/sync/protocol.js';
import { connect, dump, goal, newDevice, newServer, reopen, session, settle, sqlOf, thread, type DeviceSide, type ServerSide } from '../support/sync-loop.js';

/**
 * One test per defect of issue 20, each named after the behaviour the fix guarantees, each found
 * failing on the code before the fix (see the closing note for what removing each fix does).
 */

const tool = (position: number, name: string) => ({ position, name, description: null, inputSchema: { type: 'object' } });

async function trio(): Promise<[ServerSide, DeviceSide, DeviceSide]> {
  const server = await newServer();
  const a = await newDevice();
  const b = await newDevice();
  a.store.upsertThread(thread('t'));
  settle(server, a, b);
  return [server, a, b];
}

async function sameEverywhere(server: ServerSide, ...devices: DeviceSide[]): Promise<void> {
  const expected = await dump(server);
  for (const d of devices) expect(await dump(d)).toEqual(expected);
}

describe('1. a key deleted once can be written again by a write made after the delete', () => {
  it('a checkpoint saved again under its id after deleteCheckpoint reaches the server and the other device', async () => {
    const [server, a, b] = await trio();
    a.store.saveCheckpoint('t', 'cp', { v: 1 });
    settle(server, a, b);
    a.store.deleteCheckpoint('t', 'cp');
    session(server, a);
    a.store.saveCheckpoint('t', 'cp', { v: 2 });
    settle(server, a, b);
    for (const s of [server, a, b]) expect(s.store.loadCheckpoint('t', 'cp')?.state).toEqual({ v: 2 });
    expect(a.sync.status().pending).toBe(0);
  });

  it('a job re-created after deleteJob by another device that saw the delete syncs', async () => {
    const [server, a, b] = await trio();
    a.store.upsertJob({ id: 'j', name: 'first', status: 'completed', progress: 100, detail: null, createdAt: 1, updatedAt: 1 });
    settle(server, a, b);
    a.store.deleteJob('j');
    settle(server, a, b);
    expect(b.store.getJob('j')).toBeNull();
    b.store.upsertJob({ id: 'j', name: 'second', status: 'queued', progress: null, detail: null, createdAt: 2, updatedAt: 2 });
    settle(server, a, b);
    for (const s of [server, a, b]) expect(s.store.getJob('j')?.name).toBe('second');
  });

  it('tools that shrink and then grow again sync at every step', async () => {
    const [server, a, b] = await trio();
    a.store.persistDynamicTools('t', [tool(0, 'a'), tool(1, 'b'), tool(2, 'c')]);
    settle(server, a, b);
    a.store.persistDynamicTools('t', [tool(0, 'a')]);
    settle(server, a, b);
    expect(b.store.getDynamicTools('t').map((t) => t.name)).toEqual(['a']);
    a.store.persistDynamicTools('t', [tool(0, 'a'), tool(1, 'x'), tool(2, 'y')]);
    settle(server, a, b);
    for (const s of [server, a, b]) expect(s.store.getDynamicTools('t').map((t) => t.name)).toEqual(['a', 'x', 'y']);
  });

  it('a thread id re-created with upsertThread after deleteThread comes back everywhere; its old messages do not', async () => {
    const [server, a, b] = await trio();
    a.store.appendMessage('t', 'user', 'old');
    settle(server, a, b);
    a.store.deleteThread('t');
    session(server, a);
    a.store.upsertThread(thread('t', { preview: 'again' }));
    a.store.appendMessage('t', 'user', 'new');
    settle(server, a, b);
    for (const s of [server, a, b]) {
      expect(s.store.getThread('t')?.preview).toBe('again');
      expect(s.store.listThreadMessages('t').map((m) => m.content)).toEqual(['new']);
    }
    await sameEverywhere(server, a, b);
  });

  it('a write that did not see the delete still loses, and the row it meant is not mixed into the new one', async () => {
    const [server, a, b] = await trio();
    a.store.saveCheckpoint('t', 'cp', { v: 1 });
    settle(server, a, b);
    // B edits offline, while A deletes the thread and creates it again.
    b.store.updateThread('t', { title: 'renamed by B, offline' });
    b.store.saveCheckpoint('t', 'cp', { v: 'B' });
    a.store.deleteThread('t');
    session(server, a);
    a.store.upsertThread(thread('t', { preview: 'reborn' }));
    session(server, a);
    settle(server, a, b);
    for (const s of [server, a, b]) {
      expect(s.store.getThread('t')).toMatchObject({ preview: 'reborn', name: null });
      expect(s.store.loadCheckpoint('t', 'cp')).toBeNull();
    }
    await sameEverywhere(server, a, b);
  });
});

describe('2. clearMessages racing an offline append', () => {
  it('the delete takes the orphan on the server too, and every copy agrees', async () => {
    const [server, a, b] = await trio();
    const root = a.store.appendMessage('t', 'user', 'q');
    settle(server, a, b);
    b.store.forkAtMessage(root, 'assistant', 'written offline under a message A is clearing');
    a.store.clearMessages('t');
    session(server, a);
    settle(server, a, b);
    for (const s of [server, a, b]) expect(s.store.listThreadMessages('t')).toEqual([]);
    await sameEverywhere(server, a, b);
  });

  it('the same when the child reaches the server first', async () => {
    const [server, a, b] = await trio();
    const root = a.store.appendMessage('t', 'user', 'q');
    settle(server, a, b);
    b.store.forkAtMessage(root, 'assistant', 'pushed before the clear arrives');
    session(server, b);
    a.store.clearMessages('t');
    settle(server, a, b);
    for (const s of [server, a, b]) expect(s.store.listThreadMessages('t')).toEqual([]);
    await sameEverywhere(server, a, b);
  });
});

describe("3. a device's start-up sweep touches only work it started", () => {
  it("another device's running job and streaming message stay as they are; this device's own are marked", async () => {
    const [server, a, b] = await trio();
    a.store.upsertJob({ id: 'theirs', name: 'A runs it', status: 'running', progress: 5, detail: null, createdAt: 1, updatedAt: 1 });
    const streaming = a.store.beginMessage('t', 'assistant');
    a.store.appendMessageDelta(streaming, 'half an ans');
    settle(server, a, b);
    b.store.upsertJob({ id: 'mine', name: 'B runs it', status: 'running', progress: 1, detail: null, createdAt: 1, updatedAt: 1 });
    // B restarts: the worker's sweep, with no other tab of B alive.
    const restarted = await reopen(b);
    const swept = sweepOwnWork(restarted.store, restarted.sync, 10);
    expect(swept).toEqual({ jobs: 1, messages: [] });
    expect(restarted.store.getJob('theirs')?.status).toBe('running');
    expect(restarted.store.getJob('mine')?.status).toBe('failed');
    expect(restarted.store.getMessageStatus(streaming)).toBe('streaming');
    settle(server, a, restarted);
    expect(a.store.getJob('theirs')?.status).toBe('running');
    expect(a.store.getMessageStatus(streaming)).toBe('streaming');
    // A's own restart does mark its stream: it lost its writer.
    const aRestarted = await reopen(a);
    expect(sweepOwnWork(aRestarted.store, aRestarted.sync, 11).messages).toEqual([streaming]);
  });
});

describe('4. usage recorded against an old goal never brings it back', () => {
  it('a delta for g1 arriving after g2 replaced it is dropped, and every copy shows g2', async () => {
    const [server, a, b] = await trio();
    a.store.upsertThreadGoal(goal('t', 'g1'));
    settle(server, a, b);
    a.store.recordThreadGoalUsage('t', 50, 5, 3);
    b.store.upsertThreadGoal(goal('t', 'g2', { objective: 'the new goal' }));
    b.store.recordThreadGoalUsage('t', 7, 1, 3);
    session(server, b);
    settle(server, a, b);
    for (const s of [server, a, b]) {
      expect(s.store.getThreadGoal('t')).toMatchObject({ goalId: 'g2', objective: 'the new goal', tokensUsed: 7, timeUsedSeconds: 1 });
    }
    await sameEverywhere(server, a, b);
  });
});

describe('5. an imported store is a new device', () => {
  it('importing another device\'s export gives a new identity: both keep syncing, no batch skipped, no id shared', async () => {
    const [server, a, b] = await trio();
    a.store.appendMessage('t', 'user', 'from A');
    settle(server, a, b);
    const before = a.sync.hello();
    b.store.importDatabase(a.store.exportBytes(), { sessionIndex: a.store.sessionIndexText() });
    const after = b.sync.hello();
    expect(after.device).not.toBe(before.device);
    expect(after.push).toBe(0);
    expect(after.epoch).toBeNull();
    settle(server, a, b);
    const fromA = a.store.appendMessage('t', 'user', 'A goes on');
    const fromB = b.store.appendMessage('t', 'user', 'B goes on');
    expect(Math.floor(fromA / SITE_SIZE)).not.toBe(Math.floor(fromB / SITE_SIZE));
    settle(server, a, b);
    for (const s of [server, a, b]) expect(s.store.listThreadMessages('t').map((m) => m.content).sort()).toEqual(['A goes on', 'B goes on', 'from A']);
    await sameEverywhere(server, a, b);
  });

  it('a store that does not sync drops the identity a file brings along', async () => {
    const [, a] = await trio();
    const plain = await newDevice({ enable: false });
    plain.store.importDatabase(a.store.exportBytes());
    expect(plain.sync.enabled).toBe(false);
    plain.store.upsertThread(thread('p'));
    // AUTOINCREMENT again, not A's id block.
    expect(plain.store.appendMessage('p', 'user', 'x')).toBeLessThan(SITE_SIZE * 2);
  });
});

describe('6. a device that went back in time is detected and recovers with nothing lost or doubled', () => {
  it('a restored backup: the lost pushes stay, usage is not counted twice, a new message takes a free id', async () => {
    const [server, a, b] = await trio();
    a.store.upsertThreadGoal(goal('t', 'g'));
    settle(server, a, b);
    // The backup holds changes not yet pushed: the pushes the restore makes it forget had carried them.
    a.store.recordThreadGoalUsage('t', 40, 4, 5);
    a.store.updateThread('t', { title: 'named before the backup' });
    const backup = { bytes: a.store.exportBytes(), sessionIndex: a.store.sessionIndexText() };
    const lost = a.store.appendMessage('t', 'user', 'pushed, then forgotten by the restore');
    session(server, a);
    // Another device renames the thread after those pushes: the restored device must not undo it.
    b.store.updateThread('t', { title: 'renamed by B after' });
    session(server, b);
    // The device's storage goes back to the backup; it writes before it connects again.
    const store = await createMemoryStore(backup);
    const restored: DeviceSide = { store, sync: SyncDevice.attach(store) };
    restored.store.recordThreadGoalUsage('t', 2, 0, 6);
    const after = restored.store.appendMessage('t', 'user', 'written after the restore');
    expect(after).toBe(lost);
    settle(server, restored, b);
    const contents = (s: DeviceSide | ServerSide) => s.store.listThreadMessages('t').map((m) => m.content).sort();
    for (const s of [server, restored, b]) {
      expect(contents(s)).toEqual(['pushed, then forgotten by the restore', 'written after the restore']);
      expect(s.store.getThreadGoal('t')).toMatchObject({ tokensUsed: 42, timeUsedSeconds: 4 });
      expect(s.store.getThread('t')?.name).toBe('renamed by B after');
    }
    expect(restored.store.listThreadMessages('t').find((m) => m.content === 'written after the restore')?.id).not.toBe(lost);
    await sameEverywhere(server, restored, b);
  });
});

describe('7. a refused batch never stops a device', () => {
  it('a push over lowered limits is split until it fits, and the device pulls meanwhile', async () => {
    const [server, a, b] = await trio();
    for (let i = 0; i < 12; i++) a.store.appendMessage('t', 'user', `m${i}`);
    b.store.appendMessage('t', 'assistant', 'from B');
    session(server, b);
    const id = connect(server, a);
    // A built its batch by the limits it was welcomed with; the server has lowered them since.
    const lowered = { ...DEFAULT_SYNC_LIMITS, maxChanges: 3 };
    let refusals = 0;
    let batch = a.sync.nextPush(DEFAULT_SYNC_LIMITS);
    // Bounded, so that a device that never splits fails here instead of looping.
    for (let round = 0; batch && round < 50; round++, batch = a.sync.nextPush(DEFAULT_SYNC_LIMITS)) {
      try {
        a.sync.acknowledge(server.sync.push(id, batch, lowered));
      } catch (error) {
        refusals++;
        a.sync.refusePush(batch.push, error as { code: string; message: string });
        // A refused push does not keep the device from pulling.
        const page = server.sync.pull(id, a.sync.nextPull(), lowered);
        a.sync.applyPulled(page.changes, page.cursor, page.more);
      }
    }
    expect(batch, 'the outbox was still not pushed after 50 rounds').toBeNull();
    expect(refusals).toBeGreaterThan(0);
    expect(a.store.listThreadMessages('t').map((m) => m.content)).toContain('from B');
    settle(server, a, b);
    expect(server.store.listThreadMessages('t')).toHaveLength(13);
    expect(a.sync.status()).toMatchObject({ pending: 0, rejected: 0 });
  });

  it('a device of another schema version gets SCHEMA_TOO_NEW, saying which side to update', async () => {
    const server = await newServer();
    const a = await newDevice();
    const hello = a.sync.hello();
    expect(() => server.sync.hello({ ...hello, schema: hello.schema + 1 })).toThrow(expect.objectContaining({ code: 'SCHEMA_TOO_NEW', message: expect.stringContaining('deploy the newer server') }));
    expect(() => server.sync.hello({ ...hello, schema: hello.schema - 1 })).toThrow(expect.objectContaining({ code: 'SCHEMA_TOO_NEW', message: expect.stringContaining('reload the app') }));
  });
});

describe("8. the server's own writes", () => {
  it('take ids from a site of its own and reach the devices; a device\'s next message does not overwrite them', async () => {
    const [server, a, b] = await trio();
    a.store.appendMessage('t', 'user', 'from A');
    settle(server, a, b);
    // edgeStore() and the HTTP routes call the store and then log its writes, in one transaction.
    const fromServer = server.store.appendMessage('t', 'assistant', 'written on the server');
    expect(server.sync.logOwnWrites()).toBeGreaterThan(0);
    const deviceSites = [a, b].map((d) => d.sync.hello().site);
    expect(deviceSites).not.toContain(Math.floor(fromServer / SITE_SIZE));
    a.store.appendMessage('t', 'user', 'A again');
    settle(server, a, b);
    for (const s of [server, a, b]) expect(s.store.listThreadMessages('t').map((m) => m.content).sort()).toEqual(['A again', 'from A', 'written on the server']);
    await sameEverywhere(server, a, b);
  });
});

describe('9. a device proves who it is', () => {
  it('the server records the secret of a device at its first hello; a hello in that device\'s name without it is FORBIDDEN', async () => {
    const [server, a] = await trio();
    const hello = a.sync.hello();
    expect(hello.secret).toMatch(/.{16,}/);
    expect(() => server.sync.hello({ ...hello, secret: 'guessed-but-long-enough' })).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(() => server.sync.hello({ ...hello, secret: null })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(server.sync.hello(hello)).toMatchObject({ type: 'welcome' });
  });

  it('a device whose first welcome never arrived is not locked out: it has held its secret from the start', async () => {
    const server = await newServer();
    const a = await newDevice();
    // The server registers the device, and its answer is lost with the connection.
    server.sync.hello(a.sync.hello());
    session(server, a);
    expect(a.sync.status()).toMatchObject({ pending: 0, resyncing: false });
  });
});

describe('10. fields merge one by one', () => {
  it('an offline append (which moves updatedAt) pushed last keeps the renames two other devices made', async () => {
    const server = await newServer();
    const [a, b, c] = [await newDevice(), await newDevice(), await newDevice()];
    a.store.upsertThread(thread('t'));
    // Named already, so that A's message only moves updatedAt (a first message names an unnamed thread).
    a.store.updateThread('t', { title: 'first name' });
    settle(server, a, b, c);
    // addMessage moves the thread's updatedAt: A's push carries a change of the thread row.
    a.store.addMessage('t', { role: 'user', content: 'offline on A' });
    expect(sqlOf(a).all("SELECT cols FROM sync_outbox WHERE tbl = 'threads'")).toHaveLength(1);
    b.store.updateThread('t', { title: 'B names it' });
    session(server, b);
    session(server, c);
    c.store.updateThread('t', { title: 'C renames it' });
    session(server, c);
    session(server, a);
    settle(server, a, b, c);
    for (const s of [server, a, b, c]) expect(s.store.getThread('t')?.name).toBe('C renames it');
    await sameEverywhere(server, a, b, c);
  });

  it("a usage tick does not undo another device's later status change", async () => {
    const [server, a, b] = await trio();
    a.store.upsertThreadGoal(goal('t', 'g'));
    settle(server, a, b);
    a.store.recordThreadGoalUsage('t', 10, 1, 5);
    b.store.upsertThreadGoal(goal('t', 'g', { status: 'paused' }));
    session(server, b);
    session(server, a);
    settle(server, a, b);
    for (const s of [server, a, b]) expect(s.store.getThreadGoal('t')).toMatchObject({ status: 'paused', tokensUsed: 10 });
  });
});

describe('11. a row that cannot go has its own signal', () => {
  it('the state says synced with the row counted in rejected and named in lastError, not in pending', async () => {
    const server = await newServer();
    const a = await newDevice();
    a.store.upsertThread(thread('t'));
    a.store.appendMessage('t', 'user', 'x'.repeat(4000));
    session(server, a, { limits: { ...DEFAULT_SYNC_LIMITS, maxChangeBytes: 2000 } });
    expect(a.sync.status()).toMatchObject({ pending: 0, rejected: 1 });
    expect(a.sync.rejected()[0]?.message).toMatch(/over the server's limit/);
  });
});
