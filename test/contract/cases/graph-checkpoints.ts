import type { GraphCheckpointInput, GraphCheckpointRecord } from '../../../src/core/index.js';
import { eq, ok } from '../assert.js';
import { group } from '../harness.js';
import { invalid, invalidJson, nowSeconds, thread, unserializableJson, within } from './fixtures.js';

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);

/** A graph checkpoint; `over` replaces any field. */
function graphCheckpoint(threadId: string, checkpointId: string, over: Partial<GraphCheckpointInput> = {}): GraphCheckpointInput {
  return { threadId, checkpointId, type: 'json', checkpoint: new TextEncoder().encode(`{"id":"${checkpointId}"}`), metadata: { source: 'loop', step: 1 }, ...over };
}

const ids = (records: GraphCheckpointRecord[]): string[] => records.map((r) => r.checkpointId);

group('graph checkpoints', (test) => {
  test('putGraphCheckpoint stores bytes and metadata that getGraphCheckpoint returns as they were, stamped now', async ({ makeStore }) => {
    const store = await makeStore();
    const before = nowSeconds();
    await store.putGraphCheckpoint(graphCheckpoint('g1', 'c1', { namespace: 'sub', parentCheckpointId: 'c0', type: 'bytes', checkpoint: bytes(0, 1, 255, 128), metadata: { source: 'input', step: -1, parents: {}, note: 'é 😀' } }));
    const after = nowSeconds();
    const found = await store.getGraphCheckpoint({ threadId: 'g1', namespace: 'sub', checkpointId: 'c1' });
    ok(found !== null, 'found');
    within(found.createdAt, before, after, 'createdAt');
    ok(found.checkpoint instanceof Uint8Array, 'the checkpoint is a Uint8Array');
    eq(found, {
      threadId: 'g1', namespace: 'sub', checkpointId: 'c1', parentCheckpointId: 'c0', type: 'bytes', checkpoint: bytes(0, 1, 255, 128),
      metadata: { source: 'input', step: -1, parents: {}, note: 'é 😀' }, createdAt: found.createdAt, writes: [], channelValues: [],
    });
    eq(await store.getGraphCheckpoint({ threadId: 'g1', checkpointId: 'c1' }), null, 'the default namespace is "", another one');
  });

  test('an empty checkpoint or write value comes back as an empty Uint8Array', async ({ makeStore }) => {
    const store = await makeStore();
    await store.putGraphCheckpoint(graphCheckpoint('g', 'c', { type: 'bytes', checkpoint: bytes() }));
    await store.putGraphWrites({ threadId: 'g', checkpointId: 'c', taskId: 't' }, [{ idx: 0, channel: 'ch', type: 'bytes', value: bytes() }]);
    const found = await store.getGraphCheckpoint({ threadId: 'g' });
    ok(found?.checkpoint instanceof Uint8Array && found.checkpoint.byteLength === 0, 'empty checkpoint');
    ok(found.writes[0]?.value instanceof Uint8Array && found.writes[0].value.byteLength === 0, 'empty write value');
  });

  test('without an id getGraphCheckpoint returns the greatest id of the thread and namespace; a missing one is null', async ({ makeStore }) => {
    const store = await makeStore();
    eq(await store.getGraphCheckpoint({ threadId: 'g' }), null, 'none yet');
    for (const id of ['b', 'c', 'a']) await store.putGraphCheckpoint(graphCheckpoint('g', id));
    await store.putGraphCheckpoint(graphCheckpoint('g', 'z', { namespace: 'sub' }));
    await store.putGraphCheckpoint(graphCheckpoint('other', 'zz'));
    eq((await store.getGraphCheckpoint({ threadId: 'g' }))?.checkpointId, 'c');
    eq((await store.getGraphCheckpoint({ threadId: 'g', checkpointId: null }))?.checkpointId, 'c', 'null id');
    eq((await store.getGraphCheckpoint({ threadId: 'g', namespace: 'sub' }))?.checkpointId, 'z');
    eq(await store.getGraphCheckpoint({ threadId: 'g', checkpointId: 'missing' }), null);
    eq(await store.getGraphCheckpoint({ threadId: 'missing' }), null);
  });

  test('putting a checkpoint id again replaces it and keeps its writes', async ({ makeStore }) => {
    const store = await makeStore();
    await store.putGraphCheckpoint(graphCheckpoint('g', 'c', { metadata: { v: 1 } }));
    await store.putGraphWrites({ threadId: 'g', checkpointId: 'c', taskId: 't' }, [{ idx: 0, channel: 'ch', type: 'json', value: bytes(1) }]);
    await store.putGraphCheckpoint(graphCheckpoint('g', 'c', { metadata: { v: 2 }, checkpoint: bytes(9) }));
    const found = await store.getGraphCheckpoint({ threadId: 'g', checkpointId: 'c' });
    eq([found?.metadata, found?.checkpoint, found?.writes.length], [{ v: 2 }, bytes(9), 1]);
    eq((await store.listGraphCheckpoints()).length, 1, 'still one checkpoint');
  });

  test('putGraphWrites keeps a stored (task, idx), lets a negative idx replace it, and returns writes by task path, task id, idx', async ({ makeStore }) => {
    const store = await makeStore();
    const at = { threadId: 'g', checkpointId: 'c' };
    await store.putGraphCheckpoint(graphCheckpoint('g', 'c'));
    await store.putGraphWrites({ ...at, taskId: 'task-b', taskPath: '~1' }, [{ idx: 0, channel: 'x', type: 'json', value: bytes(1) }, { idx: 1, channel: 'y', type: 'json', value: bytes(2) }]);
    await store.putGraphWrites({ ...at, taskId: 'task-a', taskPath: '~1' }, [{ idx: 0, channel: 'x', type: 'json', value: bytes(3) }]);
    await store.putGraphWrites({ ...at, taskId: 'task-z' }, [{ idx: 0, channel: 'input', type: 'json', value: bytes(4) }]);
    // Replayed: the stored write stays. A special write (negative idx) replaces the earlier one.
    await store.putGraphWrites({ ...at, taskId: 'task-b', taskPath: '~1' }, [{ idx: 0, channel: 'x', type: 'json', value: bytes(99) }]);
    await store.putGraphWrites({ ...at, taskId: 'task-a', taskPath: '~1' }, [{ idx: -1, channel: '__error__', type: 'json', value: bytes(5) }]);
    await store.putGraphWrites({ ...at, taskId: 'task-a', taskPath: '~1' }, [{ idx: -1, channel: '__error__', type: 'json', value: bytes(6) }]);
    const writes = (await store.getGraphCheckpoint(at))?.writes ?? [];
    eq(
      writes.map((w) => [w.taskPath, w.taskId, w.idx, w.channel, w.value[0]]),
      [['', 'task-z', 0, 'input', 4], ['~1', 'task-a', -1, '__error__', 6], ['~1', 'task-a', 0, 'x', 3], ['~1', 'task-b', 0, 'x', 1], ['~1', 'task-b', 1, 'y', 2]],
    );
  });

  test('listGraphCheckpoints lists newest first, by thread, namespace, id, before an id, with a limit', async ({ makeStore }) => {
    const store = await makeStore();
    for (const [t, ns, id] of [['g1', '', 'a'], ['g1', '', 'c'], ['g1', 'sub', 'b'], ['g2', '', 'd']] as const) {
      await store.putGraphCheckpoint(graphCheckpoint(t, id, { namespace: ns }));
    }
    eq(ids(await store.listGraphCheckpoints()), ['d', 'c', 'b', 'a'], 'everything');
    eq(ids(await store.listGraphCheckpoints({ threadId: 'g1' })), ['c', 'b', 'a']);
    eq(ids(await store.listGraphCheckpoints({ threadId: 'g1', namespace: '' })), ['c', 'a']);
    eq(ids(await store.listGraphCheckpoints({ namespace: 'sub' })), ['b']);
    eq(ids(await store.listGraphCheckpoints({ checkpointId: 'c' })), ['c']);
    eq(ids(await store.listGraphCheckpoints({ before: 'c' })), ['b', 'a']);
    eq(ids(await store.listGraphCheckpoints({ threadId: 'g1', limit: 2 })), ['c', 'b']);
    eq(await store.listGraphCheckpoints({ threadId: 'missing' }), []);
  });

  test('listGraphCheckpoints filters on top-level metadata keys, each equal as JSON', async ({ makeStore }) => {
    const store = await makeStore();
    await store.putGraphCheckpoint(graphCheckpoint('g', 'a', { metadata: { source: 'input', step: -1, done: false, note: null, parents: {} } }));
    await store.putGraphCheckpoint(graphCheckpoint('g', 'b', { metadata: { source: 'loop', step: 0, done: true, parents: { '': 'a' }, tags: ['x', 'é'] } }));
    await store.putGraphCheckpoint(graphCheckpoint('g', 'c', { metadata: { source: 'loop', step: 1.5, done: 1, parents: { '': 'b' } } }));
    const where = async (filter: Record<string, unknown>) => ids(await store.listGraphCheckpoints({ filter: filter as never }));
    eq(await where({}), ['c', 'b', 'a'], 'an empty filter');
    eq(await where({ source: 'loop' }), ['c', 'b']);
    eq(await where({ source: 'loop', step: 0 }), ['b'], 'every key must match');
    eq(await where({ step: -1 }), ['a']);
    eq(await where({ step: 1.5 }), ['c']);
    eq(await where({ step: '0' }), [], 'a string is not a number');
    eq(await where({ done: true }), ['b'], 'true is not 1');
    eq(await where({ done: 1 }), ['c'], '1 is not true');
    eq(await where({ done: false }), ['a']);
    eq(await where({ note: null }), ['a'], 'null matches null, not a missing key');
    eq(await where({ parents: { '': 'a' } }), ['b'], 'an object');
    eq(await where({ parents: {} }), ['a']);
    eq(await where({ tags: ['x', 'é'] }), ['b'], 'an array');
    eq(await where({ tags: ['é', 'x'] }), [], 'in order');
    eq(await where({ missing: 'x' }), []);
  });

  test('deleteGraphThread deletes a thread\'s checkpoints and writes in every namespace, and nothing else', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('g1'));
    for (const [t, ns] of [['g1', ''], ['g1', 'sub'], ['g2', '']] as const) {
      await store.putGraphCheckpoint(graphCheckpoint(t, 'c', { namespace: ns }));
      await store.putGraphWrites({ threadId: t, namespace: ns, checkpointId: 'c', taskId: 't' }, [{ idx: 0, channel: 'x', type: 'json', value: bytes(1) }]);
    }
    await store.deleteGraphThread('g1');
    await store.deleteGraphThread('missing');
    eq((await store.listGraphCheckpoints()).map((r) => [r.threadId, r.writes.length]), [['g2', 1]]);
    ok((await store.getThread('g1')) !== null, 'the store thread of that id stays');
    // Writes left without their checkpoint are gone too: a new checkpoint of that id starts clean.
    await store.putGraphCheckpoint(graphCheckpoint('g1', 'c'));
    eq((await store.getGraphCheckpoint({ threadId: 'g1' }))?.writes, []);
  });

  test('deleting a store thread, or pruning it, deletes its graph checkpoints and writes', async ({ makeStore }) => {
    const store = await makeStore();
    for (const id of ['gone', 'pruned', 'kept']) {
      await store.upsertThread(thread(id, { updatedAt: id === 'kept' ? 100 : 10 }));
      await store.putGraphCheckpoint(graphCheckpoint(id, 'c'));
      await store.putGraphWrites({ threadId: id, checkpointId: 'c', taskId: 't' }, [{ idx: 0, channel: 'x', type: 'json', value: bytes(1) }]);
    }
    await store.deleteThread('gone');
    eq(await store.getGraphCheckpoint({ threadId: 'gone' }), null, 'deleteThread');
    await store.pruneThreads({ olderThan: 50 });
    eq(await store.getGraphCheckpoint({ threadId: 'pruned' }), null, 'pruneThreads');
    eq((await store.getGraphCheckpoint({ threadId: 'kept' }))?.writes.length, 1, 'the other thread keeps its checkpoint and writes');
    await store.putGraphCheckpoint(graphCheckpoint('gone', 'c'));
    eq((await store.getGraphCheckpoint({ threadId: 'gone' }))?.writes, [], 'no writes were left behind');
  });

  test('a bad checkpoint is refused with the field named, and nothing is written', async ({ makeStore }) => {
    const store = await makeStore();
    const good = graphCheckpoint('g', 'c');
    await invalid(() => store.putGraphCheckpoint({ ...good, threadId: '' }), 'checkpoint.threadId');
    await invalid(() => store.putGraphCheckpoint({ ...good, checkpointId: 5 as never }), 'checkpoint.checkpointId');
    await invalid(() => store.putGraphCheckpoint({ ...good, namespace: 'a\uD800' }), 'checkpoint.namespace');
    await invalid(() => store.putGraphCheckpoint({ ...good, parentCheckpointId: '' }), 'checkpoint.parentCheckpointId');
    await invalid(() => store.putGraphCheckpoint({ ...good, type: '' }), 'checkpoint.type');
    await invalid(() => store.putGraphCheckpoint({ ...good, checkpoint: [1, 2] as never }), 'checkpoint.checkpoint');
    await invalid(() => store.putGraphCheckpoint({ ...good, checkpoint: 'text' as never }), 'checkpoint.checkpoint');
    await invalid(() => store.putGraphCheckpoint({ ...good, metadata: [1] as never }), 'checkpoint.metadata');
    await invalid(() => store.putGraphCheckpoint({ ...good, metadata: 'source' as never }), 'checkpoint.metadata');
    await invalid(() => store.putGraphCheckpoint(null as never), 'checkpoint');
    for (const [label, metadata] of unserializableJson()) {
      try {
        await invalidJson(() => store.putGraphCheckpoint({ ...good, metadata: { inner: metadata } as never }), 'checkpoint.metadata');
      } catch (error) {
        throw new Error(`${label}: ${(error as Error).message}`);
      }
    }
    eq(await store.listGraphCheckpoints(), [], 'nothing was written');
  });

  test('bad writes are refused with the field named, and none of the call\'s writes is stored', async ({ makeStore }) => {
    const store = await makeStore();
    const at = { threadId: 'g', checkpointId: 'c', taskId: 't' };
    const write = { idx: 0, channel: 'x', type: 'json', value: bytes(1) };
    await store.putGraphCheckpoint(graphCheckpoint('g', 'c'));
    await invalid(() => store.putGraphWrites({ ...at, threadId: '' }, [write]), 'target.threadId');
    await invalid(() => store.putGraphWrites({ ...at, checkpointId: undefined as never }, [write]), 'target.checkpointId');
    await invalid(() => store.putGraphWrites({ ...at, taskId: '' }, [write]), 'target.taskId');
    await invalid(() => store.putGraphWrites({ ...at, taskPath: 7 as never }, [write]), 'target.taskPath');
    await invalid(() => store.putGraphWrites(at, write as never), 'writes');
    await invalid(() => store.putGraphWrites(at, [write, { ...write, idx: 1.5 }]), 'writes[1].idx');
    await invalid(() => store.putGraphWrites(at, [write, { ...write, idx: 1, value: { 0: 1 } as never }]), 'writes[1].value');
    await invalid(() => store.putGraphWrites(at, [write, { ...write, idx: 1, type: '' }]), 'writes[1].type');
    eq((await store.getGraphCheckpoint({ threadId: 'g' }))?.writes, [], 'nothing was written');
  });

  test('bad keys and list options are refused with the field named', async ({ makeStore }) => {
    const store = await makeStore();
    await invalid(() => store.getGraphCheckpoint({ threadId: '' }), 'key.threadId');
    await invalid(() => store.getGraphCheckpoint({ threadId: 'g', checkpointId: '' }), 'key.checkpointId');
    await invalid(() => store.getGraphCheckpoint({ threadId: 'g', namespace: 3 as never }), 'key.namespace');
    await invalid(() => store.listGraphCheckpoints({ limit: 0 }), 'options.limit');
    await invalid(() => store.listGraphCheckpoints({ threadId: '' }), 'options.threadId');
    await invalid(() => store.listGraphCheckpoints({ before: 5 as never }), 'options.before');
    await invalid(() => store.listGraphCheckpoints({ filter: ['source'] as never }), 'options.filter');
    await invalidJson(() => store.listGraphCheckpoints({ filter: { step: Number.NaN } }), 'options.filter');
    await invalid(() => store.deleteGraphThread(''), 'threadId');
  });
});

