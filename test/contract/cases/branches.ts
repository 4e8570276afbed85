import type { BranchMessage, StoreChange } from '../../../src/core/index.js';
import { AssertionError, eq, rejects } from '../assert.js';
import type { ContractStore } from '../harness.js';
import { group } from '../harness.js';
import { invalid } from './fixtures.js';

/**
 * switchBranch: the ‹ 1/2 › switch of a chat UI. It lands on the most recently written leaf under the
 * message it is given, so an older answer comes back with its follow-ups (setCurrentLeafId ends the
 * branch at the message). Messages here are written within a second or two, so "most recently
 * written" is decided by id, as on one device; test/unit/switch-branch.test.ts holds the createdAt
 * order with a clock of its own.
 */

const contents = (branch: readonly BranchMessage[] | undefined) => (branch ?? []).map((m) => m.content);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new AssertionError(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

/**
 * The chat: Q1 answered by A1, a follow-up under A1 answered by A1b, then A1 regenerated as
 * A2, which is now the current branch [Q1, A2].
 */
async function regeneratedChat(store: ContractStore) {
  await store.createThread({ id: 't' });
  const q1 = await store.addMessage('t', { role: 'user', content: 'Q1' });
  const a1 = await store.addMessage('t', { role: 'assistant', content: 'A1' });
  const followUp = await store.addMessage('t', { role: 'user', content: 'follow-up' });
  const a1b = await store.addMessage('t', { role: 'assistant', content: 'A1b' });
  const a2 = await store.addMessage('t', { role: 'assistant', content: 'A2', parentId: q1.id });
  return { q1: q1.id, a1: a1.id, followUp: followUp.id, a1b: a1b.id, a2: a2.id };
}

group('app layer: switchBranch', (test) => {
  test('switching back to an older answer brings back its follow-ups', async ({ makeStore }) => {
    const store = await makeStore();
    const { a1 } = await regeneratedChat(store);
    eq(contents(await store.getBranch('t')), ['Q1', 'A2']);
    const branch = await store.switchBranch('t', a1);
    eq(contents(branch), ['Q1', 'A1', 'follow-up', 'A1b']);
    eq(contents(await store.getBranch('t')), ['Q1', 'A1', 'follow-up', 'A1b']);
  });

  test('switchBranch returns the new branch exactly as getBranch then gives it, statuses and siblings included', async ({ makeStore }) => {
    const store = await makeStore();
    const { q1, a1, a2 } = await regeneratedChat(store);
    const branch = await store.switchBranch('t', a1);
    eq(branch, await store.getBranch('t'));
    eq(branch[1]?.siblings, { index: 0, count: 2, ids: [a1, a2] });
    eq(branch[0]?.siblings.ids, [q1]);
    eq(branch.map((m) => m.status), ['complete', 'complete', 'complete', 'complete']);
  });

  test('switching forth again lands on the newer answer, and the current leaf is the end of the branch', async ({ makeStore }) => {
    const store = await makeStore();
    const { a1, a1b, a2 } = await regeneratedChat(store);
    await store.switchBranch('t', a1);
    eq((await store.getThread('t'))?.currentLeafId, a1b);
    eq(contents(await store.switchBranch('t', a2)), ['Q1', 'A2']);
    eq((await store.getThread('t'))?.currentLeafId, a2);
  });

  test('of several branches under the message, switchBranch lands on the one written last', async ({ makeStore }) => {
    const store = await makeStore();
    const { a1, followUp, a2 } = await regeneratedChat(store);
    // Under A1 now: the follow-up's answer regenerated (A1c), then the follow-up edited and answered (A1d).
    const a1c = await store.addMessage('t', { role: 'assistant', content: 'A1c', parentId: followUp });
    await store.addMessage('t', { role: 'user', content: 'follow-up, edited', parentId: a1 });
    await store.addMessage('t', { role: 'assistant', content: 'A1d' });
    await store.switchBranch('t', a2);
    eq(contents(await store.switchBranch('t', a1)), ['Q1', 'A1', 'follow-up, edited', 'A1d']);
    // A message written under the older leaf A1c makes that branch the one written last.
    await store.addMessage('t', { role: 'user', content: 'more under A1c', parentId: a1c.id });
    await store.switchBranch('t', a2);
    eq(contents(await store.switchBranch('t', a1)), ['Q1', 'A1', 'follow-up', 'A1c', 'more under A1c']);
  });

  test('switchBranch to a leaf lands on that leaf', async ({ makeStore }) => {
    const store = await makeStore();
    const { a1b, a2 } = await regeneratedChat(store);
    eq(contents(await store.switchBranch('t', a1b)), ['Q1', 'A1', 'follow-up', 'A1b']);
    eq(contents(await store.switchBranch('t', a2)), ['Q1', 'A2']);
  });

  test('switchBranch between roots lands under the root it is given', async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 't' });
    const first = await store.addMessage('t', { role: 'user', content: 'first question' });
    await store.addMessage('t', { role: 'assistant', content: 'first answer' });
    const edited = await store.addMessage('t', { role: 'user', content: 'edited question', parentId: null });
    eq(contents(await store.switchBranch('t', first.id)), ['first question', 'first answer']);
    eq(contents(await store.switchBranch('t', edited.id)), ['edited question']);
    eq((await store.getBranch('t'))[0]?.siblings, { index: 1, count: 2, ids: [first.id, edited.id] });
  });

  test('switchBranch with a limit returns the messages nearest the new leaf and still moves the leaf to the end', async ({ makeStore }) => {
    const store = await makeStore();
    const { a1, a1b } = await regeneratedChat(store);
    eq(contents(await store.switchBranch('t', a1, { limit: 2 })), ['follow-up', 'A1b']);
    eq((await store.getThread('t'))?.currentLeafId, a1b);
  });

  test('switchBranch leaves updatedAt, the messages and the other threads alone', async ({ makeStore }) => {
    const store = await makeStore();
    const { a1 } = await regeneratedChat(store);
    await store.createThread({ id: 'other' });
    await store.addMessage('other', { role: 'user', content: 'elsewhere' });
    const before = { t: await store.getThread('t'), other: await store.getThread('other'), all: await store.listThreadMessages('t') };
    await store.switchBranch('t', a1);
    const after = await store.getThread('t');
    eq({ ...after, currentLeafId: null }, { ...before.t, currentLeafId: null });
    eq(await store.getThread('other'), before.other);
    eq(await store.listThreadMessages('t'), before.all);
  });

  test('switchBranch of a missing thread, a missing message or another thread\'s message is NOT_FOUND and moves nothing', async ({ makeStore }) => {
    const store = await makeStore();
    const { a1, a2 } = await regeneratedChat(store);
    await store.createThread({ id: 'other' });
    const elsewhere = await store.addMessage('other', { role: 'user', content: 'elsewhere' });
    await rejects(() => store.switchBranch('nope', a1), 'NOT_FOUND');
    await rejects(() => store.switchBranch('t', 999_999), 'NOT_FOUND');
    const refused = await rejects(() => store.switchBranch('t', elsewhere.id), 'NOT_FOUND');
    eq(refused.details?.['messageId'], elsewhere.id);
    await rejects(() => store.switchBranch('other', a1), 'NOT_FOUND');
    eq((await store.getThread('t'))?.currentLeafId, a2);
    eq((await store.getThread('other'))?.currentLeafId, elsewhere.id);
  });

  test('switchBranch with a bad threadId, messageId, limit or options is INVALID_ARGUMENT naming it', async ({ makeStore }) => {
    const store = await makeStore();
    const { a1, a2 } = await regeneratedChat(store);
    await invalid(() => store.switchBranch('', a1), 'threadId');
    await invalid(() => store.switchBranch('t', 'a1' as never), 'messageId');
    await invalid(() => store.switchBranch('t', 1.5), 'messageId');
    await invalid(() => store.switchBranch('t', a1, { limit: 0 }), 'options.limit');
    await invalid(() => store.switchBranch('t', a1, 'all' as never), 'options');
    eq((await store.getThread('t'))?.currentLeafId, a2);
  });

  test('subscribe hears switchBranch as a thread change naming the new leaf', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    const { a1, a1b } = await regeneratedChat(store);
    const seen: StoreChange[] = [];
    store.subscribe((change) => (change.kind === 'leader' ? undefined : void seen.push(change)));
    await store.switchBranch('t', a1);
    await until(() => seen.length >= 1, 'the change arrives');
    await sleep(500);
    eq(seen, [{ kind: 'thread', method: 'switchBranch', threadId: 't', id: a1b }]);
  });

  test('watchBranch follows switchBranch to the older answer and its follow-ups', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    const { a1 } = await regeneratedChat(store);
    const seen: BranchMessage[][] = [];
    store.watchBranch('t', (branch) => void seen.push(branch));
    await until(() => seen.length === 1, 'the first delivery');
    await store.switchBranch('t', a1);
    await until(() => seen.length === 2, 'a second delivery');
    eq(contents(seen[1]), ['Q1', 'A1', 'follow-up', 'A1b']);
  });

  test('after close() switchBranch fails with CLOSED', async ({ makeStore }) => {
    const store = await makeStore();
    const { a1 } = await regeneratedChat(store);
    await store.close();
    await rejects(() => store.switchBranch('t', a1), 'CLOSED');
  });
});
