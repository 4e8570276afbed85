import type { BranchMessage, StoreChange, ThreadMetadata } from '../../../src/core/index.js';
import { AssertionError, eq, ok, rejects } from '../assert.js';
import type { ContractStore } from '../harness.js';
import { group } from '../harness.js';
import { invalid, nowSeconds, within } from './fixtures.js';

/**
 * The app layer (createThread, updateThread, addMessage, getBranch, subscribe, watchBranch,
 * watchThreads) and an import under a live writer. Live results arrive at once in Node (a
 * microtask) and per animation frame or buffer flush through the client, so the cases wait for them
 * with `until` and count deliveries only after `settle`.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Longer than anything a host may still deliver: the client's delta buffer flushes every 200 ms. */
const SETTLE_MS = 500;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Lets whatever is pending be delivered. */
const settle = () => sleep(SETTLE_MS);

/** Waits until `condition` holds, or fails naming `what` after `timeoutMs`. */
async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new AssertionError(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

/** A listener that keeps every value it is given. */
function recorder<T>(): { values: T[]; listener: (value: T) => void; last(): T | undefined } {
  const values: T[] = [];
  return { values, listener: (value) => void values.push(value), last: () => values.at(-1) };
}

/**
 * A recorder of the changes writes make. Through the browser client a subscriber also hears a
 * `leader` notice whenever a tab's worker takes the lead, and the first election's notice can reach
 * the page just after openStateStore resolves (it travels on a BroadcastChannel, the open's answer on
 * a MessagePort, with no order between them); the subscribe cases are about writes, so they set it aside.
 */
function writeRecorder(): ReturnType<typeof recorder<StoreChange>> {
  const all = recorder<StoreChange>();
  return { ...all, listener: (change) => (change.kind === 'leader' ? undefined : all.listener(change)) };
}

const ids = (records: ReadonlyArray<{ id: string | number }> | undefined) => (records ?? []).map((r) => r.id);
const contents = (branch: BranchMessage[] | undefined) => (branch ?? []).map((m) => m.content);

/** Fails unless `error` is a StoreError (by name, so revived errors count) with `code`. */
function isStoreError(error: unknown, code: string): void {
  const e = error as { name?: unknown; code?: unknown; message?: unknown } | undefined;
  ok(e?.name === 'StoreError' && e.code === code, `expected StoreError ${code}, got ${String(e?.name)} ${String(e?.code)}: ${String(e?.message)}`);
}

/** A thread t with a user message and an assistant answer; returns their ids. */
async function conversation(store: ContractStore): Promise<{ user: number; answer: number }> {
  await store.createThread({ id: 't' });
  const user = (await store.addMessage('t', { role: 'user', content: 'question' })).id;
  const answer = (await store.addMessage('t', { role: 'assistant', content: 'answer' })).id;
  return { user, answer };
}

group('app layer: createThread', (test) => {
  test('createThread fills the defaults: a UUID, timestamps now, idle, source api, no name', async ({ makeStore }) => {
    const store = await makeStore();
    const before = nowSeconds();
    const t = await store.createThread({});
    const after = nowSeconds();
    ok(UUID.test(t.id), `id is a UUID, got ${t.id}`);
    within(t.createdAt, before, after, 'createdAt');
    within(t.updatedAt, before, after, 'updatedAt');
    eq(
      { ...t, id: '', createdAt: 0, updatedAt: 0 },
      {
        id: '', createdAt: 0, updatedAt: 0, status: 'idle', source: 'api', name: null, preview: '', ephemeral: false, modelProvider: '', cwd: '',
        cliVersion: '', rolloutPath: null, path: null, sandboxPolicy: null, approvalMode: null, archived: false, archivedAt: null, gitSha: null,
        gitBranch: null, gitOriginUrl: null, memoryMode: null, currentLeafId: null,
      },
    );
    eq(await store.getThread(t.id), t, 'the record returned is the one stored');
  });

  test('createThread() with no argument creates a thread, with a new UUID each time', async ({ makeStore }) => {
    const store = await makeStore();
    const a = await store.createThread();
    const b = await store.createThread();
    ok(UUID.test(a.id) && UUID.test(b.id) && a.id !== b.id, `two different UUIDs, got ${a.id} and ${b.id}`);
    eq(ids(await store.listThreads()).sort(), [a.id, b.id].sort());
  });

  test('createThread with a title names the thread, in the database and the session index', async ({ makeStore }) => {
    const store = await makeStore();
    const t = await store.createThread({ title: 'Trip to Lisbon' });
    eq(t.name, 'Trip to Lisbon');
    eq((await store.getThread(t.id))?.name, 'Trip to Lisbon');
    eq(await store.findThreadNameById(t.id), 'Trip to Lisbon');
  });

  test('createThread with a title keeps it when the first user message arrives', async ({ makeStore }) => {
    const store = await makeStore();
    const t = await store.createThread({ title: 'Chosen' });
    await store.addMessage(t.id, { role: 'user', content: 'Something else entirely' });
    eq([(await store.getThread(t.id))?.name, await store.findThreadNameById(t.id)], ['Chosen', 'Chosen']);
  });

  test('createThread with title and name that agree takes them', async ({ makeStore }) => {
    const store = await makeStore();
    eq((await store.createThread({ title: 'Same', name: 'Same' })).name, 'Same');
  });

  test('createThread uses an explicit id and the fields given', async ({ makeStore }) => {
    const store = await makeStore();
    const t = await store.createThread({ id: 'my-id', status: 'running', createdAt: 5, updatedAt: 6, modelProvider: 'openai' });
    eq([t.id, t.status, t.createdAt, t.updatedAt, t.modelProvider, t.source], ['my-id', 'running', 5, 6, 'openai', 'api']);
    eq(await store.getThread('my-id'), t);
  });

  test('createThread on a taken id is CONFLICT and changes nothing, in the database or the session index', async ({ makeStore }) => {
    const store = await makeStore();
    const original = await store.createThread({ id: 't', title: 'Original', status: 'paused' });
    const index = await store.exportSessionIndex();
    const error = await rejects(() => store.createThread({ id: 't', title: 'Other', status: 'running' }), 'CONFLICT');
    eq(error.details?.['threadId'], 't', 'details.threadId');
    eq(await store.getThread('t'), original, 'the original thread');
    eq(await store.findThreadNameById('t'), 'Original', 'the name in the index');
    eq(await store.exportSessionIndex(), index, 'no line was appended to the index');
    eq((await store.listThreads()).length, 1);
  });

  test('createThread with a title and a name that differ is INVALID_ARGUMENT and creates nothing', async ({ makeStore }) => {
    const store = await makeStore();
    await invalid(() => store.createThread({ title: 'One', name: 'Another' }), 'input.title');
    eq(await store.listThreads(), []);
  });

  test('createThread with a field of the wrong type is INVALID_ARGUMENT naming the field, and creates nothing', async ({ makeStore }) => {
    const store = await makeStore();
    await invalid(() => store.createThread({ status: 'sleeping' as 'idle' }), 'input.status');
    await invalid(() => store.createThread({ createdAt: 'yesterday' as unknown as number }), 'input.createdAt');
    await invalid(() => store.createThread({ ephemeral: 'yes' as unknown as boolean }), 'input.ephemeral');
    await invalid(() => store.createThread({ id: '' }), 'input.id');
    await invalid(() => store.createThread({ title: 7 as unknown as string }), 'input.title');
    eq(await store.listThreads(), []);
  });

  test('createThread with an unknown field, or currentLeafId, is INVALID_ARGUMENT naming it', async ({ makeStore }) => {
    const store = await makeStore();
    await invalid(() => store.createThread({ colour: 'blue' } as never), 'input.colour');
    await invalid(() => store.createThread({ currentLeafId: 1 } as never), 'input.currentLeafId');
    eq(await store.listThreads(), []);
  });

  test('createThread with an input that is not an object is INVALID_ARGUMENT', async ({ makeStore }) => {
    const store = await makeStore();
    await invalid(() => store.createThread('t' as never), 'input');
    await invalid(() => store.createThread(null as never), 'input');
    eq(await store.listThreads(), []);
  });
});

group('app layer: updateThread', (test) => {
  test('updateThread changes only the fields given and returns the updated thread', async ({ makeStore }) => {
    const store = await makeStore();
    const before = await store.createThread({ id: 't', title: 'Name', preview: 'p', cwd: '/a', createdAt: 5, updatedAt: 6 });
    const after = await store.updateThread('t', { status: 'running', gitBranch: 'main' });
    eq(after, { ...before, status: 'running', gitBranch: 'main' });
    eq(await store.getThread('t'), after, 'as stored');
  });

  test('updateThread with a new title or name writes it to the session index', async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 't', title: 'First' });
    eq((await store.updateThread('t', { title: 'Second' })).name, 'Second');
    eq(await store.findThreadNameById('t'), 'Second', 'renamed by title');
    eq((await store.updateThread('t', { name: 'Third' })).name, 'Third');
    eq(await store.findThreadNameById('t'), 'Third', 'renamed by name');
  });

  test('updateThread leaves the messages and the current leaf alone', async ({ makeStore }) => {
    const store = await makeStore();
    const { answer } = await conversation(store);
    const branch = await store.getBranch('t');
    const updated = await store.updateThread('t', { preview: 'changed' });
    eq(updated.currentLeafId, answer);
    eq(await store.getBranch('t'), branch);
  });

  test('updateThread of a missing thread is NOT_FOUND and creates nothing', async ({ makeStore }) => {
    const store = await makeStore();
    await rejects(() => store.updateThread('nope', { preview: 'x' }), 'NOT_FOUND');
    eq(await store.listThreads(), []);
  });

  test('updateThread with an empty id is INVALID_ARGUMENT', async ({ makeStore }) => {
    const store = await makeStore();
    await invalid(() => store.updateThread('', { preview: 'x' }), 'id');
  });

  test('updateThread with a field of the wrong type is INVALID_ARGUMENT naming it, and changes nothing', async ({ makeStore }) => {
    const store = await makeStore();
    const before = await store.createThread({ id: 't', title: 'Kept' });
    await invalid(() => store.updateThread('t', { preview: 'changed', status: 'sleeping' as 'idle' }), 'patch.status');
    await invalid(() => store.updateThread('t', { title: 'Changed', archived: 'no' as unknown as boolean }), 'patch.archived');
    eq(await store.getThread('t'), before);
    eq(await store.findThreadNameById('t'), 'Kept');
  });

  test('updateThread with id or currentLeafId in the patch is INVALID_ARGUMENT, and changes nothing', async ({ makeStore }) => {
    const store = await makeStore();
    const { user } = await conversation(store);
    const before = await store.getThread('t');
    await invalid(() => store.updateThread('t', { id: 'other', preview: 'x' } as never), 'patch.id');
    await invalid(() => store.updateThread('t', { currentLeafId: user, preview: 'x' } as never), 'patch.currentLeafId');
    eq(await store.getThread('t'), before);
    eq(await store.getThread('other'), null);
  });

  test('updateThread with an unknown field, or a patch that is not an object, is INVALID_ARGUMENT', async ({ makeStore }) => {
    const store = await makeStore();
    const before = await store.createThread({ id: 't' });
    await invalid(() => store.updateThread('t', { colour: 'blue' } as never), 'patch.colour');
    await invalid(() => store.updateThread('t', 'x' as never), 'patch');
    eq(await store.getThread('t'), before);
  });
});

