import { expect, test } from './fixtures.js';

test('strict: a write whose promise resolved is there after the worker is terminated straight after the resolve', async ({ app }) => {
  const name = `strict-${crypto.randomUUID()}`;
  const outcome = await app.evaluate(async (name) => {
    const worker = window.ownWorker();
    const store = await window.openStateStore({ name, worker });
    await store.upsertThread({ id: 't', preview: '', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api' });
    const ids: number[] = [];
    for (let i = 0; i < 20; i++) ids.push(await store.appendMessage('t', 'user', `m${i}`));
    worker.terminate(); // no close(): the worker dies the moment the last promise resolved

    // A new worker must wait for the dead one's OPFS handles; the store retries with backoff.
    const reopened = await window.openStateStore({ name });
    const messages = await reopened.listMessages('t');
    await reopened.close();
    return { ids, found: messages.map((m) => m.id) };
  }, name);
  expect(outcome.found).toEqual(outcome.ids);
});

test('relaxed: writes work, info() says relaxed, and the data is there after close and reopen', async ({ app }) => {
  const name = `relaxed-${crypto.randomUUID()}`;
  const outcome = await app.evaluate(async (name) => {
    const store = await window.openStateStore({ name, durability: 'relaxed' });
    await store.upsertThread({ id: 't', preview: '', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api' });
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.appendMessage('t', 'user', `m${i}`)));
    const durability = (await store.info()).durability;
    await store.close();
    const again = await window.openStateStore({ name });
    const count = (await again.listMessages('t')).length;
    await again.close();
    return { durability, count };
  }, name);
  expect(outcome).toEqual({ durability: 'relaxed', count: 50 });
});