const value = (channel: string, version: string, text: string, base?: string) => ({
  channel, version, type: 'json', value: new TextEncoder().encode(JSON.stringify(text)), ...(base ? { base } : {}),
});
const texts = (record: GraphCheckpointRecord | null) => (record?.channelValues ?? []).map((c) => [c.channel, c.version, new TextDecoder().decode(c.value), c.base ?? null]);

group('graph checkpoints: channel values by version', (test) => {
  test('a checkpoint brings the values its channel versions name, each stored once however many checkpoints name it', async ({ makeStore }) => {
    const store = await makeStore();
    await store.putGraphCheckpoint(graphCheckpoint('g', 'c1', { channelVersions: { a: '1', b: '1' }, channelValues: [value('a', '1', 'A1'), value('b', '1', 'B1')] }));
    await store.putGraphCheckpoint(graphCheckpoint('g', 'c2', { channelVersions: { a: '2', b: '1' }, channelValues: [value('a', '2', 'A2')] }));
    // A value put again at a stored version is not written again: the first stays.
    await store.putGraphCheckpoint(graphCheckpoint('g', 'c3', { channelVersions: { a: '2', b: '1' }, channelValues: [value('b', '1', 'changed?')] }));
    eq(texts(await store.getGraphCheckpoint({ threadId: 'g', checkpointId: 'c1' })), [['a', '1', '"A1"', null], ['b', '1', '"B1"', null]]);
    eq(texts(await store.getGraphCheckpoint({ threadId: 'g', checkpointId: 'c2' })), [['a', '2', '"A2"', null], ['b', '1', '"B1"', null]]);
    eq(texts(await store.getGraphCheckpoint({ threadId: 'g', checkpointId: 'c3' })), [['a', '2', '"A2"', null], ['b', '1', '"B1"', null]]);
    eq((await store.listGraphCheckpoints({ threadId: 'g' })).map((r) => r.channelValues.length), [2, 2, 2]);
  });

  test('a value that extends another comes with its whole chain, the whole value first', async ({ makeStore }) => {
    const store = await makeStore();
    await store.putGraphCheckpoint(graphCheckpoint('g', 'c1', { channelVersions: { m: '1' }, channelValues: [value('m', '1', 'first')] }));
    await store.putGraphCheckpoint(graphCheckpoint('g', 'c2', { channelVersions: { m: '2' }, channelValues: [value('m', '2', 'second', '1')] }));
    await store.putGraphCheckpoint(graphCheckpoint('g', 'c3', { channelVersions: { m: '3' }, channelValues: [value('m', '3', 'third', '2')] }));
    eq(texts(await store.getGraphCheckpoint({ threadId: 'g' })), [['m', '1', '"first"', null], ['m', '2', '"second"', '1'], ['m', '3', '"third"', '2']]);
  });

  test('checkpoints stored without versions bring no values, and namespaces and threads keep their own', async ({ makeStore }) => {
    const store = await makeStore();
    await store.putGraphCheckpoint(graphCheckpoint('g', 'c1', { channelVersions: { a: '1' }, channelValues: [value('a', '1', 'root')] }));
    await store.putGraphCheckpoint(graphCheckpoint('g', 'c1', { namespace: 'sub', channelVersions: { a: '1' }, channelValues: [value('a', '1', 'sub')] }));
    await store.putGraphCheckpoint(graphCheckpoint('h', 'c1', { channelVersions: { a: '1' } }));
    await store.putGraphCheckpoint(graphCheckpoint('g', 'c0'));
    eq(texts(await store.getGraphCheckpoint({ threadId: 'g', checkpointId: 'c1' })), [['a', '1', '"root"', null]]);
    eq(texts(await store.getGraphCheckpoint({ threadId: 'g', namespace: 'sub', checkpointId: 'c1' })), [['a', '1', '"sub"', null]]);
    eq(texts(await store.getGraphCheckpoint({ threadId: 'h' })), [], 'a version whose value is not stored');
    eq(texts(await store.getGraphCheckpoint({ threadId: 'g', checkpointId: 'c0' })), []);
  });

  test('bad channel versions or values are refused with the field named, and nothing is written', async ({ makeStore }) => {
    const store = await makeStore();
    await invalid(() => store.putGraphCheckpoint(graphCheckpoint('g', 'c', { channelVersions: { a: 1 as unknown as string } })), 'checkpoint.channelVersions.a');
    await invalid(() => store.putGraphCheckpoint(graphCheckpoint('g', 'c', { channelVersions: 'x' as never })), 'checkpoint.channelVersions');
    await invalid(() => store.putGraphCheckpoint(graphCheckpoint('g', 'c', { channelValues: [{ ...value('a', '1', 'x'), value: 'x' as never }] })), 'checkpoint.channelValues[0].value');
    await invalid(() => store.putGraphCheckpoint(graphCheckpoint('g', 'c', { channelValues: [value('a', '', 'x')] })), 'checkpoint.channelValues[0].version');
    await invalid(() => store.putGraphCheckpoint(graphCheckpoint('g', 'c', { channelValues: [{ ...value('a', '2', 'x'), base: 7 as never }] })), 'checkpoint.channelValues[0].base');
    eq(await store.listGraphCheckpoints(), []);
  });

  test('deleting the graph thread or the store thread deletes its channel values', async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 'chat' });
    for (const id of ['g', 'chat']) await store.putGraphCheckpoint(graphCheckpoint(id, 'c1', { channelVersions: { a: '1' }, channelValues: [value('a', '1', id)] }));
    await store.deleteGraphThread('g');
    await store.deleteThread('chat');
    // Put again under the same keys without values: nothing of the old values remains to be named.
    for (const id of ['g', 'chat']) await store.putGraphCheckpoint(graphCheckpoint(id, 'c1', { channelVersions: { a: '1' } }));
    eq([texts(await store.getGraphCheckpoint({ threadId: 'g' })), texts(await store.getGraphCheckpoint({ threadId: 'chat' }))], [[], []]);
  });
});