group('app layer: addMessage', (test) => {
  test('addMessage returns the full record of the message it stored', async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 't' });
    const before = nowSeconds();
    const m = await store.addMessage('t', { role: 'assistant', content: 'hello', item: { tool: 'x', args: [1, 2] } });
    within(m.createdAt, before, nowSeconds(), 'createdAt');
    ok(Number.isInteger(m.id) && m.id > 0, `id is a positive integer, got ${m.id}`);
    eq(m, { id: m.id, threadId: 't', role: 'assistant', content: 'hello', item: { tool: 'x', args: [1, 2] }, createdAt: m.createdAt, parentEntryId: null });
    eq(await store.listThreadMessages('t'), [m], 'as stored');
  });

  test('addMessage without parentId answers the current leaf and becomes the leaf', async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 't' });
    const a = await store.addMessage('t', { role: 'user', content: 'a' });
    const b = await store.addMessage('t', { role: 'assistant', content: 'b' });
    eq(b.parentEntryId, a.id);
    eq((await store.getThread('t'))?.currentLeafId, b.id);
    eq(ids(await store.listMessages('t')), [a.id, b.id]);
  });

  test('addMessage moves the thread updatedAt to now, so an older thread with a new message comes first', async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 'old', createdAt: 100, updatedAt: 100 });
    await store.createThread({ id: 'new', createdAt: 200, updatedAt: 200 });
    eq(ids(await store.listThreads()), ['new', 'old']);
    const before = nowSeconds();
    await store.addMessage('old', { role: 'user', content: 'hi' });
    within((await store.getThread('old'))?.updatedAt, before, nowSeconds(), 'updatedAt');
    eq(ids(await store.listThreads()), ['old', 'new']);
  });

  test('addMessage with parentId of an earlier message forks: a sibling, and the leaf moves to it', async ({ makeStore }) => {
    const store = await makeStore();
    const { user, answer } = await conversation(store);
    const regenerated = await store.addMessage('t', { role: 'assistant', content: 'another answer', parentId: user });
    eq(regenerated.parentEntryId, user);
    eq((await store.getThread('t'))?.currentLeafId, regenerated.id);
    eq(ids(await store.listMessages('t')), [user, regenerated.id], 'the current branch');
    eq(ids(await store.listThreadMessages('t')), [user, answer, regenerated.id], 'the old answer is kept');
  });

  test('addMessage with parentId null starts a new root and makes it the leaf', async ({ makeStore }) => {
    const store = await makeStore();
    const { user, answer } = await conversation(store);
    const root = await store.addMessage('t', { role: 'user', content: 'edited question', parentId: null });
    eq(root.parentEntryId, null);
    eq(ids(await store.listMessages('t')), [root.id]);
    eq(ids(await store.listThreadMessages('t')), [user, answer, root.id]);
  });

  test('addMessage with a parent in another thread is INVALID_ARGUMENT and writes nothing', async ({ makeStore }) => {
    const store = await makeStore();
    const { answer } = await conversation(store);
    await store.createThread({ id: 'other', createdAt: 100, updatedAt: 100 });
    const foreign = await store.addMessage('other', { role: 'user', content: 'elsewhere' });
    await store.updateThread('other', { updatedAt: 100 });
    const before = await store.getThread('other');
    const error = await rejects(() => store.addMessage('other', { role: 'assistant', content: 'x', parentId: answer }), 'INVALID_ARGUMENT');
    eq(error.details?.['field'], 'message.parentId');
    eq(await store.getThread('other'), before, 'leaf and updatedAt unchanged');
    eq(ids(await store.listThreadMessages('other')), [foreign.id], 'no message in the thread');
    eq((await store.listThreadMessages('t')).length, 2, 'no message in the parent thread');
  });

  test('addMessage with a missing parent is NOT_FOUND and writes nothing', async ({ makeStore }) => {
    const store = await makeStore();
    const { answer } = await conversation(store);
    await rejects(() => store.addMessage('t', { role: 'assistant', content: 'x', parentId: 99999 }), 'NOT_FOUND');
    eq((await store.listThreadMessages('t')).length, 2);
    eq((await store.getThread('t'))?.currentLeafId, answer);
  });

  test('addMessage with a role other than user, assistant, system or tool is INVALID_ARGUMENT', async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 't' });
    await invalid(() => store.addMessage('t', { role: 'robot' as 'user', content: 'beep' }), 'message.role');
    for (const role of ['user', 'assistant', 'system', 'tool'] as const) await store.addMessage('t', { role, content: role });
    eq(contents(await store.getBranch('t')), ['user', 'assistant', 'system', 'tool']);
  });

  test('addMessage with a bad threadId, message, content, item or parentId is INVALID_ARGUMENT naming it, and writes nothing', async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 't' });
    await invalid(() => store.addMessage('t', { role: 'user', content: 5 as unknown as string }), 'message.content');
    await invalid(() => store.addMessage('t', { role: 'user', content: 'x', item: { f: () => 1 } }), 'message.item.f');
    await invalid(() => store.addMessage('t', { role: 'user', content: 'x', parentId: 'one' as unknown as number }), 'message.parentId');
    await invalid(() => store.addMessage('t', 'hello' as never), 'message');
    await invalid(() => store.addMessage('', { role: 'user', content: 'x' }), 'threadId');
    eq(await store.listThreadMessages('t'), []);
  });

  test('addMessage to a missing thread is NOT_FOUND and creates nothing', async ({ makeStore }) => {
    const store = await makeStore();
    await rejects(() => store.addMessage('nope', { role: 'user', content: 'hi' }), 'NOT_FOUND');
    eq(await store.listThreads(), []);
  });

  test('addMessage names an unnamed thread after its first user message', async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 't' });
    await store.addMessage('t', { role: 'system', content: 'You are helpful.' });
    eq(await store.findThreadNameById('t'), null, 'not by a system message');
    await store.addMessage('t', { role: 'user', content: 'Plan a trip to Lisbon' });
    await store.addMessage('t', { role: 'user', content: 'Make it Porto' });
    eq([(await store.getThread('t'))?.name, await store.findThreadNameById('t')], ['Plan a trip to Lisbon', 'Plan a trip to Lisbon']);
  });
});

