import { eq, ok, rejects } from '../assert.js';
import { group } from '../harness.js';
import { invalid, thread } from './fixtures.js';

group('streaming', (test) => {
  test('beginMessage appends an empty streaming leaf; deltas grow it; finishMessage completes it', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    const q = await store.appendMessage('t1', 'user', 'question');
    const id = await store.beginMessage('t1', 'assistant', { model: 'm1' });
    eq((await store.getThread('t1'))?.currentLeafId, id, 'the new leaf');
    eq(await store.getMessageStatus(id), 'streaming');
    const started = (await store.listMessages('t1'))[1];
    eq([started?.content, started?.parentEntryId, started?.item], ['', q, { model: 'm1' }]);
    await store.appendMessageDelta(id, 'Hel');
    await store.appendMessageDelta(id, 'lo, ');
    await store.appendMessageDelta(id, '');
    await store.appendMessageDelta(id, 'wörld 🌍');
    eq((await store.listMessages('t1'))[1]?.content, 'Hello, wörld 🌍', 'text while streaming');
    const done = await store.finishMessage(id);
    eq([done.id, done.content, done.role, done.item], [id, 'Hello, wörld 🌍', 'assistant', { model: 'm1' }]);
    eq(await store.getMessageStatus(id), 'complete');
  });

  test('a 2,000-delta stream sent without waiting gives exactly the concatenated text', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    const id = await store.beginMessage('t1', 'assistant');
    // Short deltas, as a token stream sends them; every one re-indexes the message unless coalesced.
    const parts = Array.from({ length: 2000 }, (_, i) => (i % 7 === 6 ? ' ' : String.fromCharCode(97 + (i % 26))));
    await Promise.all(parts.map((p) => store.appendMessageDelta(id, p)));
    const done = await store.finishMessage(id);
    eq(done.content.length, parts.join('').length, 'length');
    eq(done.content, parts.join(''));
    eq((await store.listMessages('t1'))[0]?.content, parts.join(''), 'as read back');
  });

  test('finishMessage can record failure or cancellation and replace the item', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    const a = await store.beginMessage('t1', 'assistant', { v: 1 });
    await store.appendMessageDelta(a, 'partial');
    const failed = await store.finishMessage(a, { status: 'failed', item: { error: 'rate limited' } });
    eq([failed.content, failed.item], ['partial', { error: 'rate limited' }]);
    eq(await store.getMessageStatus(a), 'failed');
    const b = await store.beginMessage('t1', 'assistant', { v: 1 });
    await store.finishMessage(b, { status: 'cancelled', item: null });
    eq([await store.getMessageStatus(b), (await store.listMessages('t1'))[1]?.item], ['cancelled', null]);
  });

  test('deltas and finish need a streaming message: CONFLICT after finish, NOT_FOUND for none', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    const plain = await store.appendMessage('t1', 'user', 'plain');
    eq(await store.getMessageStatus(plain), 'complete', 'a plain message is complete');
    const id = await store.beginMessage('t1', 'assistant');
    await store.finishMessage(id);
    await rejects(() => store.appendMessageDelta(id, 'late'), 'CONFLICT');
    await rejects(() => store.finishMessage(id), 'CONFLICT');
    await rejects(() => store.appendMessageDelta(plain, 'x'), 'CONFLICT');
    await rejects(() => store.appendMessageDelta(99999, 'x'), 'NOT_FOUND');
    await rejects(() => store.finishMessage(99999), 'NOT_FOUND');
    await rejects(() => store.getMessageStatus(99999), 'NOT_FOUND');
    await rejects(() => store.beginMessage('nope', 'assistant'), 'NOT_FOUND');
    eq((await store.listMessages('t1')).map((m) => m.content), ['plain', ''], 'nothing was appended');
  });

  test('bad arguments are INVALID_ARGUMENT naming the field', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    const id = await store.beginMessage('t1', 'assistant');
    await invalid(() => store.beginMessage('t1', ''), 'role');
    await invalid(() => store.appendMessageDelta(id, 5 as unknown as string), 'delta');
    await invalid(() => store.appendMessageDelta(0, 'x'), 'messageId');
    await invalid(() => store.appendMessageDelta(id, 'a\uD800'), 'delta');
    await invalid(() => store.finishMessage(id, { status: 'streaming' as 'complete' }), 'options.status');
    await invalid(() => store.finishMessage(id, { status: 'interrupted' as 'complete' }), 'options.status');
    eq(await store.getMessageStatus(id), 'streaming', 'still streaming');
  });

  test('deleting the thread or clearing it removes a streaming message and its status', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    const a = await store.beginMessage('t1', 'assistant');
    await store.appendMessageDelta(a, 'text');
    eq(await store.clearMessages('t1'), 1);
    await rejects(() => store.getMessageStatus(a), 'NOT_FOUND');
    await rejects(() => store.appendMessageDelta(a, 'more'), 'NOT_FOUND');
    const b = await store.beginMessage('t1', 'assistant');
    await store.deleteThread('t1');
    await rejects(() => store.finishMessage(b), 'NOT_FOUND');
  });
});
