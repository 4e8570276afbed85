import { expect, openApp, test } from './fixtures.js';

/**
 * Exactly-once across a leader change, in the one order the steady-stream failover test in
 * tabs.spec.ts cannot aim at: the leader has committed a follower's write but dies before answering.
 * The follower resends it to the next leader, which must answer from the request log, not apply it again.
 */


type TabWindow = Window & {
  store: Awaited<ReturnType<typeof window.openStateStore>>;
  pending: Promise<number>;
  settled: { id: number } | { error: string } | null;
};

test('a write the leader committed but never answered is resent to the next leader and applied exactly once', async ({ profile }) => {
  const name = `exactly-once-${crypto.randomUUID()}`;
  const a = await profile.context.newPage();
  await openApp(a);
  // Tab A opens first and leads, on the worker with the hook.
  const aLeads = await a.evaluate(async (name) => {
    const w = window as unknown as TabWindow;
    w.store = await window.openStateStore({ name, worker: window.failoverWorker() });
    await w.store.upsertThread({ id: 't', name: 'named', preview: '', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api' });
    await w.store.appendMessage('t', 'user', 'before');
    return (await w.store.info()).leader;
  }, name);
  expect(aLeads).toBe(true);

  // Tab B follows, on the package's own worker.
  const b = await profile.context.newPage();
  await openApp(b);
  const bLeads = await b.evaluate(async (name) => {
    const w = window as unknown as TabWindow;
    w.store = await window.openStateStore({ name });
    return (await w.store.info()).leader;
  }, name);
  expect(bLeads).toBe(false);

  await a.evaluate(() => window.armFailover());
  // B writes; A commits it and holds the answer back.
  const hung = await b.evaluate(async () => {
    const w = window as unknown as TabWindow;
    const hung = window.nextHungCommit();
    w.settled = null;
    w.pending = w.store.appendMessage('t', 'user', 'once');
    w.pending.then(
      (id) => (w.settled = { id }),
      (error: unknown) => (w.settled = { error: String(error) }),
    );
    return hung;
  });
  expect(hung.method).toBe('appendMessage');
  const before = await b.evaluate(async () => {
    const w = window as unknown as TabWindow;
    await new Promise((r) => setTimeout(r, 300));
    return w.settled;
  });
  expect(before).toBeNull(); // committed on A, not answered

  await a.close(); // the leader's tab goes away, its worker with it, the answer never sent

  const outcome = await b.evaluate(async () => {
    const w = window as unknown as TabWindow;
    const id = await w.pending;
    const messages = await w.store.listThreadMessages('t');
    const info = await w.store.info();
    await w.store.close();
    return { id, contents: messages.map((m) => m.content), last: messages.at(-1)?.id, leader: info.leader, replayed: info.replayedRequests };
  });
  expect(outcome.contents).toEqual(['before', 'once']);
  expect(outcome.last).toBe(outcome.id); // the id B got is the row A committed
  expect(outcome.leader).toBe(true);
  expect(outcome.replayed).toBe(1);
  await b.close();
});
