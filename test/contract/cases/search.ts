import { eq, ok, rejects } from '../assert.js';
import type { ContractStore } from '../harness.js';
import { group } from '../harness.js';
import { invalid, nowSeconds, thread, within } from './fixtures.js';

async function ids(store: ContractStore, query: string, options?: Parameters<ContractStore['searchMessages']>[1]): Promise<number[]> {
  return (await store.searchMessages(query, options)).map((h) => h.messageId).sort((a, b) => a - b);
}

/** A store with one thread per id. */
async function storeWith(makeStore: () => Promise<ContractStore>, ...threadIds: string[]): Promise<ContractStore> {
  const store = await makeStore();
  for (const id of threadIds) await store.upsertThread(thread(id));
  return store;
}

group('search', (test) => {
  test('searchMessages finds a message by a word and returns its thread, id, role, time, rank and a marked snippet', async ({ makeStore }) => {
    const store = await storeWith(makeStore, 't1');
    const before = nowSeconds();
    await store.appendMessage('t1', 'user', 'How do I configure the database?');
    const id = await store.appendMessage('t1', 'assistant', 'Open the settings and pick the SQLite backend.');
    const after = nowSeconds();
    const hits = await store.searchMessages('sqlite');
    eq(hits.length, 1, 'hit count');
    const hit = hits[0]!;
    eq([hit.threadId, hit.messageId, hit.role], ['t1', id, 'assistant']);
    within(hit.createdAt, before, after, 'createdAt');
    ok(typeof hit.rank === 'number' && hit.rank < 0, `bm25 rank is negative for a match, got ${hit.rank}`);
    eq(hit.snippet, 'Open the settings and pick the «SQLite» backend.', 'snippet');
  });

  test('a long message gets a short snippet around the match, with … where it was cut', async ({ makeStore }) => {
    const store = await storeWith(makeStore, 't1');
    const filler = 'lorem ipsum dolor sit amet '.repeat(20);
    await store.appendMessage('t1', 'user', `${filler}the needle is here ${filler}`);
    const [hit] = await store.searchMessages('needle');
    ok(hit, 'found');
    ok(hit.snippet.includes('«needle»'), `marked: ${hit.snippet}`);
    ok(hit.snippet.startsWith('…') && hit.snippet.endsWith('…'), `elided at both ends: ${hit.snippet}`);
    ok(hit.snippet.length < 120, `short: ${hit.snippet.length} characters`);
  });

  test('hits come best first: more occurrences in a shorter message rank higher', async ({ makeStore }) => {
    const store = await storeWith(makeStore, 't1');
    const weak = await store.appendMessage('t1', 'user', `a long message that mentions wasm only once ${'and then talks about other things '.repeat(10)}`);
    const strong = await store.appendMessage('t1', 'user', 'wasm wasm wasm');
    const medium = await store.appendMessage('t1', 'user', 'wasm in a worker, wasm on OPFS');
    const hits = await store.searchMessages('wasm');
    eq(hits.map((h) => h.messageId), [strong, medium, weak]);
    ok(hits[0]!.rank <= hits[1]!.rank && hits[1]!.rank <= hits[2]!.rank, `ranks ascend: ${hits.map((h) => h.rank).join(', ')}`);
  });

  test('every word must occur, in any order and any case', async ({ makeStore }) => {
    const store = await storeWith(makeStore, 't1');
    const both = await store.appendMessage('t1', 'user', 'The Quick brown fox');
    await store.appendMessage('t1', 'user', 'a quick reply');
    eq(await ids(store, 'fox QUICK'), [both]);
    eq(await ids(store, 'quick'), [both, both + 1]);
    eq(await ids(store, 'quick zebra'), []);
  });

  test('limit caps the hits and threadId keeps one thread', async ({ makeStore }) => {
    const store = await storeWith(makeStore, 't1', 't2');
    const mine = [];
    for (let i = 0; i < 5; i++) {
      mine.push(await store.appendMessage('t1', 'user', `report number ${i}`));
      await store.appendMessage('t2', 'user', `report copy ${i}`);
    }
    eq((await store.searchMessages('report', { limit: 3 })).length, 3, 'limit');
    eq(await ids(store, 'report', { threadId: 't1' }), mine, 'one thread');
    eq(await ids(store, 'report', { threadId: 'nope' }), [], 'unknown thread');
  });

  test('messages of archived threads are found only with includeArchived', async ({ makeStore }) => {
    const store = await storeWith(makeStore, 'live', 'old');
    const live = await store.appendMessage('live', 'user', 'invoice for March');
    const old = await store.appendMessage('old', 'user', 'invoice for February');
    await store.markArchived('old');
    eq(await ids(store, 'invoice'), [live]);
    eq(await ids(store, 'invoice', { includeArchived: true }), [live, old]);
  });

  test('hostile input is literal text: quotes, operators, NEAR, *, -, parentheses and unbalanced syntax never fail', async ({ makeStore }) => {
    const store = await storeWith(makeStore, 't1');
    const quoted = await store.appendMessage('t1', 'user', 'she said "hello" to me');
    const plain = await store.appendMessage('t1', 'user', 'hello there');
    const ops = await store.appendMessage('t1', 'user', 'x AND y OR z NOT w NEAR v');
    const symbols = await store.appendMessage('t1', 'user', 'price * 2 - discount (approx)');
    const corpus = [
      '"', '""', '"hello', 'hello"', "'", '*', '-', '(', ')', '()', 'NEAR', 'NEAR(', 'NEAR/2', 'AND', 'OR', 'NOT', 'AND OR NOT',
      '-hello', 'hello*', '^hello', 'content:hello', '{content}: x', ':', '+', '\\', '%', '_', '%%', '\u0000', 'a"b"c', '(((', ')))', '"""',
      'hello AND', 'OR hello', 'NOT hello', '* * *', '😀', '👩‍👩‍👧', '中', '  \t ', '\n',
    ];
    for (const query of corpus) {
      const hits = await store.searchMessages(query);
      ok(Array.isArray(hits), `${JSON.stringify(query)} returns a list`);
    }
    // A quote is a character to find, not syntax: only the message that has the quotes matches.
    eq(await ids(store, '"hello"'), [quoted], '"hello" with its quotes');
    eq(await ids(store, 'hello'), [quoted, plain], 'hello');
    eq(await ids(store, 'NEAR'), [ops], 'NEAR is a word');
    eq(await ids(store, 'AND OR NOT'), [ops], 'AND OR NOT are words');
    eq(await ids(store, '*'), [symbols], '* is a character');
    eq(await ids(store, '-'), [symbols], '- is a character');
    eq(await ids(store, '(approx)'), [symbols], 'parentheses are characters');
    eq(await ids(store, '%'), [], '% is not a wildcard');
    eq(await ids(store, '_'), [], '_ is not a wildcard');
  });

  test('an empty or blank query finds nothing', async ({ makeStore }) => {
    const store = await storeWith(makeStore, 't1');
    await store.appendMessage('t1', 'user', 'anything at all');
    eq(await store.searchMessages(''), []);
    eq(await store.searchMessages('   \n\t'), []);
    eq(await store.searchMessages('', { advanced: true }), []);
  });

  test('CJK text is found by words inside a run of characters, of any length', async ({ makeStore }) => {
    const store = await storeWith(makeStore, 't1');
    const zh = await store.appendMessage('t1', 'user', '我爱中文编程和数据库系统');
    const ja = await store.appendMessage('t1', 'user', '東京でデータベースを学ぶ');
    const ko = await store.appendMessage('t1', 'user', '데이터베이스 검색 기능');
    eq(await ids(store, '数据库'), [zh], 'three characters');
    eq(await ids(store, '中文'), [zh], 'two characters');
    eq(await ids(store, 'データベース'), [ja], 'katakana');
    eq(await ids(store, '東京'), [ja], 'kanji pair');
    eq(await ids(store, '검색'), [ko], 'hangul');
    const [hit] = await store.searchMessages('数据库');
    eq(hit?.snippet, '我爱中文编程和«数据库»系统', 'snippet');
  });

  test('emoji are found, alone or as a sequence, and marked in the snippet', async ({ makeStore }) => {
    const store = await storeWith(makeStore, 't1');
    const rocket = await store.appendMessage('t1', 'user', 'launch 🚀 now');
    const family = await store.appendMessage('t1', 'user', 'the 👩‍👩‍👧 emoji');
    eq(await ids(store, '🚀'), [rocket], 'one emoji');
    eq(await ids(store, '👩‍👩‍👧'), [family], 'a ZWJ sequence');
    eq(await ids(store, '🚀 launch'), [rocket], 'emoji and word');
    eq((await store.searchMessages('🚀'))[0]?.snippet, 'launch «🚀» now');
  });

  test('short words (under three characters) match as substrings, together with long ones', async ({ makeStore }) => {
    const store = await storeWith(makeStore, 't1');
    const go = await store.appendMessage('t1', 'user', 'Go is a language');
    await store.appendMessage('t1', 'user', 'a language without it');
    eq(await ids(store, 'go'), [go]);
    eq(await ids(store, 'go language'), [go]);
    eq((await store.searchMessages('go'))[0]?.snippet, '«Go» is a language');
  });

  test('advanced: FTS5 syntax passes through, and a syntax error is INVALID_ARGUMENT on query', async ({ makeStore }) => {
    const store = await storeWith(makeStore, 't1');
    const fox = await store.appendMessage('t1', 'user', 'the quick brown fox');
    const dog = await store.appendMessage('t1', 'user', 'the lazy dog');
    eq(await ids(store, 'fox OR dog', { advanced: true }), [fox, dog], 'OR');
    eq(await ids(store, 'fox OR dog'), [], 'without advanced, OR is a word');
    eq(await ids(store, '"quick brown"', { advanced: true }), [fox], 'phrase');
    eq(await ids(store, 'the NOT dog', { advanced: true }), [fox], 'NOT');
    for (const bad of ['fox AND (', '"unbalanced', 'NEAR(', 'AND']) {
      await invalid(() => store.searchMessages(bad, { advanced: true }), 'query');
    }
  });

  test('bad arguments are INVALID_ARGUMENT naming the field', async ({ makeStore }) => {
    const store = await storeWith(makeStore, 't1');
    await invalid(() => store.searchMessages(42 as unknown as string), 'query');
    await invalid(() => store.searchMessages('x', { limit: 0 }), 'options.limit');
    await invalid(() => store.searchMessages('x', { threadId: '' }), 'options.threadId');
    await invalid(() => store.searchMessages('x', { advanced: 'yes' as unknown as boolean }), 'options.advanced');
    await invalid(() => store.searchMessages('x', { includeArchived: 1 as unknown as boolean }), 'options.includeArchived');
  });

  test('the index follows every write: append, fork, clear, delete thread, deltas and prune', async ({ makeStore }) => {
    const store = await storeWith(makeStore, 't1', 't2', 't3');
    const root = await store.appendMessage('t1', 'user', 'alpha original');
    eq(await ids(store, 'alpha'), [root], 'append');
    const forked = await store.forkAtMessage(root, 'assistant', 'bravo branch');
    eq(await ids(store, 'bravo'), [forked], 'fork');
    await store.clearMessages('t1');
    eq(await ids(store, 'alpha'), [], 'clear');
    eq(await ids(store, 'bravo'), [], 'clear (fork)');

    await store.appendMessage('t2', 'user', 'charlie in t2');
    await store.deleteThread('t2');
    eq(await ids(store, 'charlie'), [], 'deleteThread cascades');

    const streamed = await store.beginMessage('t3', 'assistant');
    for (const part of ['del', 'ta st', 'ream', 'ing wo', 'rks']) await store.appendMessageDelta(streamed, part);
    eq(await ids(store, 'delta streaming works'), [streamed], 'deltas, across their boundaries');
    await store.finishMessage(streamed);
    eq(await ids(store, 'streaming'), [streamed], 'after finish');

    await store.upsertThread(thread('t4', { updatedAt: 1 }));
    await store.appendMessage('t4', 'user', 'echo old news');
    await store.pruneThreads({ olderThan: 5 });
    eq(await ids(store, 'echo'), [], 'prune');
    eq(await ids(store, 'streaming'), [streamed], 'prune left the others');
  });
});
