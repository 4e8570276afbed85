import { eq, ok } from '../assert.js';
import { group } from '../harness.js';
import { invalid, thread } from './fixtures.js';

group('session-index', (test) => {
  test('findThreadNameById answers from the session index; null when unknown or unnamed', async ({ makeStore }) => {
    const store = await makeStore();
    eq(await store.findThreadNameById('missing'), null, 'unknown');
    await store.upsertThread(thread('named', { name: 'Named thread' }));
    await store.upsertThread(thread('unnamed'));
    eq(await store.findThreadNameById('named'), 'Named thread');
    eq(await store.findThreadNameById('unnamed'), null, 'unnamed');
    await invalid(() => store.findThreadNameById(''), 'threadId');
  });

  test('appendThreadName without a database row still answers name lookups', async ({ makeStore }) => {
    const store = await makeStore();
    await store.appendThreadName('index-only', 'Only in the index', 5, '/r/index-only.jsonl');
    eq(await store.findThreadNameById('index-only'), 'Only in the index');
    eq(await store.findThreadNamesByIds(['index-only']), { 'index-only': 'Only in the index' });
    eq(await store.findThreadPathByName('only in the index'), '/r/index-only.jsonl');
    eq((await store.info()).sessionIndexEntries, 1, 'entries');
    eq(await store.getThread('index-only'), null, 'the database is not touched');
    eq(await store.findRolloutPathById('index-only'), null, 'findRolloutPathById reads the database');
  });

  test('the last appended line for an id wins', async ({ makeStore }) => {
    const store = await makeStore();
    await store.appendThreadName('t', 'first', 1, '/one');
    await store.appendThreadName('t', 'second', 2, '/two');
    eq(await store.findThreadNameById('t'), 'second');
    eq(await store.findThreadPathByName('first'), null, 'the old name no longer matches');
    eq(await store.findThreadPathByName('second'), '/two');
    await store.appendThreadName('t', null, 3, null);
    eq(await store.findThreadNameById('t'), null, 'a later unnamed line clears the name');
    eq(await store.findThreadPathByName('second'), null);
    eq((await store.info()).sessionIndexEntries, 1, 'one entry per id');
  });

  test('findRolloutPathById reads the database row, not the session index', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1', { name: 'T', rolloutPath: '/db/t1.jsonl' }));
    await store.upsertThread(thread('t2'));
    await store.appendThreadName('t1', 'T', 99, '/index/t1.jsonl');
    eq(await store.findRolloutPathById('t1'), '/db/t1.jsonl');
    eq(await store.findThreadPathByName('t'), '/index/t1.jsonl', 'the index has its own path');
    eq(await store.findRolloutPathById('t2'), null, 'no path');
    eq(await store.findRolloutPathById('missing'), null, 'no row');
    await invalid(() => store.findRolloutPathById(''), 'id');
  });

  test('findThreadNamesByIds returns a key for every id asked, null when unknown', async ({ makeStore }) => {
    const store = await makeStore();
    await store.appendThreadName('a', 'Alpha', 1, null);
    await store.appendThreadName('b', null, 1, null);
    const names = await store.findThreadNamesByIds(['a', 'b', 'missing', 'a']);
    eq(Object.keys(names).sort(), ['a', 'b', 'missing']);
    eq(names, { a: 'Alpha', b: null, missing: null });
    eq(await store.findThreadNamesByIds([]), {}, 'no ids, no keys');
  });

  test('findThreadNamesByIds handles ids that are Object.prototype names', async ({ makeStore }) => {
    const store = await makeStore();
    await store.appendThreadName('constructor', 'Builder', 1, null);
    const ids = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
    const names = await store.findThreadNamesByIds(ids);
    eq(Object.keys(names).sort(), [...ids].sort(), 'every id is an own key');
    for (const id of ids) ok(Object.prototype.hasOwnProperty.call(names, id), `${id} is an own property`);
    eq(Object.entries(names).sort(([x], [y]) => (x < y ? -1 : 1)), [
      ['__proto__', null],
      ['constructor', 'Builder'],
      ['hasOwnProperty', null],
      ['toString', null],
    ]);
    eq(await store.findThreadNameById('__proto__'), null);
    eq(await store.findThreadNameById('toString'), null);
  });

  test('findThreadNamesByIds refuses a non-array and empty or non-string ids', async ({ makeStore }) => {
    const store = await makeStore();
    await invalid(() => store.findThreadNamesByIds('a' as never), 'ids');
    await invalid(() => store.findThreadNamesByIds(['a', '']), 'ids[1]');
    await invalid(() => store.findThreadNamesByIds([7 as never]), 'ids[0]');
  });

  test('findThreadPathByName matches names ASCII-case-insensitively and nothing more', async ({ makeStore }) => {
    const store = await makeStore();
    await store.appendThreadName('h', 'Hello World', 1, '/hello');
    await store.appendThreadName('e', 'école', 1, '/ecole');
    eq(await store.findThreadPathByName('hELLO wORLD'), '/hello');
    eq(await store.findThreadPathByName('Hello World'), '/hello');
    eq(await store.findThreadPathByName('Hello'), null, 'no prefix match');
    eq(await store.findThreadPathByName('Hello World '), null, 'no trimming');
    eq(await store.findThreadPathByName('école'), '/ecole');
    eq(await store.findThreadPathByName('ÉCOLE'), null, 'non-ASCII letters do not fold');
    eq(await store.findThreadPathByName('éCOLE'), '/ecole', 'ASCII letters beside them still fold');
    eq(await store.findThreadPathByName('missing'), null);
    await invalid(() => store.findThreadPathByName(42 as never), 'name');
  });

  test('findThreadPathByName picks the highest updatedAt, ties to the line written last', async ({ makeStore }) => {
    const store = await makeStore();
    await store.appendThreadName('newest', 'Shared', 200, '/newest');
    await store.appendThreadName('older', 'shared', 100, '/older');
    eq(await store.findThreadPathByName('SHARED'), '/newest', 'highest updatedAt, though written first');
    await store.appendThreadName('tie', 'SHARED', 200, '/tie');
    eq(await store.findThreadPathByName('shared'), '/tie', 'a tie goes to the line written last');
    await store.appendThreadName('newest', 'Shared', 200, '/newest-again');
    eq(await store.findThreadPathByName('shared'), '/newest-again', 'rewriting an entry makes it the last written');
    await store.appendThreadName('newest', 'Renamed', 900, '/renamed');
    eq(await store.findThreadPathByName('shared'), '/tie', 'a renamed entry leaves the race');
  });

  test('a matched entry without a rollout path gives null', async ({ makeStore }) => {
    const store = await makeStore();
    await store.appendThreadName('t', 'No path', 1, null);
    eq(await store.findThreadPathByName('no path'), null);
    eq(await store.findThreadNameById('t'), 'No path');
  });

  test('an invalid appendThreadName appends nothing', async ({ makeStore }) => {
    const store = await makeStore();
    await store.appendThreadName('t', 'kept', 1, '/kept');
    await invalid(() => store.appendThreadName('', 'x', 1, null), 'threadId');
    await invalid(() => store.appendThreadName('t', 'x', 1.5, null), 'updatedAt');
    await invalid(() => store.appendThreadName('t', 'x', Number.NaN, null), 'updatedAt');
    await invalid(() => store.appendThreadName('t', 'x', Number.POSITIVE_INFINITY, null), 'updatedAt');
    await invalid(() => store.appendThreadName('t', 'bad\uD800', 1, null), 'name');
    await invalid(() => store.appendThreadName('t', 5 as never, 1, null), 'name');
    await invalid(() => store.appendThreadName('t', 'x', 1, 5 as never), 'rolloutPath');
    await invalid(() => store.appendThreadName('u', 'x', 1, '\uDBFF'), 'rolloutPath');
    eq(await store.findThreadNameById('t'), 'kept');
    eq(await store.findThreadPathByName('kept'), '/kept');
    eq(await store.findThreadNameById('u'), null);
    eq((await store.info()).sessionIndexEntries, 1, 'entries');
  });

  test('compactSessionIndex keeps one line per id and lookups answer the same', async ({ makeStore }) => {
    const store = await makeStore();
    await store.appendThreadName('a', 'old a', 1, '/a1');
    await store.appendThreadName('b', 'B', 1, '/b');
    await store.appendThreadName('a', 'A', 2, '/a2');
    await store.upsertThread(thread('c', { name: 'C', rolloutPath: '/c' }));
    eq(await store.compactSessionIndex(), { before: 4, after: 3 });
    eq(await store.findThreadNamesByIds(['a', 'b', 'c']), { a: 'A', b: 'B', c: 'C' });
    eq(await store.findThreadPathByName('a'), '/a2');
    eq(await store.findThreadPathByName('old a'), null);
    eq((await store.info()).sessionIndexEntries, 3, 'entries');
    eq(await store.compactSessionIndex(), { before: 3, after: 3 }, 'compacting again changes nothing');
    await store.appendThreadName('b', 'B2', 3, '/b2');
    eq(await store.findThreadNameById('b'), 'B2', 'appends keep working after compaction');
    eq(await store.compactSessionIndex(), { before: 4, after: 3 });
  });
});