group('app layer: beginMessage with a parent', (test) => {
  test('beginMessage with parentId streams a sibling answer in one call: the old answer is kept, the new one is the leaf', async ({ makeStore }) => {
    const store = await makeStore();
    const { user, answer } = await conversation(store);
    const again = await store.beginMessage('t', 'assistant', null, { parentId: user });
    await store.appendMessageDelta(again, 'a better answer');
    await store.finishMessage(again);
    eq((await store.getThread('t'))?.currentLeafId, again);
    const branch = await store.getBranch('t');
    eq(branch.map((m) => [m.id, m.content, m.status]), [[user, 'question', 'complete'], [again, 'a better answer', 'complete']]);
    eq(branch[1]?.siblings, { index: 1, count: 2, ids: [answer, again] });
  });

  test('beginMessage with parentId null starts a new streamed root', async ({ makeStore }) => {
    const store = await makeStore();
    const { user, answer } = await conversation(store);
    const root = await store.beginMessage('t', 'user', null, { parentId: null });
    eq(ids(await store.listMessages('t')), [root]);
    eq(ids(await store.listThreadMessages('t')), [user, answer, root]);
  });

  test('beginMessage with a parent of another thread, a missing parent or a bad parentId writes nothing', async ({ makeStore }) => {
    const store = await makeStore();
    const { answer } = await conversation(store);
    await store.createThread({ id: 'other' });
    const foreign = await store.addMessage('other', { role: 'user', content: 'elsewhere' });
    const error = await rejects(() => store.beginMessage('t', 'assistant', null, { parentId: foreign.id }), 'INVALID_ARGUMENT');
    eq(error.details?.['field'], 'options.parentId');
    await rejects(() => store.beginMessage('t', 'assistant', null, { parentId: 99999 }), 'NOT_FOUND');
    await invalid(() => store.beginMessage('t', 'assistant', null, { parentId: 'x' as unknown as number }), 'options.parentId');
    await invalid(() => store.beginMessage('t', 'assistant', null, 7 as unknown as { parentId: number }), 'options');
    eq((await store.listThreadMessages('t')).length, 2, 'nothing added');
    eq((await store.getThread('t'))?.currentLeafId, answer, 'the leaf stays');
  });
});

