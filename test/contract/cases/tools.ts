import type { DynamicToolRecord } from '../../../src/core/index.js';
import { eq, rejects } from '../assert.js';
import { group } from '../harness.js';
import { invalid, invalidJson, jsonSamples, thread } from './fixtures.js';

const search: DynamicToolRecord = {
  position: 0,
  name: 'search',
  description: 'Searches the web',
  inputSchema: { type: 'object', properties: { q: { type: 'string', description: 'query ✓' } }, required: ['q'] },
};
const read: DynamicToolRecord = { position: 1, name: 'read', description: null, inputSchema: { type: 'object', properties: {} } };
const write: DynamicToolRecord = { position: 2, name: 'write', description: 'Writes', inputSchema: [1, 'two', null] };

group('tools', (test) => {
  test('persistDynamicTools stores tools that getDynamicTools returns by position', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.persistDynamicTools('t1', [write, search, read]);
    eq(await store.getDynamicTools('t1'), [search, read, write]);
  });

  test('persistDynamicTools replaces the whole list', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.persistDynamicTools('t1', [search, read, write]);
    const replacement: DynamicToolRecord = { position: 5, name: 'only', description: 'the only one', inputSchema: {} };
    await store.persistDynamicTools('t1', [replacement]);
    eq(await store.getDynamicTools('t1'), [replacement]);
  });

  test('persistDynamicTools with an empty list clears the tools', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.persistDynamicTools('t1', [search, read]);
    await store.persistDynamicTools('t1', []);
    eq(await store.getDynamicTools('t1'), []);
  });

  test('a tool description may be null or omitted, and reads as null', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.persistDynamicTools('t1', [
      { position: 0, name: 'a', description: null, inputSchema: {} },
      { position: 1, name: 'b', inputSchema: {} } as unknown as DynamicToolRecord,
    ]);
    eq((await store.getDynamicTools('t1')).map((t) => t.description), [null, null]);
  });

  test('a tool inputSchema round-trips as JSON of any shape', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    const tools = jsonSamples.map(([, inputSchema], position) => ({ position, name: `tool${position}`, description: null, inputSchema }));
    await store.persistDynamicTools('t1', tools as DynamicToolRecord[]);
    eq(await store.getDynamicTools('t1'), tools as DynamicToolRecord[]);
  });

  test('each thread has its own tools', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('a'));
    await store.upsertThread(thread('b'));
    await store.persistDynamicTools('a', [search]);
    await store.persistDynamicTools('b', [read, write]);
    await store.persistDynamicTools('a', []);
    eq(await store.getDynamicTools('a'), []);
    eq(await store.getDynamicTools('b'), [read, write]);
  });

  test('getDynamicTools of an unknown thread is empty', async ({ makeStore }) => {
    const store = await makeStore();
    eq(await store.getDynamicTools('missing'), []);
    await invalid(() => store.getDynamicTools(''), 'threadId');
  });

  test('persistDynamicTools fails with NOT_FOUND on an unknown thread', async ({ makeStore }) => {
    const store = await makeStore();
    await rejects(() => store.persistDynamicTools('missing', [search]), 'NOT_FOUND');
    await rejects(() => store.persistDynamicTools('missing', []), 'NOT_FOUND');
    eq(await store.getDynamicTools('missing'), []);
  });

  test('a duplicate position is refused and the previous tools stay intact', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.persistDynamicTools('t1', [search, read]);
    await invalid(() => store.persistDynamicTools('t1', [write, { ...read, position: 2 }]), 'tools[1].position');
    eq(await store.getDynamicTools('t1'), [search, read]);
  });

  test('a missing inputSchema is refused and the previous tools stay intact', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.persistDynamicTools('t1', [search, read]);
    const { inputSchema: _, ...noSchema } = write;
    await invalid(() => store.persistDynamicTools('t1', [write, noSchema as DynamicToolRecord]), 'tools[1].inputSchema');
    eq(await store.getDynamicTools('t1'), [search, read]);
  });

  test('an inputSchema JSON cannot carry is refused and the previous tools stay intact', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.persistDynamicTools('t1', [search]);
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    for (const inputSchema of [{ f: () => 1 }, cycle, { n: 1n }, { v: undefined }, new Date(0), { x: Number.NaN }]) {
      await invalidJson(() => store.persistDynamicTools('t1', [read, { ...write, inputSchema } as never]), 'tools[1].inputSchema');
    }
    eq(await store.getDynamicTools('t1'), [search]);
  });

  test('persistDynamicTools refuses invalid fields and non-arrays, writing nothing', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.persistDynamicTools('t1', [search]);
    await invalid(() => store.persistDynamicTools('t1', { 0: read } as never), 'tools');
    await invalid(() => store.persistDynamicTools('t1', [null as never]), 'tools[0]');
    await invalid(() => store.persistDynamicTools('t1', [{ ...read, name: '' }]), 'tools[0].name');
    await invalid(() => store.persistDynamicTools('t1', [{ ...read, name: 'a\uD800' }]), 'tools[0].name');
    await invalid(() => store.persistDynamicTools('t1', [{ ...read, position: 1.5 }]), 'tools[0].position');
    await invalid(() => store.persistDynamicTools('t1', [{ ...read, position: Number.NaN }]), 'tools[0].position');
    await invalid(() => store.persistDynamicTools('t1', [{ ...read, description: 42 as never }]), 'tools[0].description');
    await invalid(() => store.persistDynamicTools('', [read]), 'threadId');
    eq(await store.getDynamicTools('t1'), [search]);
  });
});
