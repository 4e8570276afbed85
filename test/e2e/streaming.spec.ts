import { expect, test } from './fixtures.js';

const THREAD = { id: 't1', preview: '', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api' } as const;

test('a 2,000-delta stream through the worker gives the exact text in far fewer commits than deltas', async ({ app }) => {
  const result = await app.evaluate(async (thread) => {
    const store = await window.openStateStore({ name: `stream-${crypto.randomUUID()}` });
    await store.upsertThread(thread);
    const burstId = await store.beginMessage('t1', 'assistant');
    const pacedId = await store.beginMessage('t1', 'assistant');
    const parts = Array.from({ length: 2000 }, (_, i) => `tok${i} `);
    const before = (await store.info()).commits ?? 0;
    // A burst (every delta sent at once) and a paced stream (each delta awaited, as a reader loop does).
    await Promise.all(parts.map((p) => store.appendMessageDelta(burstId, p)));
    for (const p of parts) await store.appendMessageDelta(pacedId, p);
    const burst = await store.finishMessage(burstId);
    const paced = await store.finishMessage(pacedId);
    const after = (await store.info()).commits ?? 0;
    const hits = await store.searchMessages('tok1999');
    await store.close();
    return {
      burstRight: burst.content === parts.join(''),
      pacedRight: paced.content === parts.join(''),
      length: paced.content.length,
      commits: after - before,
      hits: hits.map((h) => h.messageId).sort(),
      ids: [burstId, pacedId].sort(),
    };
  }, THREAD);
  expect(result.burstRight).toBe(true);
  expect(result.pacedRight).toBe(true);
  expect(result.length).toBe(Array.from({ length: 2000 }, (_, i) => `tok${i} `).join('').length);
  expect(result.hits).toEqual(result.ids);
  // 4,000 deltas; coalescing writes them a batch at a time (the info() calls add a commit each).
  expect(result.commits).toBeGreaterThan(0);
  expect(result.commits).toBeLessThan(100);
});

test('a worker killed mid-stream leaves an interrupted message with the text flushed before the kill', async ({ app }) => {
  const name = `crash-${crypto.randomUUID()}`;
  const outcome = await app.evaluate(
    async ({ name, thread }) => {
      const worker = window.ownWorker();
      const store = await window.openStateStore({ name, worker });
      await store.upsertThread(thread);
      const id = await store.beginMessage('t1', 'assistant');
      const first = Array.from({ length: 100 }, (_, i) => `a${i} `);
      const rest = Array.from({ length: 100 }, (_, i) => `b${i} `);
      for (const p of first) await store.appendMessageDelta(id, p);
      // Any other call writes the buffered deltas ahead of itself, in its commit: now they are durable.
      const statusBefore = await store.getMessageStatus(id);
      for (const p of rest) await store.appendMessageDelta(id, p);
      worker.terminate(); // no close(), no finishMessage: the writer is gone

      // The next worker to open the store finds no other tab alive and sweeps.
      const reopened = await window.openStateStore({ name });
      const status = await reopened.getMessageStatus(id);
      const content = (await reopened.listMessages('t1'))[0]?.content ?? null;
      const lateDelta = await reopened.appendMessageDelta(id, 'too late').then(
        () => 'accepted',
        (e: { code?: string }) => e.code ?? 'unknown',
      );
      await reopened.close();
      return { statusBefore, status, content, flushed: first.join(''), full: first.join('') + rest.join(''), lateDelta };
    },
    { name, thread: THREAD },
  );
  expect(outcome.statusBefore).toBe('streaming');
  expect(outcome.status).toBe('interrupted');
  expect(outcome.content).not.toBeNull();
  // Everything flushed before the kill, and at most what was buffered after it (a timer flush may have run).
  expect(outcome.content!.startsWith(outcome.flushed)).toBe(true);
  expect(outcome.full.startsWith(outcome.content!)).toBe(true);
  expect(outcome.lateDelta).toBe('CONFLICT');
});