group('app layer: updateMessage', (test) => {
  test('updateMessage changes content and item in place: same id, parent and place, no sibling, and returns the record', async ({ makeStore }) => {
    const store = await makeStore();
    const { user, answer } = await conversation(store);
    const before = await store.getBranch('t');
    const updated = await store.updateMessage(answer, { content: 'answer, with the tool result', item: { tool: { state: 'output-available', output: 21 } } });
    eq(updated, {
      id: answer, threadId: 't', role: 'assistant', content: 'answer, with the tool result', item: { tool: { state: 'output-available', output: 21 } },
      createdAt: before[1]!.createdAt, parentEntryId: user,
    });
    const after = await store.getBranch('t');
    eq(after.map((m) => [m.id, m.parentEntryId, m.content, m.siblings.count]), [[user, null, 'question', 1], [answer, user, 'answer, with the tool result', 1]]);
    eq((await store.listThreadMessages('t')).length, 2, 'no message was added');
    eq((await store.getThread('t'))?.currentLeafId, answer, 'the leaf stays');
  });

  test('updateMessage changes only the fields given; item null clears the item', async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 't' });
    const m = await store.addMessage('t', { role: 'assistant', content: 'text', item: { a: 1 } });
    eq((await store.updateMessage(m.id, { content: 'new text' })).item, { a: 1 }, 'item kept');
    eq((await store.updateMessage(m.id, { item: { b: 2 } })).content, 'new text', 'content kept');
    const cleared = await store.updateMessage(m.id, { item: null });
    eq([cleared.content, cleared.item], ['new text', null]);
    eq((await store.updateMessage(m.id, {})).content, 'new text', 'an empty patch changes nothing');
  });

  test('updateMessage of a message on another branch leaves the current branch alone', async ({ makeStore }) => {
    const store = await makeStore();
    const { user, answer } = await conversation(store);
    const second = await store.addMessage('t', { role: 'assistant', content: 'second answer', parentId: user });
    await store.updateMessage(answer, { content: 'first answer, edited' });
    eq(contents(await store.getBranch('t')), ['question', 'second answer']);
    eq((await store.getThread('t'))?.currentLeafId, second.id);
    await store.setCurrentLeafId('t', answer);
    eq(contents(await store.getBranch('t')), ['question', 'first answer, edited']);
  });

  test('updateMessage moves the thread updatedAt to now', async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 't', createdAt: 5, updatedAt: 5 });
    const m = await store.addMessage('t', { role: 'user', content: 'hi' });
    await store.updateThread('t', { updatedAt: 5 });
    const before = nowSeconds();
    await store.updateMessage(m.id, { content: 'hello' });
    within((await store.getThread('t'))?.updatedAt, before, nowSeconds(), 'updatedAt');
  });

  test('updateMessage re-indexes the text: search finds the new words, not the old', async ({ makeStore }) => {
    const store = await makeStore();
    const { answer } = await conversation(store);
    await store.updateMessage(answer, { content: 'Porto has azulejos' });
    eq((await store.searchMessages('azulejos')).map((h) => h.messageId), [answer]);
    eq(await store.searchMessages('answer'), []);
  });

  test('updateMessage of a streaming message is CONFLICT and changes nothing; once finished it works', async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 't' });
    const id = await store.beginMessage('t', 'assistant', { step: 1 });
    await store.appendMessageDelta(id, 'partial');
    const error = await rejects(() => store.updateMessage(id, { content: 'other' }), 'CONFLICT');
    eq(error.details?.['messageId'], id);
    await store.finishMessage(id);
    eq([(await store.getBranch('t'))[0]?.content, (await store.getBranch('t'))[0]?.item], ['partial', { step: 1 }]);
    eq((await store.updateMessage(id, { content: 'final' })).content, 'final');
    eq(await store.getMessageStatus(id), 'complete', 'the status stays');
  });

  test('updateMessage of a missing message is NOT_FOUND', async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 't' });
    await rejects(() => store.updateMessage(999, { content: 'x' }), 'NOT_FOUND');
  });

  test('updateMessage with a bad id, patch, content, item or an unknown field is INVALID_ARGUMENT naming it, and changes nothing', async ({ makeStore }) => {
    const store = await makeStore();
    const { answer } = await conversation(store);
    const before = await store.listThreadMessages('t');
    await invalid(() => store.updateMessage('1' as unknown as number, { content: 'x' }), 'messageId');
    await invalid(() => store.updateMessage(answer, 'x' as never), 'patch');
    await invalid(() => store.updateMessage(answer, { content: 5 as unknown as string }), 'patch.content');
    await invalid(() => store.updateMessage(answer, { content: 'ok', item: { f: () => 1 } }), 'patch.item.f');
    await invalid(() => store.updateMessage(answer, { content: 'ok', role: 'user' } as never), 'patch.role');
    await invalid(() => store.updateMessage(answer, { content: 'a\uD800' }), 'patch.content');
    eq(await store.listThreadMessages('t'), before);
  });

  test('subscribe hears updateMessage as a message change of its thread', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    const { answer } = await conversation(store);
    const seen = writeRecorder();
    store.subscribe(seen.listener);
    await store.updateMessage(answer, { content: 'changed' });
    await until(() => seen.values.length === 1, 'the change');
    eq(seen.values, [{ kind: 'message', method: 'updateMessage', threadId: 't', id: answer }]);
  });

  test('watchBranch delivers again after updateMessage, with the new content', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    const { answer } = await conversation(store);
    const seen = recorder<BranchMessage[]>();
    store.watchBranch('t', seen.listener);
    await until(() => seen.values.length === 1, 'the first delivery');
    await store.updateMessage(answer, { content: 'answer, updated' });
    await until(() => seen.values.length === 2, 'a second delivery');
    eq(contents(seen.last()), ['question', 'answer, updated']);
    eq(seen.last(), await store.getBranch('t'));
  });
});

