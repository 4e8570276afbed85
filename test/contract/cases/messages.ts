import { eq, ok, rejects } from '../assert.js';
import type { ContractStore } from '../harness.js';
import { group } from '../harness.js';
import { invalid, invalidJson, jsonSamples, nest, nowSeconds, thread, unserializableJson, within } from './fixtures.js';

async function withThreads(store: ContractStore, ...ids: string[]): Promise<void> {
  for (const id of ids) await store.upsertThread(thread(id));
}

async function branch(store: ContractStore, threadId: string): Promise<string[]> {
  return (await store.listMessages(threadId)).map((m) => m.content);
}

group('messages', (test) => {
  test('appendMessage links each message to the previous leaf and makes it the current leaf', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1');
    const a = await store.appendMessage('t1', 'user', 'a');
    eq((await store.getThread('t1'))?.currentLeafId, a, 'leaf after a');
    const b = await store.appendMessage('t1', 'assistant', 'b');
    eq((await store.getThread('t1'))?.currentLeafId, b, 'leaf after b');
    const c = await store.appendMessage('t1', 'user', 'c');
    eq((await store.getThread('t1'))?.currentLeafId, c, 'leaf after c');
    eq((await store.listMessages('t1')).map((m) => [m.id, m.parentEntryId]), [[a, null], [b, a], [c, b]]);
  });

  test('message ids are positive integers that increase, across threads too', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1', 't2');
    const ids = [
      await store.appendMessage('t1', 'user', '1'),
      await store.appendMessage('t2', 'user', '2'),
      await store.appendMessage('t1', 'user', '3'),
    ];
    ids.push(await store.forkAtMessage(ids[0]!, 'user', '4'));
    for (const id of ids) ok(Number.isSafeInteger(id) && id > 0, `id ${id} is a positive integer`);
    for (let i = 1; i < ids.length; i++) ok(ids[i]! > ids[i - 1]!, `ids increase: ${ids.join(', ')}`);
  });

  test('appendMessage stamps createdAt with the current time', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1');
    const before = nowSeconds();
    await store.appendMessage('t1', 'user', 'hi');
    const after = nowSeconds();
    within((await store.listMessages('t1'))[0]?.createdAt, before, after, 'createdAt');
  });

  test('listMessages returns the current branch oldest first with every field', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1');
    const before = nowSeconds();
    const a = await store.appendMessage('t1', 'user', 'question', { type: 'message', parts: [{ text: 'question' }] });
    const b = await store.appendMessage('t1', 'assistant', '');
    const after = nowSeconds();
    const listed = await store.listMessages('t1');
    eq(listed.length, 2, 'count');
    within(listed[0]?.createdAt, before, after, 'createdAt of a');
    within(listed[1]?.createdAt, before, after, 'createdAt of b');
    eq(
      listed.map(({ createdAt: _, ...m }) => m),
      [
        { id: a, threadId: 't1', role: 'user', content: 'question', item: { type: 'message', parts: [{ text: 'question' }] }, parentEntryId: null },
        { id: b, threadId: 't1', role: 'assistant', content: '', item: null, parentEntryId: a },
      ],
    );
  });

  test('a message item round-trips as JSON of any shape; an omitted or null item reads as null', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1');
    for (const [, item] of jsonSamples) await store.appendMessage('t1', 'tool', 'x', item);
    await store.appendMessage('t1', 'tool', 'omitted');
    await store.appendMessage('t1', 'tool', 'undefined', undefined);
    const items = (await store.listMessages('t1')).map((m) => m.item);
    eq(items, [...jsonSamples.map(([, item]) => item), null, null]);
  });

  test('content and role keep unicode, quotes and newlines exactly', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1');
    const content = 'multi\nline "quoted" \\ tab\t é 漢字 😀 👩‍👩‍👧 \u2028 end';
    await store.appendMessage('t1', 'rôle-🤖', content);
    const [m] = await store.listMessages('t1');
    eq([m?.role, m?.content], ['rôle-🤖', content]);
  });

  test('listMessages with a limit keeps the messages nearest the leaf', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1');
    for (const c of ['1', '2', '3', '4', '5']) await store.appendMessage('t1', 'user', c);
    eq((await store.listMessages('t1', 2)).map((m) => m.content), ['4', '5']);
    eq((await store.listMessages('t1', 1)).map((m) => m.content), ['5']);
    eq((await store.listMessages('t1', 5)).map((m) => m.content), ['1', '2', '3', '4', '5']);
    eq((await store.listMessages('t1', 99)).map((m) => m.content), ['1', '2', '3', '4', '5']);
  });

  test('listMessages returns at most 500 messages by default, the newest ones', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1');
    for (let i = 1; i <= 501; i++) await store.appendMessage('t1', 'user', String(i));
    const listed = await store.listMessages('t1');
    eq(listed.length, 500, 'count');
    eq(listed[0]?.content, '2', 'starts from the 2nd message');
    eq(listed[499]?.content, '501', 'ends at the leaf');
  });

  test('listMessages refuses a limit that is not a positive integer', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1');
    for (const limit of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await invalid(() => store.listMessages('t1', limit), 'limit');
    }
    await invalid(() => store.listMessages('', 10), 'threadId');
  });

  test('listMessages and listLeafMessages of an unknown thread or a thread without messages are empty', async ({ makeStore }) => {
    const store = await makeStore();
    eq(await store.listMessages('missing'), []);
    eq(await store.listLeafMessages('missing'), []);
    await withThreads(store, 't1');
    eq(await store.listMessages('t1'), []);
    eq(await store.listLeafMessages('t1'), []);
    await invalid(() => store.listLeafMessages(''), 'threadId');
  });

  test('forkAtMessage starts a sibling branch and moves the leaf to it', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1');
    const a = await store.appendMessage('t1', 'user', 'a');
    const b = await store.appendMessage('t1', 'assistant', 'b');
    const b2 = await store.forkAtMessage(a, 'assistant', 'b2', { retry: true });
    eq((await store.getThread('t1'))?.currentLeafId, b2, 'leaf');
    const listed = await store.listMessages('t1');
    eq(listed.map((m) => [m.id, m.parentEntryId, m.content]), [[a, null, 'a'], [b2, a, 'b2']]);
    eq(listed[1]?.item, { retry: true }, 'item');
    eq(listed[1]?.threadId, 't1', 'threadId');
    ok(b2 !== b, 'a new message');
    const c2 = await store.appendMessage('t1', 'user', 'c2');
    eq(await branch(store, 't1'), ['a', 'b2', 'c2'], 'appending continues the new branch');
    eq((await store.listMessages('t1')).map((m) => m.parentEntryId), [null, a, b2]);
    ok(c2 > b2, 'ids keep increasing');
  });

  test('forkAtMessage on a leaf just extends that branch', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1');
    const a = await store.appendMessage('t1', 'user', 'a');
    await store.forkAtMessage(a, 'assistant', 'b');
    eq(await branch(store, 't1'), ['a', 'b']);
    eq((await store.listLeafMessages('t1')).map((m) => m.content), ['b']);
  });

  test('listLeafMessages lists the end of every branch in id order', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1', 'other');
    const a = await store.appendMessage('t1', 'user', 'a');
    const b = await store.appendMessage('t1', 'assistant', 'b');
    await store.appendMessage('other', 'user', 'elsewhere');
    const x = await store.forkAtMessage(a, 'assistant', 'x');
    const y = await store.forkAtMessage(a, 'assistant', 'y');
    const z = await store.forkAtMessage(b, 'user', 'z');
    const leaves = await store.listLeafMessages('t1');
    eq(leaves.map((m) => m.id), [x, y, z]);
    eq(leaves.map((m) => [m.content, m.parentEntryId, m.threadId]), [['x', a, 't1'], ['y', a, 't1'], ['z', b, 't1']]);
  });

  test('setCurrentLeafId switches branches and listMessages follows', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1');
    const a = await store.appendMessage('t1', 'user', 'a');
    const b = await store.appendMessage('t1', 'assistant', 'b');
    const b2 = await store.forkAtMessage(a, 'assistant', 'b2');
    eq(await branch(store, 't1'), ['a', 'b2']);
    await store.setCurrentLeafId('t1', b);
    eq((await store.getThread('t1'))?.currentLeafId, b, 'leaf');
    eq(await branch(store, 't1'), ['a', 'b']);
    await store.setCurrentLeafId('t1', b2);
    eq(await branch(store, 't1'), ['a', 'b2']);
  });

  test('after setCurrentLeafId to an inner message, appendMessage branches from there', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1');
    const a = await store.appendMessage('t1', 'user', 'a');
    const b = await store.appendMessage('t1', 'assistant', 'b');
    await store.appendMessage('t1', 'user', 'c');
    await store.setCurrentLeafId('t1', a);
    eq(await branch(store, 't1'), ['a'], 'the branch ends at the inner message');
    const d = await store.appendMessage('t1', 'user', 'd');
    eq(await branch(store, 't1'), ['a', 'd']);
    eq((await store.listMessages('t1'))[1]?.parentEntryId, a, 'parent');
    eq((await store.listLeafMessages('t1')).map((m) => m.content), ['c', 'd'], 'the old branch is kept');
    await store.setCurrentLeafId('t1', b);
    eq(await branch(store, 't1'), ['a', 'b']);
  });

  test('setCurrentLeafId fails with NOT_FOUND for an unknown message, another thread\'s message or an unknown thread', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1', 't2');
    const a = await store.appendMessage('t1', 'user', 'a');
    const b = await store.appendMessage('t1', 'user', 'b');
    const foreign = await store.appendMessage('t2', 'user', 'foreign');
    await rejects(() => store.setCurrentLeafId('t1', foreign + 1000), 'NOT_FOUND');
    await rejects(() => store.setCurrentLeafId('t1', foreign), 'NOT_FOUND');
    await rejects(() => store.setCurrentLeafId('missing', a), 'NOT_FOUND');
    eq((await store.getThread('t1'))?.currentLeafId, b, 't1 leaf unchanged');
    eq((await store.getThread('t2'))?.currentLeafId, foreign, 't2 leaf unchanged');
    eq(await branch(store, 't1'), ['a', 'b']);
    eq(await store.getThread('missing'), null, 'no thread was created');
  });

  test('setCurrentLeafId refuses an empty thread id and a message id that is not a positive integer', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1');
    const a = await store.appendMessage('t1', 'user', 'a');
    await invalid(() => store.setCurrentLeafId('', a), 'threadId');
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, String(a) as never]) {
      await invalid(() => store.setCurrentLeafId('t1', bad), 'messageId');
    }
    eq((await store.getThread('t1'))?.currentLeafId, a, 'unchanged');
  });

  test('forkAtMessage fails with NOT_FOUND on an unknown message and writes nothing', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1');
    const a = await store.appendMessage('t1', 'user', 'a');
    await rejects(() => store.forkAtMessage(a + 1000, 'user', 'x'), 'NOT_FOUND');
    eq((await store.listLeafMessages('t1')).map((m) => m.id), [a], 'no new row');
    eq((await store.getThread('t1'))?.currentLeafId, a, 'leaf unchanged');
  });

  test('forkAtMessage refuses invalid arguments and writes nothing', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1');
    const a = await store.appendMessage('t1', 'user', 'a');
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, String(a) as never]) {
      await invalid(() => store.forkAtMessage(bad, 'user', 'x'), 'messageId');
    }
    await invalid(() => store.forkAtMessage(a, '', 'x'), 'role');
    await invalid(() => store.forkAtMessage(a, 'user', 5 as never), 'content');
    await invalid(() => store.forkAtMessage(a, 'user', 'bad \uD800'), 'content');
    await invalidJson(() => store.forkAtMessage(a, 'user', 'x', { f: () => 1 }), 'item');
    await invalidJson(() => store.forkAtMessage(a, 'user', 'x', 10n), 'item');
    eq((await store.listLeafMessages('t1')).map((m) => m.id), [a], 'no new row');
    eq((await store.getThread('t1'))?.currentLeafId, a, 'leaf unchanged');
  });

  test('appendMessage fails with NOT_FOUND on an unknown thread and creates nothing', async ({ makeStore }) => {
    const store = await makeStore();
    await rejects(() => store.appendMessage('missing', 'user', 'hi'), 'NOT_FOUND');
    eq(await store.getThread('missing'), null, 'no thread');
    eq(await store.listLeafMessages('missing'), [], 'no message');
    await withThreads(store, 'missing');
    eq(await store.listLeafMessages('missing'), [], 'no orphan message shows up later');
  });

  test('appendMessage refuses an empty or non-string role and non-string or ill-formed content', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1');
    const a = await store.appendMessage('t1', 'user', 'a');
    await invalid(() => store.appendMessage('', 'user', 'x'), 'threadId');
    await invalid(() => store.appendMessage(3 as never, 'user', 'x'), 'threadId');
    await invalid(() => store.appendMessage('t1', '', 'x'), 'role');
    await invalid(() => store.appendMessage('t1', null as never, 'x'), 'role');
    await invalid(() => store.appendMessage('t1', 'user\uD800', 'x'), 'role');
    await invalid(() => store.appendMessage('t1', 'user', undefined as never), 'content');
    await invalid(() => store.appendMessage('t1', 'user', 'lone \uDC00 surrogate'), 'content');
    eq((await store.listLeafMessages('t1')).map((m) => m.id), [a], 'no new row');
    eq((await store.getThread('t1'))?.currentLeafId, a, 'leaf unchanged');
  });

  test('an item JSON cannot carry is refused, and the failed append adds no row and leaves the leaf', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1');
    const a = await store.appendMessage('t1', 'user', 'a');
    for (const [label, item] of unserializableJson()) {
      try {
        await invalidJson(() => store.appendMessage('t1', 'user', 'x', item), 'item');
      } catch (error) {
        throw new Error(`${label}: ${(error as Error).message}`);
      }
    }
    await invalidJson(() => store.appendMessage('t1', 'user', 'x', () => 1), 'item');
    await invalidJson(() => store.appendMessage('t1', 'user', 'x', Number.NaN), 'item');
    eq((await store.listLeafMessages('t1')).map((m) => m.id), [a], 'no new row');
    eq((await store.getThread('t1'))?.currentLeafId, a, 'leaf unchanged');
    eq(await branch(store, 't1'), ['a']);
  });

  test('an item nested 127 levels deep is stored, and 128 levels, which serde_json cannot read back, are refused', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1');
    await store.appendMessage('t1', 'user', 'deep', nest(127));
    eq((await store.listMessages('t1'))[0]?.item, nest(127), '127 levels round-trip');
    // serde_json's recursion limit of 128 counts the outermost container too: 128 nested arrays fail there.
    await invalidJson(() => store.appendMessage('t1', 'user', 'too deep', nest(128)), 'item');
  });

  test('clearMessages deletes every message, returns the count and resets the leaf', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1', 't2');
    const a = await store.appendMessage('t1', 'user', 'a');
    await store.appendMessage('t1', 'user', 'b');
    await store.forkAtMessage(a, 'user', 'c');
    await store.appendMessage('t2', 'user', 'other');
    eq(await store.clearMessages('t1'), 3, 'count');
    eq(await store.listMessages('t1'), [], 'branch');
    eq(await store.listLeafMessages('t1'), [], 'leaves');
    eq((await store.getThread('t1'))?.currentLeafId, null, 'leaf');
    eq(await branch(store, 't2'), ['other'], 'another thread keeps its messages');
    const fresh = await store.appendMessage('t1', 'user', 'fresh');
    eq((await store.listMessages('t1')).map((m) => [m.id, m.parentEntryId]), [[fresh, null]], 'a new root');
    eq(await store.clearMessages('t1'), 1, 'count after re-append');
    eq(await store.clearMessages('t1'), 0, 'nothing left');
  });

  test('clearMessages fails with NOT_FOUND on an unknown thread', async ({ makeStore }) => {
    const store = await makeStore();
    await rejects(() => store.clearMessages('missing'), 'NOT_FOUND');
    await invalid(() => store.clearMessages(''), 'threadId');
  });
  test('listThreadMessages returns every branch in id order without moving the current leaf', async ({ makeStore }) => {
    const store = await makeStore();
    await withThreads(store, 't1', 't2');
    const root = await store.appendMessage('t1', 'system', 'root');
    const a = await store.appendMessage('t1', 'user', 'a');
    const b = await store.forkAtMessage(root, 'user', 'b');
    const c = await store.appendMessage('t1', 'assistant', 'c');
    await store.appendMessage('t2', 'user', 'other thread');
    await store.setCurrentLeafId('t1', a);
    const all = await store.listThreadMessages('t1');
    eq(all.map((m) => [m.id, m.parentEntryId, m.content]), [[root, null, 'root'], [a, root, 'a'], [b, root, 'b'], [c, b, 'c']]);
    eq((await store.getThread('t1'))?.currentLeafId, a, 'the leaf stays where it was');
    eq((await store.listThreadMessages('t1', 2)).map((m) => m.id), [root, a], 'limit keeps the oldest');
    eq(await store.listThreadMessages('missing'), []);
    await invalid(() => store.listThreadMessages('t1', 0), 'limit');
    await invalid(() => store.listThreadMessages(''), 'threadId');
  });
});
