import { eq, ok, rejects } from '../assert.js';
import { group } from '../harness.js';
import { invalid, invalidJson, jsonSamples, nowSeconds, thread, unserializableJson, within } from './fixtures.js';

group('checkpoints', (test) => {
  test('saveCheckpoint stores a checkpoint that loadCheckpoint returns by id, stamped now', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    const before = nowSeconds();
    await store.saveCheckpoint('t1', 'cp-1', { step: 1, notes: ['a', 'b'] });
    const after = nowSeconds();
    const cp = await store.loadCheckpoint('t1', 'cp-1');
    ok(cp !== null, 'found');
    within(cp.createdAt, before, after, 'createdAt');
    eq(cp, { threadId: 't1', checkpointId: 'cp-1', state: { step: 1, notes: ['a', 'b'] }, createdAt: cp.createdAt });
  });

  test('checkpoint state may be any JSON value', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    for (const [label, state] of jsonSamples) {
      await store.saveCheckpoint('t1', label, state);
      eq((await store.loadCheckpoint('t1', label))?.state, state, label);
    }
  });

  test('loadCheckpoint without an id returns the latest checkpoint', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    eq(await store.loadCheckpoint('t1'), null, 'none yet');
    await store.saveCheckpoint('t1', 'A', 'state A');
    eq((await store.loadCheckpoint('t1'))?.checkpointId, 'A');
    await store.saveCheckpoint('t1', 'B', 'state B');
    eq((await store.loadCheckpoint('t1'))?.state, 'state B', 'undefined id');
    eq((await store.loadCheckpoint('t1', null))?.state, 'state B', 'null id');
  });

  test('within the same second the latest checkpoint is the one written last, overwrites included', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.saveCheckpoint('t1', 'A', 1);
    await store.saveCheckpoint('t1', 'B', 2);
    eq((await store.loadCheckpoint('t1'))?.checkpointId, 'B', 'B was written last');
    eq((await store.listCheckpoints('t1')).map((c) => c.checkpointId), ['B', 'A']);
    await store.saveCheckpoint('t1', 'A', 3);
    eq((await store.loadCheckpoint('t1'))?.checkpointId, 'A', 'A was overwritten last');
    eq((await store.loadCheckpoint('t1'))?.state, 3, 'with its new state');
    eq((await store.listCheckpoints('t1')).map((c) => c.checkpointId), ['A', 'B']);
  });

  test('saving an existing checkpoint id replaces its state', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.saveCheckpoint('t1', 'cp', { v: 1, old: true });
    await store.saveCheckpoint('t1', 'cp', { v: 2 });
    eq((await store.loadCheckpoint('t1', 'cp'))?.state, { v: 2 });
    eq((await store.listCheckpoints('t1')).length, 1, 'still one checkpoint');
  });

  test('listCheckpoints lists newest first and honours a limit', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.upsertThread(thread('t2'));
    for (const id of ['c1', 'c2', 'c3', 'c4']) await store.saveCheckpoint('t1', id, { id });
    await store.saveCheckpoint('t2', 'other', {});
    const listed = await store.listCheckpoints('t1');
    eq(listed.map((c) => c.checkpointId), ['c4', 'c3', 'c2', 'c1']);
    eq(listed.map((c) => [c.threadId, c.state]), [['t1', { id: 'c4' }], ['t1', { id: 'c3' }], ['t1', { id: 'c2' }], ['t1', { id: 'c1' }]]);
    eq((await store.listCheckpoints('t1', 2)).map((c) => c.checkpointId), ['c4', 'c3']);
    eq((await store.listCheckpoints('t1', 1)).map((c) => c.checkpointId), ['c4']);
  });

  test('listCheckpoints returns at most 100 checkpoints by default', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    for (let i = 0; i < 105; i++) await store.saveCheckpoint('t1', `c${i}`, i);
    const listed = await store.listCheckpoints('t1');
    eq(listed.length, 100, 'count');
    eq(listed[0]?.checkpointId, 'c104', 'newest first');
    eq(listed[99]?.checkpointId, 'c5', 'the oldest are left out');
  });

  test('listCheckpoints refuses a limit that is not a positive integer', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    for (const limit of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await invalid(() => store.listCheckpoints('t1', limit), 'limit');
    }
  });

  test('deleteCheckpoint removes one checkpoint; deleting a missing one is a no-op', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.saveCheckpoint('t1', 'A', 1);
    await store.saveCheckpoint('t1', 'B', 2);
    await store.deleteCheckpoint('t1', 'B');
    eq(await store.loadCheckpoint('t1', 'B'), null, 'B is gone');
    eq((await store.loadCheckpoint('t1'))?.checkpointId, 'A', 'A is the latest again');
    await store.deleteCheckpoint('t1', 'B');
    await store.deleteCheckpoint('missing', 'A');
    eq((await store.listCheckpoints('t1')).map((c) => c.checkpointId), ['A']);
  });

  test('reads of missing checkpoints give null or an empty list', async ({ makeStore }) => {
    const store = await makeStore();
    eq(await store.loadCheckpoint('missing'), null);
    eq(await store.loadCheckpoint('missing', 'cp'), null);
    eq(await store.listCheckpoints('missing'), []);
    await store.upsertThread(thread('t1'));
    await store.saveCheckpoint('t1', 'cp', 1);
    eq(await store.loadCheckpoint('t1', 'other'), null);
  });

  test('saveCheckpoint fails with NOT_FOUND on an unknown thread', async ({ makeStore }) => {
    const store = await makeStore();
    await rejects(() => store.saveCheckpoint('missing', 'cp', { a: 1 }), 'NOT_FOUND');
    eq(await store.listCheckpoints('missing'), []);
  });

  test('a state JSON cannot carry is refused and the previous checkpoint stays intact', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.saveCheckpoint('t1', 'cp', { kept: true });
    for (const [label, state] of unserializableJson()) {
      try {
        await invalidJson(() => store.saveCheckpoint('t1', 'cp', state), 'state');
      } catch (error) {
        throw new Error(`${label}: ${(error as Error).message}`);
      }
    }
    await invalid(() => store.saveCheckpoint('t1', 'cp', undefined), 'state');
    await invalidJson(() => store.saveCheckpoint('t1', 'cp', () => 1), 'state');
    eq((await store.loadCheckpoint('t1', 'cp'))?.state, { kept: true });
    eq((await store.listCheckpoints('t1')).length, 1);
  });

  test('checkpoint operations refuse empty or non-string ids', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await invalid(() => store.saveCheckpoint('', 'cp', 1), 'threadId');
    await invalid(() => store.saveCheckpoint('t1', '', 1), 'checkpointId');
    await invalid(() => store.saveCheckpoint('t1', 5 as never, 1), 'checkpointId');
    await invalid(() => store.saveCheckpoint('t1', 'cp\uD800', 1), 'checkpointId');
    await invalid(() => store.loadCheckpoint('', 'cp'), 'threadId');
    await invalid(() => store.loadCheckpoint('t1', ''), 'checkpointId');
    await invalid(() => store.listCheckpoints(''), 'threadId');
    await invalid(() => store.deleteCheckpoint('', 'cp'), 'threadId');
    await invalid(() => store.deleteCheckpoint('t1', ''), 'checkpointId');
    eq(await store.listCheckpoints('t1'), [], 'nothing was written');
  });
});