group('app layer: getBranch', (test) => {
  test('getBranch gives each message its status: streaming while open, then complete, failed or cancelled', async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 't' });
    await store.addMessage('t', { role: 'user', content: 'q' });
    const failed = await store.beginMessage('t', 'assistant');
    eq((await store.getBranch('t')).map((m) => m.status), ['complete', 'streaming']);
    await store.finishMessage(failed, { status: 'failed' });
    const cancelled = await store.beginMessage('t', 'assistant');
    await store.finishMessage(cancelled, { status: 'cancelled' });
    const complete = await store.beginMessage('t', 'assistant');
    await store.appendMessageDelta(complete, 'done');
    await store.finishMessage(complete);
    eq((await store.getBranch('t')).map((m) => [m.status, m.content]), [['complete', 'q'], ['failed', ''], ['cancelled', ''], ['complete', 'done']]);
  });

  test('getBranch gives the records of listMessages, oldest first', async ({ makeStore }) => {
    const store = await makeStore();
    await conversation(store);
    const branch = await store.getBranch('t');
    eq(branch.map(({ status: _s, siblings: _p, ...record }) => record), await store.listMessages('t'));
  });

  test('a message without siblings is 1 of 1', async ({ makeStore }) => {
    const store = await makeStore();
    const { user, answer } = await conversation(store);
    eq((await store.getBranch('t')).map((m) => m.siblings), [{ index: 0, count: 1, ids: [user] }, { index: 0, count: 1, ids: [answer] }]);
  });

  test('regenerating twice gives three siblings, and the index follows setCurrentLeafId', async ({ makeStore }) => {
    const store = await makeStore();
    const { user, answer } = await conversation(store);
    const second = await store.addMessage('t', { role: 'assistant', content: 'second', parentId: user });
    const third = await store.addMessage('t', { role: 'assistant', content: 'third', parentId: user });
    const all = [answer, second.id, third.id];
    eq((await store.getBranch('t')).map((m) => m.siblings), [{ index: 0, count: 1, ids: [user] }, { index: 2, count: 3, ids: all }]);
    await store.setCurrentLeafId('t', answer);
    eq((await store.getBranch('t'))[1]?.siblings, { index: 0, count: 3, ids: all });
    await store.setCurrentLeafId('t', second.id);
    eq((await store.getBranch('t'))[1]?.siblings, { index: 1, count: 3, ids: all });
  });

  test('roots are siblings of each other', async ({ makeStore }) => {
    const store = await makeStore();
    const { user } = await conversation(store);
    const edited = await store.addMessage('t', { role: 'user', content: 'edited', parentId: null });
    eq((await store.getBranch('t')).map((m) => m.siblings), [{ index: 1, count: 2, ids: [user, edited.id] }]);
    await store.setCurrentLeafId('t', user);
    eq((await store.getBranch('t'))[0]?.siblings, { index: 0, count: 2, ids: [user, edited.id] });
  });

  test('getBranch with a limit gives the messages nearest the leaf, with their siblings', async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 't' });
    const made: number[] = [];
    for (let i = 0; i < 5; i++) made.push((await store.addMessage('t', { role: 'user', content: `m${i}` })).id);
    const fork = await store.addMessage('t', { role: 'user', content: 'm4b', parentId: made[3]! });
    const branch = await store.getBranch('t', { limit: 2 });
    eq(contents(branch), ['m3', 'm4b']);
    eq(branch[1]?.siblings, { index: 1, count: 2, ids: [made[4]!, fork.id] });
  });

  test('getBranch with a limit that is not a positive integer, or options that are not an object, is INVALID_ARGUMENT', async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 't' });
    await invalid(() => store.getBranch('t', { limit: 0 }), 'options.limit');
    await invalid(() => store.getBranch('t', { limit: 1.5 }), 'options.limit');
    await invalid(() => store.getBranch('t', 'all' as never), 'options');
  });

  test('getBranch of a missing thread is NOT_FOUND', async ({ makeStore }) => {
    const store = await makeStore();
    await rejects(() => store.getBranch('nope'), 'NOT_FOUND');
  });

  test('getBranch with an empty threadId is INVALID_ARGUMENT', async ({ makeStore }) => {
    const store = await makeStore();
    await invalid(() => store.getBranch(''), 'threadId');
  });

  test('getBranch of a thread without messages is []', async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 't' });
    eq(await store.getBranch('t'), []);
  });
});

