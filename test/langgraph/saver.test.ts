import { emptyCheckpoint, type Checkpoint, type CheckpointMetadata } from '@langchain/langgraph-checkpoint';
import { describe, expect, it } from 'vitest';
import { StoreError, createMemoryStore, type MemoryStore } from '../../src/core.js';
import { StateStoreSaver, type GraphCheckpointStore } from '../../src/langgraph/index.js';

// What the validation suite does not ask: errors, a Promise-returning store, and store threads.

const meta = (over: Record<string, unknown> = {}): CheckpointMetadata => ({ source: 'loop', step: 0, parents: {}, ...over }) as CheckpointMetadata;
const checkpoint = (values: Record<string, unknown> = {}): Checkpoint => ({ ...emptyCheckpoint(), channel_values: values });

async function errorOf(fn: () => Promise<unknown>): Promise<StoreError> {
  const error = await fn().then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

/** The store as the browser client presents it: every method answers with a Promise. */
function asyncStore(store: MemoryStore): GraphCheckpointStore {
  return {
    putGraphCheckpoint: async (...a) => store.putGraphCheckpoint(...a),
    getGraphCheckpoint: async (...a) => store.getGraphCheckpoint(...a),
    listGraphCheckpoints: async (...a) => store.listGraphCheckpoints(...a),
    putGraphWrites: async (...a) => store.putGraphWrites(...a),
    deleteGraphThread: async (...a) => store.deleteGraphThread(...a),
  };
}

describe('StateStoreSaver', () => {
  it('refuses a config without thread_id, and writes without checkpoint_id, as INVALID_ARGUMENT', async () => {
    const store = await createMemoryStore();
    const saver = new StateStoreSaver(store);
    expect((await errorOf(() => saver.put({}, checkpoint(), meta(), {}))).details).toEqual({ field: 'config.configurable.thread_id' });
    expect((await errorOf(() => saver.putWrites({ configurable: { thread_id: 't' } }, [['a', 1]], 'task'))).details).toEqual({ field: 'config.configurable.checkpoint_id' });
    expect((await errorOf(() => saver.put({ configurable: { thread_id: '' } }, checkpoint(), meta(), {}))).code).toBe('INVALID_ARGUMENT');
    expect(store.listGraphCheckpoints()).toEqual([]);
    store.close();
  });

  it('refuses a checkpoint or metadata its serializer cannot carry (a BigInt) as INVALID_ARGUMENT, and writes nothing', async () => {
    const store = await createMemoryStore();
    const saver = new StateStoreSaver(store);
    const config = { configurable: { thread_id: 't' } };
    const error = await errorOf(() => saver.put(config, checkpoint(), meta({ tokens: 10n }), {}));
    expect([error.code, error.details]).toEqual(['INVALID_ARGUMENT', { field: 'metadata' }]);
    expect((await errorOf(() => saver.put(config, checkpoint({ big: 10n }), meta(), {}))).details).toEqual({ field: 'checkpoint' });
    expect(store.listGraphCheckpoints()).toEqual([]);
    store.close();
  });

  it('works the same over a store whose methods return Promises (the browser client)', async () => {
    const store = await createMemoryStore();
    const saver = new StateStoreSaver(asyncStore(store));
    const first = await saver.put({ configurable: { thread_id: 't' } }, checkpoint({ n: 1 }), meta({ step: 0 }), {});
    await saver.putWrites(first, [['n', 2]], 'task', '~a');
    const second = await saver.put(first, checkpoint({ n: 2 }), meta({ step: 1, user: 'ana' }), {});
    const latest = await saver.getTuple({ configurable: { thread_id: 't' } });
    expect(latest?.config).toEqual(second);
    expect(latest?.parentConfig).toEqual(first);
    expect((await saver.getTuple(first))?.pendingWrites).toEqual([['task', 'n', 2]]);
    const listed = [];
    for await (const tuple of saver.list({ configurable: { thread_id: 't' } }, { filter: { user: 'ana' } })) listed.push(tuple.checkpoint.channel_values);
    expect(listed).toEqual([{ n: 2 }]);
    await saver.deleteThread('t');
    expect(await saver.getTuple({ configurable: { thread_id: 't' } })).toBeUndefined();
    store.close();
  });

  it('loses a thread\'s checkpoints when the store thread of that id is deleted, not before', async () => {
    const store = await createMemoryStore();
    const saver = new StateStoreSaver(store);
    const chat = store.createThread({ title: 'Trip' });
    await saver.put({ configurable: { thread_id: chat.id } }, checkpoint({ n: 1 }), meta(), {});
    store.addMessage(chat.id, { role: 'user', content: 'hi' });
    expect((await saver.getTuple({ configurable: { thread_id: chat.id } }))?.checkpoint.channel_values).toEqual({ n: 1 });
    store.deleteThread(chat.id);
    expect(await saver.getTuple({ configurable: { thread_id: chat.id } })).toBeUndefined();
    store.close();
  });
});
