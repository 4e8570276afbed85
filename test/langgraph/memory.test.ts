import { AIMessage, HumanMessage } from '@langchain/core/messages';
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import { Annotation, END, MemorySaver, START, StateGraph } from '@langchain/langgraph';
import { InMemoryStore, type BaseStore } from '@langchain/langgraph-checkpoint';
import { describe, expect, it } from 'vitest';
import { StoreError, createMemoryStore, type MemoryStore } from '../../src/core.js';
import { StateStoreMemory, StateStoreSaver } from '../../src/langgraph/index.js';
import { runTurns, scriptedAgent } from '../support/react-agent.js';

/**
 * LangGraph's long-term memory (BaseStore) on the store. No published LangGraph package ships tests
 * for a BaseStore, so these cases follow its InMemoryStore: each runs against InMemoryStore itself
 * (which proves the case describes LangGraph's behaviour) and against StateStoreMemory, over the core
 * (synchronous) and over a store whose calls return Promises (the browser client's shape).
 */
type Target = { name: string; make(): Promise<{ store: BaseStore; close(): void }> };

const targets: Target[] = [
  { name: "LangGraph's InMemoryStore", make: async () => ({ store: new InMemoryStore(), close: () => undefined }) },
  {
    name: 'StateStoreMemory (core)',
    make: async () => {
      const s = await createMemoryStore();
      return { store: new StateStoreMemory(s), close: () => s.close() };
    },
  },
  {
    name: 'StateStoreMemory (Promise-returning store)',
    make: async () => {
      const s = await createMemoryStore();
      return { store: new StateStoreMemory({ graphStoreBatch: async (ops) => s.graphStoreBatch(ops) }), close: () => s.close() };
    },
  },
];

const keysOf = (items: { key: string }[]) => items.map((i) => i.key);