group('app layer: subscribe', (test) => {
  test('subscribe hears every write with its kind, method, thread and id', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    const seen = writeRecorder();
    store.subscribe(seen.listener);
    await store.createThread({ id: 't' });
    const m = await store.addMessage('t', { role: 'user', content: 'hi' });
    await store.updateThread('t', { preview: 'p' });
    const s = await store.beginMessage('t', 'assistant');
    await store.appendMessageDelta(s, 'text');
    await store.finishMessage(s);
    await store.saveCheckpoint('t', 'cp', {});
    const expected: StoreChange[] = [
      { kind: 'thread', method: 'createThread', threadId: 't', id: 't' },
      { kind: 'message', method: 'addMessage', threadId: 't', id: m.id },
      { kind: 'thread', method: 'updateThread', threadId: 't', id: 't' },
      { kind: 'message', method: 'beginMessage', threadId: 't', id: s },
      { kind: 'message', method: 'appendMessageDelta', threadId: 't', id: s },
      { kind: 'message', method: 'finishMessage', threadId: 't', id: s },
      { kind: 'checkpoint', method: 'saveCheckpoint', threadId: 't', id: 'cp' },
    ];
    await until(() => seen.values.length >= expected.length, `${expected.length} changes arrive`);
    await settle();
    eq(seen.values, expected);
  });

  test('subscribe hears nothing of reads or failed writes', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 't' });
    const seen = writeRecorder();
    store.subscribe(seen.listener);
    await store.getBranch('t');
    await store.listThreads();
    await rejects(() => store.addMessage('t', { role: 'robot' as 'user', content: 'x' }), 'INVALID_ARGUMENT');
    await rejects(() => store.createThread({ id: 't' }), 'CONFLICT');
    await rejects(() => store.updateThread('nope', {}), 'NOT_FOUND');
    await store.createThread({ id: 'marker' });
    await until(() => seen.values.length >= 1, 'the marker arrives');
    await settle();
    eq(seen.values, [{ kind: 'thread', method: 'createThread', threadId: 'marker', id: 'marker' }]);
  });

  test('after unsubscribing, the listener hears nothing', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    const gone = writeRecorder();
    const kept = writeRecorder();
    const stop = store.subscribe(gone.listener);
    store.subscribe(kept.listener);
    stop();
    stop();
    await store.createThread({ id: 't' });
    await until(() => kept.values.length === 1, 'the other listener hears the write');
    await settle();
    eq(gone.values, []);
  });

  test('a listener that throws does not stop the other listeners or fail the write', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    store.subscribe(() => {
      throw new Error('a broken listener');
    });
    const seen = writeRecorder();
    store.subscribe(seen.listener);
    await store.createThread({ id: 't' });
    await store.createThread({ id: 'u' });
    await until(() => seen.values.length === 2, 'both writes are heard');
    eq(seen.values.map((c) => c.threadId), ['t', 'u']);
  });

  test('subscribe with a listener that is not a function is INVALID_ARGUMENT', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    await invalid(() => store.subscribe('listener' as never), 'listener');
  });
});

group('app layer: watchBranch', (test) => {
  test('watchBranch delivers the current branch at once, equal to getBranch', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    await conversation(store);
    const seen = recorder<BranchMessage[]>();
    store.watchBranch('t', seen.listener);
    await until(() => seen.values.length >= 1, 'the first delivery');
    await settle();
    eq(seen.values, [await store.getBranch('t')]);
  });

  test('watchBranch delivers again after addMessage', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    await conversation(store);
    const seen = recorder<BranchMessage[]>();
    store.watchBranch('t', seen.listener);
    await until(() => seen.values.length === 1, 'the first delivery');
    await store.addMessage('t', { role: 'user', content: 'follow-up' });
    await until(() => seen.values.length === 2, 'a second delivery');
    eq(seen.last(), await store.getBranch('t'));
    eq(contents(seen.last()), ['question', 'answer', 'follow-up']);
  });

  test('watchBranch follows setCurrentLeafId to another branch', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    const { user, answer } = await conversation(store);
    await store.addMessage('t', { role: 'assistant', content: 'regenerated', parentId: user });
    const seen = recorder<BranchMessage[]>();
    store.watchBranch('t', seen.listener);
    await until(() => seen.values.length === 1, 'the first delivery');
    await store.setCurrentLeafId('t', answer);
    await until(() => seen.values.length === 2, 'a second delivery');
    eq(contents(seen.last()), ['question', 'answer']);
    eq(seen.last()?.[1]?.siblings.index, 0);
  });

  test('watchBranch does not deliver for writes to another thread', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    await conversation(store);
    await store.createThread({ id: 'other' });
    const seen = recorder<BranchMessage[]>();
    store.watchBranch('t', seen.listener);
    await until(() => seen.values.length === 1, 'the first delivery');
    await store.addMessage('other', { role: 'user', content: 'elsewhere' });
    await store.updateThread('other', { preview: 'changed' });
    await settle();
    eq(seen.values.length, 1, 'deliveries after writes to another thread');
    await store.addMessage('t', { role: 'user', content: 'here' });
    await until(() => seen.values.length === 2, 'a write to the thread is still delivered');
  });

  test('watchBranch does not deliver when a change to its thread leaves the branch as it was', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    await conversation(store);
    const seen = recorder<BranchMessage[]>();
    store.watchBranch('t', seen.listener);
    await until(() => seen.values.length === 1, 'the first delivery');
    // Both are changes of thread t that the live query re-reads; neither alters the branch.
    await store.updateThread('t', { preview: 'changed', status: 'running' });
    await store.appendThreadName('t', 'A name', 1, null);
    await settle();
    eq(seen.values.length, 1, 'deliveries after changes that leave the branch as it was');
    await store.addMessage('t', { role: 'user', content: 'here' });
    await until(() => seen.values.length === 2, 'a change of the branch is still delivered');
  });

  test('a burst of 200 deltas gives far fewer deliveries than deltas, and the last one has the whole text', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    await conversation(store);
    const id = await store.beginMessage('t', 'assistant');
    const seen = recorder<BranchMessage[]>();
    store.watchBranch('t', seen.listener);
    await until(() => seen.values.length === 1, 'the first delivery');
    const parts = Array.from({ length: 200 }, (_, i) => `w${i} `);
    await Promise.all(parts.map((p) => store.appendMessageDelta(id, p)));
    const whole = parts.join('');
    await until(() => seen.last()?.at(-1)?.content === whole, 'the whole text is delivered');
    await settle();
    const deliveries = seen.values.length - 1;
    ok(deliveries >= 1 && deliveries <= 10, `200 deltas gave ${deliveries} deliveries; expected 1 to 10`);
    eq(seen.last()?.at(-1)?.status, 'streaming');
    await store.finishMessage(id);
    await until(() => seen.last()?.at(-1)?.status === 'complete', 'the finish is delivered');
    eq(seen.last()?.at(-1)?.content, whole);
  });

  test('after unsubscribing, watchBranch delivers nothing more', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    await conversation(store);
    const seen = recorder<BranchMessage[]>();
    const stop = store.watchBranch('t', seen.listener);
    await until(() => seen.values.length === 1, 'the first delivery');
    stop();
    stop();
    await store.addMessage('t', { role: 'user', content: 'unheard' });
    await settle();
    eq(seen.values.length, 1);
  });

  test('watchBranch re-delivers after an import replaces the database', { requires: ['listeners', 'exportImport'] }, async ({ makeStore }) => {
    const store = await makeStore();
    await conversation(store);
    const image = await store.exportDatabase();
    await store.addMessage('t', { role: 'user', content: 'after the export' });
    const seen = recorder<BranchMessage[]>();
    store.watchBranch('t', seen.listener);
    await until(() => seen.values.length === 1, 'the first delivery');
    await store.importDatabase(image);
    await until(() => seen.values.length === 2, 'a delivery after the import');
    eq(contents(seen.last()), ['question', 'answer']);
  });

  test('a failed re-query goes to onError: deleting the watched thread gives NOT_FOUND', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    await conversation(store);
    const seen = recorder<BranchMessage[]>();
    const errors: Error[] = [];
    store.watchBranch('t', seen.listener, { onError: (e) => errors.push(e) });
    await until(() => seen.values.length === 1, 'the first delivery');
    await store.deleteThread('t');
    await until(() => errors.length >= 1, 'onError is called');
    await settle();
    eq(errors.length, 1, 'onError calls');
    isStoreError(errors[0], 'NOT_FOUND');
    eq(seen.values.length, 1, 'the listener keeps its last result');
  });

  test('watchBranch of a missing thread reports NOT_FOUND to onError and delivers nothing', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    const seen = recorder<BranchMessage[]>();
    const errors: Error[] = [];
    store.watchBranch('nope', seen.listener, { onError: (e) => errors.push(e) });
    await until(() => errors.length === 1, 'onError is called');
    isStoreError(errors[0], 'NOT_FOUND');
    eq(seen.values, []);
  });

  test('a listener that throws goes to onError, and the live query keeps delivering', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    await conversation(store);
    const seen: number[] = [];
    const errors: Error[] = [];
    store.watchBranch(
      't',
      (branch) => {
        seen.push(branch.length);
        if (branch.length === 2) throw new Error('the listener broke');
      },
      { onError: (e) => errors.push(e) },
    );
    await until(() => seen.length === 1, 'the first delivery');
    await until(() => errors.length === 1, 'the listener error goes to onError');
    eq(errors[0]?.message, 'the listener broke');
    await store.addMessage('t', { role: 'user', content: 'more' });
    await until(() => seen.length === 2, 'the next change is still delivered');
    eq(seen, [2, 3]);
  });

  test('watchBranch with a listener, onError or threadId that is not valid is INVALID_ARGUMENT', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 't' });
    await invalid(() => store.watchBranch('t', 'listener' as never), 'listener');
    await invalid(() => store.watchBranch('t', () => {}, { onError: 'log' as never }), 'options.onError');
    await invalid(() => store.watchBranch('t', () => {}, 'options' as never), 'options');
    await invalid(() => store.watchBranch('', () => {}), 'threadId');
  });
});

