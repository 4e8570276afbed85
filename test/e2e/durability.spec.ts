import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.js';

const WRITES = 20;

/**
 * Opens a store on a worker that counts its OPFS handle flushes (the sahpool VFS's xSync), makes one
 * write to settle the files, then WRITES sequential appendMessage calls (each its own commit) and
 * returns how many flushes they caused. The thread is named, so no write appends to the session index.
 */
async function flushesForWrites(app: Page, durability: 'strict' | 'relaxed') {
  return app.evaluate(
    async ({ name, durability, writes }) => {
      const worker = window.flushCountingWorker();
      const store = await window.openStateStore({ name, worker, durability });
      await store.upsertThread({ id: 't', name: 'named', preview: '', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api' });
      await store.appendMessage('t', 'user', 'settle');
      const before = await window.syncFlushes(worker);
      const commitsBefore = (await store.info()).commits;
      for (let i = 0; i < writes; i++) await store.appendMessage('t', 'user', `m${i}`);
      const flushes = (await window.syncFlushes(worker)) - before;
      const info = await store.info();
      await store.close();
      return { flushes, commits: (info.commits ?? 0) - (commitsBefore ?? 0), durability: info.durability, vfs: info.vfs };
    },
    { name: `flushes-${durability}-${crypto.randomUUID()}`, durability, writes: WRITES },
  );
}

test('strict: every commit is flushed to OPFS (at least one sync access handle flush per write)', async ({ app }) => {
  const outcome = await flushesForWrites(app, 'strict');
  console.log(`strict: ${outcome.flushes} flushes for ${WRITES} writes`);
  expect(outcome).toMatchObject({ durability: 'strict', vfs: 'opfs-sahpool', commits: WRITES });
  expect(outcome.flushes).toBeGreaterThanOrEqual(WRITES);
});

test('relaxed: commits are not flushed (no sync access handle flush for the same writes)', async ({ app }) => {
  const outcome = await flushesForWrites(app, 'relaxed');
  console.log(`relaxed: ${outcome.flushes} flushes for ${WRITES} writes`);
  expect(outcome).toMatchObject({ durability: 'relaxed', vfs: 'opfs-sahpool', commits: WRITES });
  expect(outcome.flushes).toBe(0);
});

// terminate() is not a power loss: the OS still writes out what the worker wrote, flushed or not, so
// this would pass in relaxed mode too. What it proves is the order: the promise resolves only after
// the commit is written, so a worker killed right after the resolve loses nothing. The two tests
// above tell strict from relaxed.
test('a write whose promise resolved is there after the worker is terminated straight after the resolve (a worker kill, not a power loss)', async ({ app }) => {
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