describe.each(targets)('BaseStore contract: $name', ({ make }) => {
  const withStore = (fn: (store: BaseStore) => Promise<void>) => async () => {
    const { store, close } = await make();
    try {
      await fn(store);
    } finally {
      close();
    }
  };

  it('put then get returns the item with its namespace, key, value and dates; a missing one is null', withStore(async (store) => {
    await store.put(['users', 'u1'], 'prefs', { theme: 'dark', n: 1 });
    const item = await store.get(['users', 'u1'], 'prefs');
    expect(item).toMatchObject({ namespace: ['users', 'u1'], key: 'prefs', value: { theme: 'dark', n: 1 } });
    expect(item?.createdAt).toBeInstanceOf(Date);
    expect(item?.updatedAt).toBeInstanceOf(Date);
    expect(await store.get(['users', 'u1'], 'missing')).toBeNull();
    expect(await store.get(['users', 'u2'], 'prefs')).toBeNull();
  }));

  it('a second put replaces the value and keeps createdAt; delete removes it', withStore(async (store) => {
    await store.put(['ns'], 'k', { v: 1 });
    const first = await store.get(['ns'], 'k');
    await store.put(['ns'], 'k', { v: 2 });
    const second = await store.get(['ns'], 'k');
    expect(second?.value).toEqual({ v: 2 });
    expect(second?.createdAt.getTime()).toBe(first?.createdAt.getTime());
    expect(second!.updatedAt.getTime()).toBeGreaterThanOrEqual(first!.updatedAt.getTime());
    await store.delete(['ns'], 'k');
    expect(await store.get(['ns'], 'k')).toBeNull();
    await store.delete(['ns'], 'never-there');
  }));

  it('search finds the items under a namespace prefix, whole labels only, in insertion order within a namespace', withStore(async (store) => {
    await store.put(['docs', 'a'], 'k1', { n: 1 });
    await store.put(['docs', 'a'], 'k2', { n: 2 });
    await store.put(['docs', 'ab'], 'k3', { n: 3 });
    await store.put(['other'], 'k4', { n: 4 });
    expect(keysOf(await store.search(['docs', 'a']))).toEqual(['k1', 'k2']);
    expect(keysOf(await store.search(['docs'])).sort()).toEqual(['k1', 'k2', 'k3']);
    expect(keysOf(await store.search([])).sort()).toEqual(['k1', 'k2', 'k3', 'k4']);
    expect(await store.search(['nothing'])).toEqual([]);
    const [hit] = await store.search(['other']);
    expect(hit).toMatchObject({ namespace: ['other'], key: 'k4', value: { n: 4 } });
    expect(hit?.score).toBeUndefined();
  }));

  it('search filters on top-level keys: equality and $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin', withStore(async (store) => {
    for (const [key, value] of [['a', { kind: 'fact', score: 1 }], ['b', { kind: 'fact', score: 5 }], ['c', { kind: 'pref', score: 9 }], ['d', { score: 3 }]] as const) {
      await store.put(['m'], key, value);
    }
    const found = async (filter: Record<string, unknown>) => keysOf(await store.search(['m'], { filter })).sort();
    expect(await found({ kind: 'fact' })).toEqual(['a', 'b']);
    expect(await found({ kind: { $eq: 'pref' } })).toEqual(['c']);
    expect(await found({ kind: { $ne: 'fact' } })).toEqual(['c', 'd']);
    expect(await found({ score: { $gt: 3 } })).toEqual(['b', 'c']);
    expect(await found({ score: { $gte: 3, $lt: 9 } })).toEqual(['b', 'd']);
    expect(await found({ score: { $lte: 1 } })).toEqual(['a']);
    expect(await found({ kind: { $in: ['pref', 'other'] } })).toEqual(['c']);
    expect(await found({ kind: { $nin: ['fact'] } })).toEqual(['c', 'd']);
    expect(await found({ kind: 'fact', score: 5 })).toEqual(['b']);
    expect(await found({ missing: 'x' })).toEqual([]);
  }));

  it('search pages with limit (10 by default) and offset', withStore(async (store) => {
    for (let i = 0; i < 15; i++) await store.put(['p'], `k${String(i).padStart(2, '0')}`, { i });
    expect(await store.search(['p'])).toHaveLength(10);
    expect(keysOf(await store.search(['p'], { limit: 3, offset: 4 }))).toEqual(['k04', 'k05', 'k06']);
    expect(keysOf(await store.search(['p'], { limit: 10, offset: 12 }))).toEqual(['k12', 'k13', 'k14']);
  }));

  it('a query without an embedding index is ignored: the items are filtered and paged as without it', withStore(async (store) => {
    await store.put(['q'], 'k1', { text: 'vegetarian' });
    await store.put(['q'], 'k2', { text: 'likes trains' });
    expect(keysOf(await store.search(['q'], { query: 'trains' }))).toEqual(['k1', 'k2']);
  }));

  it('listNamespaces lists namespaces with items, by prefix, suffix (with wildcards), maxDepth, limit and offset', withStore(async (store) => {
    for (const ns of [['a', 'b', 'c'], ['a', 'b', 'd'], ['a', 'c'], ['users', '1', 'prefs'], ['users', '2', 'prefs']]) await store.put(ns, 'k', { x: 1 });
    expect(await store.listNamespaces()).toEqual([['a', 'b', 'c'], ['a', 'b', 'd'], ['a', 'c'], ['users', '1', 'prefs'], ['users', '2', 'prefs']]);
    expect(await store.listNamespaces({ prefix: ['a', 'b'] })).toEqual([['a', 'b', 'c'], ['a', 'b', 'd']]);
    expect(await store.listNamespaces({ suffix: ['prefs'] })).toEqual([['users', '1', 'prefs'], ['users', '2', 'prefs']]);
    expect(await store.listNamespaces({ prefix: ['users', '*', 'prefs'] })).toEqual([['users', '1', 'prefs'], ['users', '2', 'prefs']]);
    expect(await store.listNamespaces({ maxDepth: 2 })).toEqual([['a', 'b'], ['a', 'c'], ['users', '1'], ['users', '2']]);
    expect(await store.listNamespaces({ limit: 2, offset: 1 })).toEqual([['a', 'b', 'd'], ['a', 'c']]);
  }));

  it('a batch reads the state before its own puts, and the last put of a key wins', withStore(async (store) => {
    const [before, , , after] = await store.batch([
      { namespace: ['b'], key: 'k' },
      { namespace: ['b'], key: 'k', value: { v: 1 } },
      { namespace: ['b'], key: 'k', value: { v: 2 } },
      { namespace: ['b'], key: 'k' },
    ]);
    expect([before, after]).toEqual([null, null]);
    expect((await store.get(['b'], 'k'))?.value).toEqual({ v: 2 });
  }));

  it('refuses an empty namespace, an empty label and a label with "." or ":"', withStore(async (store) => {
    for (const ns of [[], [''], ['a.b'], ['a:b']]) await expect(store.put(ns, 'k', { x: 1 })).rejects.toThrow();
    expect(await store.search([])).toEqual([]);
  }));
});