group('app layer: watchThreads', (test) => {
  test('watchThreads delivers the thread list at once, equal to listThreads', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 'a', updatedAt: 100 });
    await store.createThread({ id: 'b', updatedAt: 200 });
    const seen = recorder<ThreadMetadata[]>();
    store.watchThreads(undefined, seen.listener);
    await until(() => seen.values.length >= 1, 'the first delivery');
    await settle();
    eq(seen.values, [await store.listThreads()]);
    eq(ids(seen.last()), ['b', 'a']);
  });

  test('watchThreads reorders when a message is added to an older thread', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 'old', createdAt: 100, updatedAt: 100 });
    await store.createThread({ id: 'new', createdAt: 200, updatedAt: 200 });
    const seen = recorder<ThreadMetadata[]>();
    store.watchThreads(undefined, seen.listener);
    await until(() => seen.values.length === 1, 'the first delivery');
    await store.addMessage('old', { role: 'user', content: 'hello again' });
    await until(() => seen.values.length >= 2 && ids(seen.last())[0] === 'old', 'the old thread comes first');
    eq(ids(seen.last()), ['old', 'new']);
    eq(seen.last()?.[0]?.name, 'hello again', 'and is named by its first user message');
  });

  test('watchThreads delivers a created thread and a rename', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    const seen = recorder<ThreadMetadata[]>();
    store.watchThreads(undefined, seen.listener);
    await until(() => seen.values.length === 1, 'the first delivery');
    eq(seen.last(), []);
    await store.createThread({ id: 't', title: 'One' });
    await until(() => seen.values.length === 2, 'the created thread');
    await store.updateThread('t', { title: 'Two' });
    await until(() => seen.values.length === 3, 'the rename');
    eq(seen.last()?.map((t) => t.name), ['Two']);
  });

  test('watchThreads does not deliver when a change leaves the list as it was', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 'a', updatedAt: 100 });
    await store.createThread({ id: 'b', updatedAt: 200 });
    const seen = recorder<ThreadMetadata[]>();
    store.watchThreads({ limit: 1 }, seen.listener);
    await until(() => seen.values.length === 1, 'the first delivery');
    eq(ids(seen.last()), ['b']);
    // A change of a thread the list leaves out: the live query re-reads, and the result is the same.
    await store.updateThread('a', { preview: 'changed' });
    await settle();
    eq(seen.values.length, 1, 'deliveries after a change outside the list');
    await store.updateThread('b', { preview: 'changed' });
    await until(() => seen.values.length === 2, 'a change inside the list is still delivered');
  });

  test('streamed deltas do not re-deliver the thread list', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 't' });
    const id = await store.beginMessage('t', 'assistant');
    const seen = recorder<ThreadMetadata[]>();
    store.watchThreads(undefined, seen.listener);
    await until(() => seen.values.length === 1, 'the first delivery');
    for (let i = 0; i < 20; i++) await store.appendMessageDelta(id, `part ${i} `);
    await settle();
    eq(seen.values.length, 1);
  });

  test('watchThreads honours includeArchived and limit', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 'a', updatedAt: 100 });
    await store.createThread({ id: 'b', updatedAt: 200, archived: true });
    await store.createThread({ id: 'c', updatedAt: 300 });
    const plain = recorder<ThreadMetadata[]>();
    const archived = recorder<ThreadMetadata[]>();
    const limited = recorder<ThreadMetadata[]>();
    store.watchThreads(undefined, plain.listener);
    store.watchThreads({ includeArchived: true }, archived.listener);
    store.watchThreads({ limit: 1 }, limited.listener);
    await until(() => plain.values.length === 1 && archived.values.length === 1 && limited.values.length === 1, 'three first deliveries');
    eq([ids(plain.last()), ids(archived.last()), ids(limited.last())], [['c', 'a'], ['c', 'b', 'a'], ['c']]);
  });

  test('after unsubscribing, watchThreads delivers nothing more', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    const seen = recorder<ThreadMetadata[]>();
    const stop = store.watchThreads(undefined, seen.listener);
    await until(() => seen.values.length === 1, 'the first delivery');
    stop();
    await store.createThread({ id: 't' });
    await settle();
    eq(seen.values.length, 1);
  });

  test('watchThreads with a listener or options that are not valid is INVALID_ARGUMENT', { requires: ['listeners'] }, async ({ makeStore }) => {
    const store = await makeStore();
    await invalid(() => store.watchThreads(undefined, 'listener' as never), 'listener');
    await invalid(() => store.watchThreads('all' as never, () => {}), 'options');
    await invalid(() => store.watchThreads({ onError: 1 as never }, () => {}), 'options.onError');
  });
});

