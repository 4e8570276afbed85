import { eq, ok, rejects } from '../assert.js';
import type { ContractStore } from '../harness.js';
import { group } from '../harness.js';
import { invalid, thread } from './fixtures.js';

/** Threads a (updated 10), b (20), c (30, archived), d (40), each with `n` messages and a name. */
async function seeded(makeStore: () => Promise<ContractStore>): Promise<ContractStore> {
  const store = await makeStore();
  const rows: Array<[string, number, boolean, number]> = [['a', 10, false, 2], ['b', 20, false, 1], ['c', 30, true, 3], ['d', 40, false, 0]];
  for (const [id, updatedAt, archived, n] of rows) {
    await store.upsertThread(thread(id, { updatedAt, archived, name: `name-${id}` }));
    for (let i = 0; i < n; i++) await store.appendMessage(id, 'user', `${id} message ${i}`);
  }
  return store;
}

async function remaining(store: ContractStore): Promise<string[]> {
  return (await store.listThreads({ includeArchived: true })).map((t) => t.id).sort();
}

group('retention', (test) => {
  test('pruneThreads({ olderThan }) deletes threads updated before it, with their messages, search rows and index entries', async ({ makeStore }) => {
    const store = await seeded(makeStore);
    await store.saveCheckpoint('a', 'cp', { x: 1 });
    const result = await store.pruneThreads({ olderThan: 25 });
    eq(result, { deletedThreadIds: ['a', 'b'], deletedMessages: 3 });
    eq(await remaining(store), ['c', 'd']);
    eq(await store.listMessages('a'), []);
    eq(await store.loadCheckpoint('a'), null, 'checkpoints cascade');
    eq((await store.searchMessages('message', { includeArchived: true })).map((h) => h.threadId), ['c', 'c', 'c'], 'search rows');
    eq(await store.findThreadNamesByIds(['a', 'b', 'c', 'd']), { a: null, b: null, c: 'name-c', d: 'name-d' }, 'session index');
    eq(await store.findThreadPathByName('name-a'), null);
  });

  test('pruneThreads({ keepLatest }) keeps the most recently updated threads', async ({ makeStore }) => {
    const store = await seeded(makeStore);
    eq(await store.pruneThreads({ keepLatest: 2 }), { deletedThreadIds: ['a', 'b'], deletedMessages: 3 });
    eq(await remaining(store), ['c', 'd']);
    eq((await store.pruneThreads({ keepLatest: 0 })).deletedThreadIds, ['c', 'd'], 'keepLatest 0 empties the store');
  });

  test('archivedOnly limits the scope to archived threads; criteria combine', async ({ makeStore }) => {
    const store = await seeded(makeStore);
    eq(await store.pruneThreads({ olderThan: 100, archivedOnly: true }), { deletedThreadIds: ['c'], deletedMessages: 3 });
    eq(await remaining(store), ['a', 'b', 'd']);
    eq((await store.pruneThreads({ olderThan: 30, keepLatest: 2 })).deletedThreadIds, ['a'], 'older than 30 and not among the 2 latest');
    eq(await remaining(store), ['b', 'd']);
  });

  test('pruning nothing changes nothing', async ({ makeStore }) => {
    const store = await seeded(makeStore);
    eq(await store.pruneThreads({ olderThan: 5 }), { deletedThreadIds: [], deletedMessages: 0 });
    eq(await remaining(store), ['a', 'b', 'c', 'd']);
    eq(await store.findThreadNameById('a'), 'name-a');
  });

  test('pruneThreads needs olderThan or keepLatest, and refuses bad values', async ({ makeStore }) => {
    const store = await seeded(makeStore);
    await invalid(() => store.pruneThreads({}), 'options');
    await invalid(() => store.pruneThreads({ archivedOnly: true }), 'options');
    await invalid(() => store.pruneThreads(undefined as never), 'options');
    await invalid(() => store.pruneThreads({ olderThan: 1.5 }), 'options.olderThan');
    await invalid(() => store.pruneThreads({ keepLatest: -1 }), 'options.keepLatest');
    await invalid(() => store.pruneThreads({ keepLatest: 1, archivedOnly: 'yes' as unknown as boolean }), 'options.archivedOnly');
    eq(await remaining(store), ['a', 'b', 'c', 'd'], 'nothing deleted');
  });

  test('vacuum runs when there is room for a copy and refuses with QUOTA_EXCEEDED when there is not', { requires: ['vacuum'] }, async ({ makeStore }) => {
    const store = await seeded(makeStore);
    await store.appendMessage('a', 'user', 'x'.repeat(200_000));
    await store.pruneThreads({ olderThan: 15 });
    const error = await rejects(() => store.vacuum({ availableBytes: 1000 }), 'QUOTA_EXCEEDED', 'twice');
    ok(typeof error.details?.['databaseBytes'] === 'number', 'says how big the database is');
    const result = await store.vacuum({ availableBytes: 1e12 });
    ok(result.afterBytes < result.beforeBytes, `space given back: ${result.beforeBytes} → ${result.afterBytes}`);
    eq(await remaining(store), ['b', 'c', 'd'], 'data intact');
    await invalid(() => store.vacuum({ availableBytes: -0.5 }), 'options.availableBytes');
  });
});
