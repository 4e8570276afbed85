import type { RunnableConfig } from '@langchain/core/runnables';
import { emptyCheckpoint, uuid6, type Checkpoint, type CheckpointMetadata } from '@langchain/langgraph-checkpoint';
import { describe, expect, it } from 'vitest';
import { StoreError, createMemoryStore, type MemoryStore } from '../../src/core.js';
import { StateStoreSaver, type GraphCheckpointStore } from '../../src/langgraph/index.js';
import { runTurns, scriptedAgent } from '../support/react-agent.js';

// What the validation suite does not ask: errors, a Promise-returning store, and store threads.

const meta = (over: Record<string, unknown> = {}): CheckpointMetadata => ({ source: 'loop', step: 0, parents: {}, ...over }) as CheckpointMetadata;
/** A checkpoint whose channels are all at `version`, and the newVersions that say they changed (as LangGraph passes them). */
const checkpoint = (values: Record<string, unknown> = {}, version = 1): Checkpoint => ({
  ...emptyCheckpoint(),
  channel_values: values,
  channel_versions: Object.fromEntries(Object.keys(values).map((k) => [k, version])),
});
const changed = (c: Checkpoint) => c.channel_versions;

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
    pruneGraphCheckpoints: async (...a) => store.pruneGraphCheckpoints(...a),
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
    const big = checkpoint({ big: 10n });
    expect((await errorOf(() => saver.put(config, big, meta(), changed(big)))).details).toEqual({ field: 'checkpoint.channel_values.big' });
    expect(store.listGraphCheckpoints()).toEqual([]);
    store.close();
  });

  it('works the same over a store whose methods return Promises (the browser client)', async () => {
    const store = await createMemoryStore();
    const saver = new StateStoreSaver(asyncStore(store));
    const one = checkpoint({ n: 1 }, 1);
    const two = checkpoint({ n: 2 }, 2);
    const first = await saver.put({ configurable: { thread_id: 't' } }, one, meta({ step: 0 }), changed(one));
    await saver.putWrites(first, [['n', 2]], 'task', '~a');
    const second = await saver.put(first, two, meta({ step: 1, user: 'ana' }), changed(two));
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
    const one = checkpoint({ n: 1 });
    await saver.put({ configurable: { thread_id: chat.id } }, one, meta(), changed(one));
    store.addMessage(chat.id, { role: 'user', content: 'hi' });
    expect((await saver.getTuple({ configurable: { thread_id: chat.id } }))?.checkpoint.channel_values).toEqual({ n: 1 });
    store.deleteThread(chat.id);
    expect(await saver.getTuple({ configurable: { thread_id: chat.id } })).toBeUndefined();
    store.close();
  });
});

/** Bytes of every stored checkpoint and channel value of a thread: what its history costs. */
function storedBytes(store: MemoryStore, threadId: string): number {
  const row = store.layer().db.all(
    `SELECT (SELECT coalesce(sum(length(checkpoint)), 0) FROM graph_checkpoints WHERE thread_id = ?1)
          + (SELECT coalesce(sum(length(value)), 0) FROM graph_channel_values WHERE thread_id = ?1) AS n`,
    [threadId],
  )[0];
  return Number(row?.['n']);
}

