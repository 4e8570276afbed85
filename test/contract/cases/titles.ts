import { eq } from '../assert.js';
import type { ContractStore } from '../harness.js';
import { group } from '../harness.js';
import { thread } from './fixtures.js';

async function nameOf(store: ContractStore, id: string): Promise<[string | null | undefined, string | null]> {
  return [(await store.getThread(id))?.name, await store.findThreadNameById(id)];
}

group('titles', (test) => {
  test('the first user message names a thread that has no name, in the database and the session index', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1', { updatedAt: 42, rolloutPath: '/r/t1.jsonl' }));
    eq(await nameOf(store, 't1'), [null, null]);
    await store.appendMessage('t1', 'user', 'Plan a trip to Kyoto');
    eq(await nameOf(store, 't1'), ['Plan a trip to Kyoto', 'Plan a trip to Kyoto']);
    await store.appendMessage('t1', 'user', 'Actually, make it Osaka');
    eq(await nameOf(store, 't1'), ['Plan a trip to Kyoto', 'Plan a trip to Kyoto'], 'only the first');
    eq(await store.findThreadPathByName('plan a trip to kyoto'), '/r/t1.jsonl', 'the index line carries the rollout path');
    eq((await store.getThread('t1'))?.updatedAt, 42, 'naming does not touch updatedAt');
  });

  test('a title collapses whitespace and keeps at most 60 characters, then "..."', async ({ makeStore }) => {
    const store = await makeStore();
    const cases: Array<[string, string]> = [
      ['  Hello\n\n  world\t again  ', 'Hello world again'],
      ['x'.repeat(60), 'x'.repeat(60)],
      ['y'.repeat(61), 'y'.repeat(60) + '...'],
      // Characters, not UTF-16 units: each emoji counts once.
      ['😀'.repeat(70), '😀'.repeat(60) + '...'],
      // Cut after collapsing: 13 words of 5 characters and "tail" collapse to 69 characters.
      [`${'word  '.repeat(13)}tail`, `${'word '.repeat(12)}...`],
    ];
    for (const [i, [content, expected]] of cases.entries()) {
      await store.upsertThread(thread(`t${i}`));
      await store.appendMessage(`t${i}`, 'user', content);
      eq(await nameOf(store, `t${i}`), [expected, expected], JSON.stringify(content));
    }
  });

  test('assistant messages and blank user messages do not name a thread; the next user message does', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.appendMessage('t1', 'assistant', 'Welcome! How can I help?');
    await store.appendMessage('t1', 'user', '   \n ');
    eq(await nameOf(store, 't1'), [null, null]);
    await store.appendMessage('t1', 'user', 'Summarize my notes');
    eq(await nameOf(store, 't1'), ['Summarize my notes', 'Summarize my notes']);
  });

  test('a name the user set is never overwritten', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1', { name: 'My project' }));
    await store.appendMessage('t1', 'user', 'first question');
    eq(await nameOf(store, 't1'), ['My project', 'My project']);
    await store.upsertThread(thread('t2'));
    await store.appendMessage('t2', 'user', 'auto name');
    await store.upsertThread(thread('t2', { name: 'Renamed by hand' }));
    await store.appendMessage('t2', 'user', 'another question');
    eq(await nameOf(store, 't2'), ['Renamed by hand', 'Renamed by hand']);
  });

  test('a streamed user message names the thread when it completes, not when it fails', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    const failed = await store.beginMessage('t1', 'user');
    await store.appendMessageDelta(failed, 'lost words');
    await store.finishMessage(failed, { status: 'failed' });
    eq(await nameOf(store, 't1'), [null, null]);
    const id = await store.beginMessage('t1', 'user');
    await store.appendMessageDelta(id, 'dictated ');
    await store.appendMessageDelta(id, 'question');
    eq(await nameOf(store, 't1'), [null, null], 'not while streaming');
    await store.finishMessage(id);
    eq(await nameOf(store, 't1'), ['dictated question', 'dictated question']);
  });

  test('a user message that starts a new branch names an unnamed thread too', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    const root = await store.appendMessage('t1', 'system', 'You are helpful.');
    await store.forkAtMessage(root, 'user', 'Branching question');
    eq(await nameOf(store, 't1'), ['Branching question', 'Branching question']);
  });
});
