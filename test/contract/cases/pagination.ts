import { eq, ok, rejects } from '../assert.js';
import type { ContractStore } from '../harness.js';
import { group } from '../harness.js';
import { invalid, thread } from './fixtures.js';

type ThreadPageOptions = NonNullable<Parameters<ContractStore['listThreadsPage']>[0]>;

/** Every page's ids, following nextCursor to the end; `between` runs after each page. */
async function walkThreads(store: ContractStore, options: ThreadPageOptions, between?: (page: number) => Promise<void>): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listThreadsPage({ ...options, cursor });
    pages.push(page.items.map((t) => t.id));
    cursor = page.nextCursor;
    ok(pages.length < 100, 'the walk ends');
    if (between) await between(pages.length);
  } while (cursor !== null);
  return pages;
}

/** Every page of a branch, following nextBefore to the root. */
async function walkMessages(store: ContractStore, threadId: string, limit: number, between?: () => Promise<void>): Promise<string[][]> {
  const pages: string[][] = [];
  let before: number | null = null;
  do {
    const page = await store.listMessagesPage(threadId, { before, limit });
    pages.push(page.items.map((m) => m.content));
    before = page.nextBefore;
    ok(pages.length < 100, 'the walk ends');
    if (between) await between();
  } while (before !== null);
  return pages;
}

group('pagination', (test) => {
  test('listThreadsPage walks every thread once, newest update first, id descending on ties', async ({ makeStore }) => {
    const store = await makeStore();
    // Updated-at values with ties, inserted in an order that matches neither key.
    const rows: Array<[string, number]> = [['c', 5], ['a', 7], ['e', 5], ['b', 9], ['d', 5], ['f', 1], ['g', 7]];
    for (const [id, updatedAt] of rows) await store.upsertThread(thread(id, { updatedAt }));
    const pages = await walkThreads(store, { limit: 3 });
    eq(pages, [['b', 'g', 'a'], ['e', 'd', 'c'], ['f']]);
  });

  test('the last page has no cursor, also when it is exactly full', async ({ makeStore }) => {
    const store = await makeStore();
    for (const id of ['a', 'b', 'c', 'd']) await store.upsertThread(thread(id));
    eq(await walkThreads(store, { limit: 2 }), [['d', 'c'], ['b', 'a']]);
    eq((await store.listThreadsPage({ limit: 4 })).nextCursor, null);
    const empty = await (await makeStore()).listThreadsPage();
    eq(empty, { items: [], nextCursor: null });
  });

  test('threads inserted or updated to the front between pages cause no duplicate and no gap', async ({ makeStore }) => {
    const store = await makeStore();
    const original = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    for (const [i, id] of original.entries()) await store.upsertThread(thread(id, { updatedAt: 100 + i }));
    let n = 0;
    const pages = await walkThreads(store, { limit: 6 }, async () => {
      // Another writer: a brand-new thread, newer than everything.
      await store.upsertThread(thread(`new${n++}`, { updatedAt: 1000 + n }));
    });
    const seen = pages.flat();
    eq(seen.length, new Set(seen).size, 'no duplicates');
    eq(seen, [...original].reverse(), 'every original thread, in order, none of the new ones');
  });

  test('archived threads are paged only with includeArchived', async ({ makeStore }) => {
    const store = await makeStore();
    for (const [id, updatedAt] of [['a', 1], ['b', 2], ['c', 3]] as const) await store.upsertThread(thread(id, { updatedAt }));
    await store.upsertThread(thread('z', { updatedAt: 2, archived: true }));
    eq((await walkThreads(store, { limit: 2 })).flat(), ['c', 'b', 'a']);
    eq((await walkThreads(store, { limit: 2, includeArchived: true })).flat(), ['c', 'z', 'b', 'a']);
  });

  test('search keeps threads whose name or preview contains the text, ignoring ASCII case', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('n', { name: 'Budget Planning', preview: 'x', updatedAt: 3 }));
    await store.upsertThread(thread('p', { preview: 'planning the trip', updatedAt: 2 }));
    await store.upsertThread(thread('o', { name: 'Other', preview: 'nothing', updatedAt: 1 }));
    eq((await walkThreads(store, { search: 'PLANNING', limit: 1 })).flat(), ['n', 'p']);
    eq((await store.listThreadsPage({ search: 'budget' })).items.map((t) => t.id), ['n']);
    eq((await store.listThreadsPage({ search: '%' })).items, [], '% is not a wildcard');
    eq((await store.listThreadsPage({ search: '' })).items.length, 3, 'empty search keeps all');
  });

  test('a cursor that is not one the store handed out is INVALID_ARGUMENT', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('a'));
    for (const cursor of ['garbage', '!!!', 'e30', btoa('[1]'), btoa('["x","y"]'), btoa('{"u":1}'), '']) {
      await invalid(() => store.listThreadsPage({ cursor }), 'options.cursor');
    }
    await invalid(() => store.listThreadsPage({ cursor: 7 as unknown as string }), 'options.cursor');
    await invalid(() => store.listThreadsPage({ limit: 0 }), 'options.limit');
  });

  test('listMessagesPage pages the current branch from the leaf back, oldest first within a page', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    for (let i = 1; i <= 7; i++) await store.appendMessage('t1', i % 2 ? 'user' : 'assistant', `m${i}`);
    eq(await walkMessages(store, 't1', 3), [['m5', 'm6', 'm7'], ['m2', 'm3', 'm4'], ['m1']]);
    eq(await walkMessages(store, 't1', 7), [['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']]);
    const page = await store.listMessagesPage('t1', { limit: 2 });
    eq(page.nextBefore, page.items[0]?.id, 'nextBefore is the oldest message of the page');
    eq(page.items, (await store.listMessages('t1')).slice(-2), 'the same records as listMessages');
  });

  test('listMessagesPage follows the branch, not other messages of the thread', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    const q = await store.appendMessage('t1', 'user', 'q');
    await store.appendMessage('t1', 'assistant', 'first answer');
    await store.forkAtMessage(q, 'assistant', 'second answer');
    await store.appendMessage('t1', 'user', 'follow-up');
    eq(await walkMessages(store, 't1', 2), [['second answer', 'follow-up'], ['q']]);
  });

  test('messages appended between pages cause no duplicate and no gap', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    for (let i = 1; i <= 10; i++) await store.appendMessage('t1', 'user', `m${i}`);
    let n = 0;
    const pages = await walkMessages(store, 't1', 4, async () => {
      await store.appendMessage('t1', 'assistant', `late${n++}`);
    });
    eq(pages.reverse().flat(), Array.from({ length: 10 }, (_, i) => `m${i + 1}`));
  });

  test('an empty thread gives an empty page; a missing thread or a foreign before is NOT_FOUND', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.upsertThread(thread('t2'));
    eq(await store.listMessagesPage('t1'), { items: [], nextBefore: null });
    const other = await store.appendMessage('t2', 'user', 'elsewhere');
    await rejects(() => store.listMessagesPage('nope'), 'NOT_FOUND');
    await rejects(() => store.listMessagesPage('t1', { before: other }), 'NOT_FOUND');
    await rejects(() => store.listMessagesPage('t1', { before: 99999 }), 'NOT_FOUND');
    await invalid(() => store.listMessagesPage('t1', { before: 0 }), 'options.before');
    await invalid(() => store.listMessagesPage('t1', { limit: -1 }), 'options.limit');
    await invalid(() => store.listMessagesPage(''), 'threadId');
  });
});