group('graph checkpoints: paging and pruning', (test) => {
  test('listGraphCheckpoints after a listed checkpoint gives the next page, without a gap or a repeat across threads with equal ids', async ({ makeStore }) => {
    const store = await makeStore();
    for (const thread of ['a', 'b']) for (const id of ['c1', 'c2', 'c3']) await store.putGraphCheckpoint(graphCheckpoint(thread, id));
    await store.putGraphCheckpoint(graphCheckpoint('a', 'c2', { namespace: 'sub' }));
    const all = (await store.listGraphCheckpoints()).map((r) => `${r.threadId}/${r.namespace}/${r.checkpointId}`);
    const paged: string[] = [];
    let after: GraphCheckpointRecord | undefined;
    for (;;) {
      const page = await store.listGraphCheckpoints({ limit: 2, ...(after ? { after: { threadId: after.threadId, namespace: after.namespace, checkpointId: after.checkpointId } } : {}) });
      paged.push(...page.map((r) => `${r.threadId}/${r.namespace}/${r.checkpointId}`));
      if (page.length < 2) break;
      after = page.at(-1);
    }
    eq(paged, all);
    eq(all, ['a//c3', 'b//c3', 'a//c2', 'a/sub/c2', 'b//c2', 'a//c1', 'b//c1']);
  });

  test('pruneGraphCheckpoints keeps the newest per namespace, with their writes and every value they name or extend', async ({ makeStore }) => {
    const store = await makeStore();
    for (let i = 1; i <= 5; i++) {
      await store.putGraphCheckpoint(graphCheckpoint('g', `c${i}`, {
        channelVersions: { stable: '1', m: String(i) },
        channelValues: [...(i === 1 ? [value('stable', '1', 'S')] : []), value('m', String(i), `m${i}`, i === 1 ? undefined : String(i - 1))],
      }));
      await store.putGraphWrites({ threadId: 'g', checkpointId: `c${i}`, taskId: 't' }, [{ idx: 0, channel: 'm', type: 'json', value: bytes(i) }]);
    }
    await store.putGraphCheckpoint(graphCheckpoint('g', 'c1', { namespace: 'sub', channelVersions: { x: '1' }, channelValues: [value('x', '1', 'X')] }));
    await store.putGraphCheckpoint(graphCheckpoint('other', 'c1'));
    // m's chain runs back to its whole value at version 1, so no value of the root namespace goes.
    eq(await store.pruneGraphCheckpoints({ threadId: 'g', keepLatest: 2 }), { deletedCheckpoints: 3, deletedValues: 0 });
    eq(ids(await store.listGraphCheckpoints({ threadId: 'g' })), ['c5', 'c4', 'c1']);
    eq(texts(await store.getGraphCheckpoint({ threadId: 'g' })).map((t) => t[2]), ['"m1"', '"m2"', '"m3"', '"m4"', '"m5"', '"S"']);
    eq((await store.getGraphCheckpoint({ threadId: 'g', checkpointId: 'c4' }))?.writes.length, 1);
    eq((await store.listGraphCheckpoints({ threadId: 'other' })).length, 1, 'another thread is untouched');
  });

  test('pruneGraphCheckpoints deletes the values no kept checkpoint names', async ({ makeStore }) => {
    const store = await makeStore();
    for (let i = 1; i <= 4; i++) await store.putGraphCheckpoint(graphCheckpoint('g', `c${i}`, { channelVersions: { a: String(i) }, channelValues: [value('a', String(i), `A${i}`)] }));
    eq(await store.pruneGraphCheckpoints({ threadId: 'g', namespace: '', keepLatest: 1 }), { deletedCheckpoints: 3, deletedValues: 3 });
    eq(texts(await store.getGraphCheckpoint({ threadId: 'g' })), [['a', '4', '"A4"', null]]);
    eq(await store.pruneGraphCheckpoints({ threadId: 'g', keepLatest: 1 }), { deletedCheckpoints: 0, deletedValues: 0 }, 'again: nothing left to prune');
    eq(await store.pruneGraphCheckpoints({ threadId: 'missing', keepLatest: 1 }), { deletedCheckpoints: 0, deletedValues: 0 });
  });

  test('pruneGraphCheckpoints and a bad after are refused with the field named', async ({ makeStore }) => {
    const store = await makeStore();
    await store.putGraphCheckpoint(graphCheckpoint('g', 'c1'));
    await invalid(() => store.pruneGraphCheckpoints({ threadId: 'g' } as never), 'options.keepLatest');
    await invalid(() => store.pruneGraphCheckpoints({ threadId: 'g', keepLatest: 0 }), 'options.keepLatest');
    await invalid(() => store.pruneGraphCheckpoints({ threadId: '', keepLatest: 1 }), 'options.threadId');
    await invalid(() => store.pruneGraphCheckpoints({ threadId: 'g', keepLatest: 1, namespace: 5 as never }), 'options.namespace');
    await invalid(() => store.listGraphCheckpoints({ after: { threadId: 'g', namespace: '', checkpointId: '' } }), 'options.after.checkpointId');
    await invalid(() => store.listGraphCheckpoints({ after: 'c1' as never }), 'options.after');
    eq((await store.listGraphCheckpoints()).length, 1);
  });
});