group('app layer: closed store', (test) => {
  test('after close() the app layer fails with CLOSED, the live methods included', async ({ makeStore }) => {
    const store = await makeStore();
    await conversation(store);
    await store.close();
    await rejects(() => store.createThread(), 'CLOSED');
    await rejects(() => store.updateThread('t', { preview: 'x' }), 'CLOSED');
    await rejects(() => store.addMessage('t', { role: 'user', content: 'x' }), 'CLOSED');
    await rejects(() => store.getBranch('t'), 'CLOSED');
    await rejects(() => store.subscribe(() => {}), 'CLOSED');
    await rejects(() => store.watchBranch('t', () => {}), 'CLOSED');
    await rejects(() => store.watchThreads(undefined, () => {}), 'CLOSED');
  });
});

/**
 * A stream begun, fed and then caught by an import of `image` (taken before the stream began, from
 * this store): returns the stream's id and the ids of the imported branch.
 */
async function streamThenImport(store: ContractStore): Promise<{ stream: number; imported: number[] }> {
  await store.createThread({ id: 't' });
  const user = await store.addMessage('t', { role: 'user', content: 'question' });
  const image = await store.exportDatabase();
  const stream = await store.beginMessage('t', 'assistant');
  await store.appendMessageDelta(stream, 'half an ans');
  await store.importDatabase(image);
  return { stream, imported: [user.id] };
}

group('app layer: import under a live writer', (test) => {
  test('after an import, a delta of a stream that was open is REPLACED', { requires: ['exportImport'] }, async ({ makeStore }) => {
    const store = await makeStore();
    const { stream, imported } = await streamThenImport(store);
    const error = await rejects(() => store.appendMessageDelta(stream, 'wer'), 'REPLACED');
    eq(error.details?.['messageId'], stream, 'details.messageId');
    await rejects(() => store.appendMessageDelta(stream, 'and more'), 'REPLACED');
    eq(ids(await store.getBranch('t')), imported, 'the imported branch is untouched');
  });

  test('after an import, finishing a stream that was open is REPLACED', { requires: ['exportImport'] }, async ({ makeStore }) => {
    const store = await makeStore();
    const { stream, imported } = await streamThenImport(store);
    await rejects(() => store.finishMessage(stream), 'REPLACED');
    await rejects(() => store.finishMessage(stream, { status: 'failed' }), 'REPLACED');
    eq(ids(await store.getBranch('t')), imported, 'the imported branch is untouched');
  });

  test('after an import, a new stream works even when it is given the replaced stream id', { requires: ['exportImport'] }, async ({ makeStore }) => {
    const store = await makeStore();
    const { stream, imported } = await streamThenImport(store);
    const fresh = await store.beginMessage('t', 'assistant');
    eq(fresh, stream, 'the imported database hands the id out again');
    await store.appendMessageDelta(fresh, 'a new ');
    await store.appendMessageDelta(fresh, 'answer');
    const done = await store.finishMessage(fresh);
    eq([done.content, done.parentEntryId], ['a new answer', imported[0]]);
    eq((await store.getBranch('t')).map((m) => [m.content, m.status]), [['question', 'complete'], ['a new answer', 'complete']]);
  });

  test('an import of an image taken mid-stream refuses the old writer and keeps the imported text', { requires: ['exportImport'] }, async ({ makeStore }) => {
    const store = await makeStore();
    await store.createThread({ id: 't' });
    await store.addMessage('t', { role: 'user', content: 'question' });
    const stream = await store.beginMessage('t', 'assistant');
    await store.appendMessageDelta(stream, 'before the export');
    const image = await store.exportDatabase();
    await store.appendMessageDelta(stream, ', after it');
    await store.importDatabase(image);
    await rejects(() => store.appendMessageDelta(stream, ' and after the import'), 'REPLACED');
    await rejects(() => store.finishMessage(stream), 'REPLACED');
    const last = (await store.getBranch('t')).at(-1);
    eq([last?.id, last?.content, last?.status], [stream, 'before the export', 'streaming'], 'the imported message');
  });

  test('an import from another store refuses the old writer even where its id names a finished message', { requires: ['exportImport'] }, async ({ makeStore }) => {
    const store = await makeStore();
    const donor = await makeStore();
    await donor.createThread({ id: 'd' });
    await donor.addMessage('d', { role: 'user', content: 'donor 1' });
    await donor.addMessage('d', { role: 'assistant', content: 'donor 2' });
    const image = await donor.exportDatabase();
    await store.createThread({ id: 't' });
    const stream = await store.beginMessage('t', 'assistant');
    await store.appendMessageDelta(stream, 'streaming');
    await store.importDatabase(image);
    ok(ids(await store.listThreadMessages('d')).includes(stream), `the imported database has a message ${stream}`);
    await rejects(() => store.appendMessageDelta(stream, 'x'), 'REPLACED');
    await rejects(() => store.finishMessage(stream), 'REPLACED');
    eq(contents(await store.getBranch('d')), ['donor 1', 'donor 2'], 'the imported messages are untouched');
  });
});
