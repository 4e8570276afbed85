import { describe, expect, it } from 'vitest';
import { DEFAULT_SYNC_LIMITS } from '../../src/sync/protocol.js';
import { engineOn, SyncHub, VirtualClock } from '../support/sync-hub.js';
import { dump, newDevice, newServer, thread } from '../support/sync-loop.js';

/**
 * The sync engine itself (src/sync/engine.ts), the code the browser worker runs, on an in-memory
 * link to a real SyncServer and a virtual clock: every test is deterministic.
 */

describe('the sync engine', () => {
  it('two devices reach synced, and a write on one reaches the other through the poke', async () => {
    const clock = new VirtualClock();
    const hub = new SyncHub(await newServer());
    const a = await newDevice();
    const b = await newDevice();
    const ea = engineOn(hub, a.sync, clock);
    const eb = engineOn(hub, b.sync, clock);
    await clock.advance(1000);
    expect([ea.engine.state().state, eb.engine.state().state]).toEqual(['synced', 'synced']);
    a.store.upsertThread(thread('t'));
    a.store.appendMessage('t', 'user', 'hello');
    ea.engine.nudge();
    await clock.advance(100);
    expect(b.store.listThreadMessages('t').map((m) => m.content)).toEqual(['hello']);
    expect(eb.host.notices).toContainEqual(expect.objectContaining({ kind: 'message', threadId: 't', method: null }));
    expect(await dump(a)).toEqual(await dump(b));
    ea.engine.stop();
    eb.engine.stop();
  });

  it('a push refused as a whole is split and the device keeps pulling: it ends synced, everything applied', async () => {
    const clock = new VirtualClock();
    const hub = new SyncHub(await newServer());
    const a = await newDevice();
    const b = await newDevice();
    const eb = engineOn(hub, b.sync, clock);
    await clock.advance(1000);
    b.store.upsertThread(thread('from-b'));
    eb.engine.nudge();
    await clock.advance(100);
    // A welcomed with the default limits; the server is then lowered under it.
    a.store.upsertThread(thread('t'));
    for (let i = 0; i < 20; i++) a.store.appendMessage('t', 'user', `m${i}`);
    const receive = hub.receive.bind(hub);
    hub.receive = (link, frame) => {
      receive(link, frame);
      if (frame.type === 'hello') hub.limits = { ...DEFAULT_SYNC_LIMITS, maxChanges: 3 };
    };
    const ea = engineOn(hub, a.sync, clock);
    await clock.advance(5000);
    expect(ea.host.states.some((s) => s.lastError?.code === 'INVALID_ARGUMENT')).toBe(true);
    expect(a.store.getThread('from-b')).not.toBeNull();
    expect(ea.engine.state()).toMatchObject({ state: 'synced', pending: 0, rejected: 0 });
    expect(hub.server.store.listThreadMessages('t')).toHaveLength(20);
    ea.engine.stop();
    eb.engine.stop();
  });

  it('SCHEMA_TOO_NEW is reported and retried slowly, not in a loop', async () => {
    const clock = new VirtualClock();
    const hub = new SyncHub(await newServer());
    const a = await newDevice();
    let hellos = 0;
    const receive = hub.receive.bind(hub);
    hub.receive = (link, frame) => {
      if (frame.type === 'hello') {
        hellos++;
        receive(link, { ...frame, schema: 999 });
      } else receive(link, frame);
    };
    const ea = engineOn(hub, a.sync, clock);
    await clock.advance(60_000);
    expect(ea.engine.state().lastError?.code).toBe('SCHEMA_TOO_NEW');
    expect(hellos).toBe(1);
    await clock.advance(5 * 60_000);
    expect(hellos).toBe(2);
    ea.engine.stop();
  });

  it('a server that goes away and comes back: the device retries with backoff and catches up', async () => {
    const clock = new VirtualClock();
    const hub = new SyncHub(await newServer());
    const a = await newDevice();
    const ea = engineOn(hub, a.sync, clock);
    await clock.advance(1000);
    hub.up = false;
    hub.dropAll();
    a.store.upsertThread(thread('offline'));
    ea.engine.nudge();
    await clock.advance(3000);
    expect(ea.engine.state().state).not.toBe('synced');
    expect(ea.engine.state().pending).toBeGreaterThan(0);
    hub.up = true;
    await clock.advance(20_000);
    expect(ea.engine.state()).toMatchObject({ state: 'synced', pending: 0 });
    expect(hub.server.store.getThread('offline')).not.toBeNull();
    ea.engine.stop();
  });
});