describe('StateStoreMemory on the store', () => {
  it('refuses a value that is not JSON as a StoreError INVALID_ARGUMENT, and writes nothing of the batch', async () => {
    const s = await createMemoryStore();
    const store = new StateStoreMemory(s);
    const error = await store.batch([
      { namespace: ['n'], key: 'ok', value: { fine: true } },
      { namespace: ['n'], key: 'bad', value: { when: new Date(0) } },
    ]).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('INVALID_ARGUMENT');
    expect(await store.search(['n'])).toEqual([]);
    s.close();
  });

  it('is shared by every thread of a graph compiled with it: a node of one thread reads what another wrote', async () => {
    const s = await createMemoryStore();
    const State = Annotation.Root({ user: Annotation<string>, seen: Annotation<string[]>({ reducer: (_, b) => b, default: () => [] }) });
    const graph = new StateGraph(State)
      .addNode('remember', async (state: typeof State.State, config: LangGraphRunnableConfig) => {
        const ns = ['users', state.user, 'visits'];
        await config.store!.put(ns, `${config.configurable?.['thread_id']}`, { at: 'lisbon' });
        return { seen: (await config.store!.search(ns)).map((i) => i.key) };
      })
      .addEdge(START, 'remember')
      .addEdge('remember', END)
      .compile({ checkpointer: new StateStoreSaver(s), store: new StateStoreMemory(s) });
    await graph.invoke({ user: 'ana' }, { configurable: { thread_id: 't1' } });
    const out = await graph.invoke({ user: 'ana' }, { configurable: { thread_id: 't2' } });
    expect(out.seen).toEqual(['t1', 't2']);
    // The items are rows of the same database as the checkpoints: an export carries both.
    const copy = await createMemoryStore({ bytes: s.exportBytes() });
    expect((await new StateStoreMemory(copy).get(['users', 'ana', 'visits'], 't1'))?.value).toEqual({ at: 'lisbon' });
    s.close();
    copy.close();
  });

  it('createReactAgent({ store }) gives its tools and nodes the store', async () => {
    const s = await createMemoryStore();
    const memory = new StateStoreMemory(s);
    await memory.put(['facts'], 'diet', { text: 'vegetarian' });
    const agent = scriptedAgent(new StateStoreSaver(s), memory);
    await runTurns(agent, 'agent-1', 2);
    const state = await agent.getState({ configurable: { thread_id: 'agent-1' } });
    expect(state.values.messages.map((m: HumanMessage | AIMessage) => m.getType())).toEqual(['human', 'ai', 'tool', 'ai', 'human', 'ai', 'tool', 'ai']);
    // The agent's graph carries the store it was given (LangGraph hands it to nodes and tools as config.store).
    expect((agent as unknown as { store?: unknown }).store).toBe(memory);
    s.close();
  });

  it('a MemorySaver graph can use it too: the store does not need the store checkpointer', async () => {
    const s = await createMemoryStore();
    const graph = new StateGraph(Annotation.Root({ n: Annotation<number> }))
      .addNode('count', async (_: unknown, config: LangGraphRunnableConfig) => {
        const item = await config.store!.get(['counter'], 'n');
        const n = ((item?.value['n'] as number | undefined) ?? 0) + 1;
        await config.store!.put(['counter'], 'n', { n });
        return { n };
      })
      .addEdge(START, 'count')
      .compile({ checkpointer: new MemorySaver(), store: new StateStoreMemory(s) });
    await graph.invoke({ n: 0 }, { configurable: { thread_id: 'a' } });
    expect((await graph.invoke({ n: 0 }, { configurable: { thread_id: 'b' } })).n).toBe(2);
    s.close();
  });
});

export type { MemoryStore };