describe('channel values stored once per version', () => {
  it('a value whose version does not change is stored once, however many checkpoints name it', async () => {
    const store = await createMemoryStore();
    const saver = new StateStoreSaver(store);
    const big = 'x'.repeat(10_000);
    let config = { configurable: { thread_id: 't', checkpoint_ns: '' } } as RunnableConfig;
    for (let step = 0; step < 10; step++) {
      const c: Checkpoint = { ...emptyCheckpoint(), id: uuid6(step), channel_values: { big, step }, channel_versions: { big: 1, step: step + 1 } };
      config = await saver.put(config, c, meta({ step }), step === 0 ? { big: 1, step: 1 } : { step: step + 1 });
    }
    const rows = store.layer().db.all("SELECT channel, count(*) AS n FROM graph_channel_values WHERE thread_id = 't' GROUP BY channel ORDER BY channel");
    expect(rows.map((r) => [r['channel'], Number(r['n'])])).toEqual([['big', 1], ['step', 10]]);
    expect(storedBytes(store, 't')).toBeLessThan(20_000);
    // Every checkpoint still reads whole.
    const listed = [];
    for await (const tuple of saver.list({ configurable: { thread_id: 't' } })) listed.push(tuple.checkpoint.channel_values);
    expect(listed).toEqual(Array.from({ length: 10 }, (_, i) => ({ big, step: 9 - i })));
    store.close();
  });

  it('a createReactAgent conversation grows linearly: 40 turns cost about twice 20, not four times', async () => {
    const store = await createMemoryStore();
    const agent = scriptedAgent(new StateStoreSaver(store));
    await runTurns(agent, 'agent', 20);
    const at20 = storedBytes(store, 'agent');
    await runTurns(agent, 'agent', 20);
    const at40 = storedBytes(store, 'agent');
    // Whole checkpoints grow with the square of the turns (about 4x here); values by version, about 2x.
    expect(at40 / at20).toBeLessThan(2.5);
    const state = await agent.getState({ configurable: { thread_id: 'agent' } });
    expect(state.values.messages).toHaveLength(160);
    store.close();
  }, 120_000);

  it('a checkpoint stored whole (before values were stored by version) still reads whole', async () => {
    const store = await createMemoryStore();
    const saver = new StateStoreSaver(store);
    const old: Checkpoint = { ...emptyCheckpoint(), id: uuid6(1), channel_values: { n: 1, text: 'kept inside' }, channel_versions: { n: 1, text: 1 } };
    const [type, bytes] = await saver.serde.dumpsTyped(old);
    store.putGraphCheckpoint({ threadId: 'old', checkpointId: old.id, type, checkpoint: bytes, metadata: { source: 'loop', step: 0, parents: {} } });
    const tuple = await saver.getTuple({ configurable: { thread_id: 'old' } });
    expect(tuple?.checkpoint.channel_values).toEqual({ n: 1, text: 'kept inside' });
    store.close();
  });

  it('a channel in newVersions without a value reads as absent at that checkpoint', async () => {
    const store = await createMemoryStore();
    const saver = new StateStoreSaver(store);
    const first: Checkpoint = { ...emptyCheckpoint(), id: uuid6(1), channel_values: { a: 1, b: 2 }, channel_versions: { a: 1, b: 1 } };
    const config = await saver.put({ configurable: { thread_id: 't' } }, first, meta(), { a: 1, b: 1 });
    const second: Checkpoint = { ...emptyCheckpoint(), id: uuid6(2), channel_values: { a: 1 }, channel_versions: { a: 1, b: 2 } };
    await saver.put(config, second, meta({ step: 1 }), { b: 2 });
    expect((await saver.getTuple({ configurable: { thread_id: 't' } }))?.checkpoint.channel_values).toEqual({ a: 1 });
    expect((await saver.getTuple(config))?.checkpoint.channel_values).toEqual({ a: 1, b: 2 });
    store.close();
  });
});

