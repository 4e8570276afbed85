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

  // A name can be set three ways: upsertThread with a name (database and index), appendThreadName (the
  // index only, as the Rust store also writes it), and auto-titling. The cases below hold each against
  // auto-titling, starting from what a Rust-written file showed: a thread whose name and rollout path
  // are only in the session index, with title and rollout_path NULL in the database.

  /** The Rust-file state: a thread row with no name and no path; its name and path in the index only. */
  async function namedInIndexOnly(store: ContractStore): Promise<void> {
    await store.upsertThread(thread('t1', { updatedAt: 20 }));
    await store.appendThreadName('t1', 'Named in the index', 30, '/r/t1.jsonl');
  }

  test('a name set only in the session index is kept when a user message arrives', async ({ makeStore }) => {
    const store = await makeStore();
    await namedInIndexOnly(store);
    await store.appendMessage('t1', 'user', 'What is the current user message?');
    eq(await store.findThreadNameById('t1'), 'Named in the index');
    eq(await store.findThreadNamesByIds(['t1']), { t1: 'Named in the index' });
  });

  test('a rollout path set only in the session index is kept when a user message arrives', async ({ makeStore }) => {
    const store = await makeStore();
    await namedInIndexOnly(store);
    await store.appendMessage('t1', 'user', 'What is the current user message?');
    eq(await store.findThreadPathByName('named in the index'), '/r/t1.jsonl');
    eq(await store.findThreadPathByName('What is the current user message?'), null, 'no entry under the message');
  });

  test('a thread named in the session index gets no auto-title line and no title in the database', async ({ makeStore }) => {
    const store = await makeStore();
    await namedInIndexOnly(store);
    const before = await store.exportSessionIndex();
    await store.appendMessage('t1', 'user', 'first question');
    const root = await store.appendMessage('t1', 'user', 'second question');
    await store.forkAtMessage(root, 'user', 'a new branch');
    const streamed = await store.beginMessage('t1', 'user');
    await store.appendMessageDelta(streamed, 'streamed question');
    await store.finishMessage(streamed);
    eq(await store.exportSessionIndex(), before, 'no line was appended');
    eq((await store.getThread('t1'))?.name, null, 'the database title stays NULL');
  });

  test('auto-titling keeps the rollout path the session index holds when the database row has none', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.appendThreadName('t1', null, 30, '/r/t1.jsonl');
    await store.appendMessage('t1', 'user', 'Name me');
    eq(await store.findThreadNameById('t1'), 'Name me');
    eq(await store.findThreadPathByName('name me'), '/r/t1.jsonl');
    eq(await store.findRolloutPathById('t1'), null, 'the database row keeps its own (absent) path');
  });

  test('a name set with appendThreadName after an auto-title is kept', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1', { rolloutPath: '/r/t1.jsonl' }));
    await store.appendMessage('t1', 'user', 'Auto title');
    await store.appendThreadName('t1', 'Renamed', 50, '/r/t1.jsonl');
    const before = await store.exportSessionIndex();
    await store.appendMessage('t1', 'user', 'another question');
    eq(await store.findThreadNameById('t1'), 'Renamed');
    eq(await store.findThreadPathByName('renamed'), '/r/t1.jsonl');
    eq(await store.exportSessionIndex(), before, 'no line was appended');
  });

  test('an unnamed thread with earlier user messages is named after its first user message, not the new one', async ({ makeStore }) => {
    const store = await makeStore();
    // Messages written while the thread had no title in the database, as the Rust store writes them.
    await namedInIndexOnly(store);
    await store.appendMessage('t1', 'system', 'You are helpful.');
    await store.appendMessage('t1', 'user', '   ');
    await store.appendMessage('t1', 'user', 'The first question');
    await store.appendMessage('t1', 'assistant', 'An answer');
    await store.appendThreadName('t1', null, 40, '/r/t1.jsonl'); // the name is cleared
    await store.appendMessage('t1', 'user', 'The newest question');
    eq(await nameOf(store, 't1'), ['The first question', 'The first question']);
    eq(await store.findThreadPathByName('the first question'), '/r/t1.jsonl');
  });

  test('the first user message is the first in id order over the whole tree, not on the current branch', async ({ makeStore }) => {
    const store = await makeStore();
    await namedInIndexOnly(store);
    const root = await store.appendMessage('t1', 'system', 'You are helpful.');
    await store.appendMessage('t1', 'user', 'On the old branch');
    await store.forkAtMessage(root, 'user', 'On the new branch');
    await store.appendThreadName('t1', null, 40, null);
    await store.appendMessage('t1', 'user', 'Follow-up on the new branch');
    eq(await nameOf(store, 't1'), ['On the old branch', 'On the old branch']);
  });

  test('a user message that failed or was cancelled while streaming is never taken as the first', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    const failed = await store.beginMessage('t1', 'user');
    await store.appendMessageDelta(failed, 'failed words');
    await store.finishMessage(failed, { status: 'failed' });
    const cut = await store.beginMessage('t1', 'user');
    await store.appendMessageDelta(cut, 'cancelled words');
    await store.finishMessage(cut, { status: 'cancelled' });
    await store.appendMessage('t1', 'user', 'Complete question');
    eq(await nameOf(store, 't1'), ['Complete question', 'Complete question']);
  });
});