group('graph store (LangGraph long-term memory)', (test) => {
  test('graphStoreBatch puts, gets, searches by prefix and lists namespaces; reads see the state before the batch', async ({ makeStore }) => {
    const store = await makeStore();
    const before = nowSeconds();
    const first = await store.graphStoreBatch([
      { op: 'put', namespace: ['users', 'u1'], key: 'diet', value: { text: 'vegetarian' } },
      { op: 'get', namespace: ['users', 'u1'], key: 'diet' },
      { op: 'put', namespace: ['users', 'u2'], key: 'diet', value: { text: 'vegan' } },
      { op: 'put', namespace: ['users', 'u2'], key: 'diet', value: { text: 'anything' } },
    ]);
    eq(first, [null, null, null, null]);
    const [item, search, all, spaces] = await store.graphStoreBatch([
      { op: 'get', namespace: ['users', 'u1'], key: 'diet' },
      { op: 'search', prefix: ['users', 'u2'] },
      { op: 'search', prefix: [] },
      { op: 'namespaces' },
    ]);
    ok(item !== null && item !== undefined && !Array.isArray(item), 'an item');
    within(item.createdAt, before, nowSeconds(), 'createdAt');
    eq(item, { namespace: ['users', 'u1'], key: 'diet', value: { text: 'vegetarian' }, createdAt: item.createdAt, updatedAt: item.createdAt });
    eq((search as { value: unknown }[]).map((i) => i.value), [{ text: 'anything' }], 'the last put of a key wins');
    eq((all as { key: string; namespace: string[] }[]).map((i) => i.namespace.join('/')), ['users/u1', 'users/u2']);
    eq(spaces, [['users', 'u1'], ['users', 'u2']]);
    await store.graphStoreBatch([{ op: 'put', namespace: ['users', 'u1'], key: 'diet', value: null }]);
    eq(await store.graphStoreBatch([{ op: 'get', namespace: ['users', 'u1'], key: 'diet' }, { op: 'search', prefix: ['users', 'u'] }]), [null, []]);
  });

  test('graphStoreBatch refuses a bad operation with the field named, and writes nothing of the batch', async ({ makeStore }) => {
    const store = await makeStore();
    const put = (over: Record<string, unknown>) => ({ op: 'put', namespace: ['n'], key: 'k', value: { a: 1 }, ...over });
    await invalid(() => store.graphStoreBatch([put({}), put({ namespace: ['a.b'] })] as never), 'operations[1].namespace[0]');
    await invalid(() => store.graphStoreBatch([put({ namespace: [] })] as never), 'operations[0].namespace');
    await invalid(() => store.graphStoreBatch([put({ key: '' })] as never), 'operations[0].key');
    await invalid(() => store.graphStoreBatch([put({ value: [1] })] as never), 'operations[0].value');
    await invalid(() => store.graphStoreBatch([put({ value: { f: () => 1 } })] as never), 'operations[0].value.f');
    await invalid(() => store.graphStoreBatch([{ op: 'drop' }] as never), 'operations[0].op');
    await invalid(() => store.graphStoreBatch('x' as never), 'operations');
    eq(await store.graphStoreBatch([{ op: 'namespaces' }]), [[]]);
  });
});