describe('list() pages lazily', () => {
  /** The store, counting the listings asked of it and their limits. */
  function counting(store: MemoryStore): { store: GraphCheckpointStore; limits: (number | undefined)[] } {
    const limits: (number | undefined)[] = [];
    return {
      limits,
      store: {
        ...asyncStore(store),
        listGraphCheckpoints: async (options) => {
          limits.push(options?.limit);
          return store.listGraphCheckpoints(options);
        },
      },
    };
  }

  async function fill(saver: StateStoreSaver, threadId: string, n: number): Promise<void> {
    let config = { configurable: { thread_id: threadId, checkpoint_ns: '' } } as RunnableConfig;
    for (let i = 0; i < n; i++) {
      const c: Checkpoint = { ...emptyCheckpoint(), id: `c-${String(i).padStart(4, '0')}`, channel_values: { i }, channel_versions: { i: i + 1 } };
      config = await saver.put(config, c, meta({ step: i }), { i: i + 1 });
    }
  }

  it('the first item costs one page: a consumer that stops there reads no more', async () => {
    const store = await createMemoryStore();
    const { store: wrapped, limits } = counting(store);
    const saver = new StateStoreSaver(wrapped);
    await fill(saver, 't', 100);
    for await (const tuple of saver.list({ configurable: { thread_id: 't' } })) {
      expect(tuple.checkpoint.channel_values).toEqual({ i: 99 });
      break;
    }
    expect(limits).toEqual([5]);
    store.close();
  });

  it('pages follow each other without a gap or a repeat, across threads with the same checkpoint ids, and honour limit', async () => {
    const store = await createMemoryStore();
    const { store: wrapped, limits } = counting(store);
    const saver = new StateStoreSaver(wrapped);
    await fill(saver, 'a', 25);
    await fill(saver, 'b', 25);
    const keys = (records: { threadId: string; checkpointId: string }[]) => records.map((r) => `${r.threadId}/${r.checkpointId}`);
    const all: string[] = [];
    for await (const t of saver.list({})) all.push(`${t.config.configurable?.['thread_id']}/${t.config.configurable?.['checkpoint_id']}`);
    expect(all).toEqual(keys(store.listGraphCheckpoints()));
    expect(all).toHaveLength(50);
    // Pages of 5, 10, 20 and 40: the odd boundaries fall between two threads' checkpoints of one id.
    expect(limits).toEqual([5, 10, 20, 40]);
    limits.length = 0;
    const some: string[] = [];
    for await (const t of saver.list({}, { limit: 23 })) some.push(`${t.config.configurable?.['thread_id']}/${t.config.configurable?.['checkpoint_id']}`);
    expect(some).toEqual(all.slice(0, 23));
    expect(limits).toEqual([5, 10, 8]);
    store.close();
  });
});

describe('pruning', () => {
  it('prune keeps the newest checkpoints, whole, and deletes the values no kept checkpoint names', async () => {
    const store = await createMemoryStore();
    const saver = new StateStoreSaver(store);
    const config0 = { configurable: { thread_id: 't', checkpoint_ns: '' } } as RunnableConfig;
    let config = config0;
    // `stable` is written once, at the first step; `step` changes every step.
    for (let i = 0; i < 10; i++) {
      const c: Checkpoint = { ...emptyCheckpoint(), id: uuid6(i), channel_values: { stable: 'since step 0', step: i }, channel_versions: { stable: 1, step: i + 1 } };
      config = await saver.put(config, c, meta({ step: i }), i === 0 ? { stable: 1, step: 1 } : { step: i + 1 });
      await saver.putWrites(config, [['step', i + 1]], `task-${i}`);
    }
    expect(await saver.prune({ threadId: 't', keepLatest: 3 })).toEqual({ deletedCheckpoints: 7, deletedValues: 7 });
    const kept = [];
    for await (const tuple of saver.list({ configurable: { thread_id: 't' } })) kept.push([tuple.checkpoint.channel_values, tuple.pendingWrites?.length]);
    expect(kept).toEqual([[{ stable: 'since step 0', step: 9 }, 1], [{ stable: 'since step 0', step: 8 }, 1], [{ stable: 'since step 0', step: 7 }, 1]]);
    expect(Number(store.layer().db.all("SELECT count(*) AS n FROM graph_checkpoint_writes WHERE thread_id = 't'")[0]?.['n'])).toBe(3);
    expect(Number(store.layer().db.all("SELECT count(*) AS n FROM graph_channel_values WHERE thread_id = 't'")[0]?.['n'])).toBe(4);
    store.close();
  });
});
