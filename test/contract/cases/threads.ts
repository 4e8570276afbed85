import type { ThreadInput, ThreadMetadata } from '../../../src/core/index.js';
import { eq, ok, rejects } from '../assert.js';
import { group } from '../harness.js';
import { goal, invalid, nowSeconds, thread, within } from './fixtures.js';

/** Every field of a thread set to a non-default value. */
function fullThread(id: string): ThreadInput {
  return thread(id, {
    rolloutPath: '/rollouts/a.jsonl',
    preview: 'first words',
    ephemeral: true,
    modelProvider: 'openai',
    createdAt: 1_700_000_000,
    updatedAt: 1_700_000_500,
    status: 'paused',
    path: '/work/project',
    cwd: '/home/me',
    cliVersion: '1.2.3',
    source: 'api',
    name: 'My thread ✨',
    sandboxPolicy: 'workspace-write',
    approvalMode: 'on-request',
    archived: false,
    archivedAt: null,
    gitSha: 'abc123',
    gitBranch: 'main',
    gitOriginUrl: 'https://example.com/repo.git',
    memoryMode: 'enabled',
  });
}

function expected(input: ThreadInput, currentLeafId: number | null = null): ThreadMetadata {
  return {
    rolloutPath: null, path: null, name: null, sandboxPolicy: null, approvalMode: null, archived: false, archivedAt: null,
    gitSha: null, gitBranch: null, gitOriginUrl: null, memoryMode: null, ...input, currentLeafId,
  };
}

group('threads', (test) => {
  test('upsertThread inserts a thread that getThread returns with every field', async ({ makeStore }) => {
    const store = await makeStore();
    const input = fullThread('thread/ünïcødé id');
    await store.upsertThread(input);
    eq(await store.getThread('thread/ünïcødé id'), expected(input));
  });

  test('optional nullable fields default to null and archived to false', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    const t = await store.getThread('t1');
    eq(t, expected(thread('t1')));
    eq(t?.archived, false, 'archived');
    eq(t?.name, null, 'name');
    eq(t?.currentLeafId, null, 'currentLeafId');
  });

  test('upsertThread on an existing id updates every field', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    const changed = fullThread('t1');
    await store.upsertThread({ ...changed, archived: true, archivedAt: 1_700_000_600, status: 'archived' });
    eq(await store.getThread('t1'), expected({ ...changed, archived: true, archivedAt: 1_700_000_600, status: 'archived' }));
    await store.upsertThread(thread('t1'));
    eq(await store.getThread('t1'), expected(thread('t1')), 'an update back to defaults clears the nullable fields');
  });

  test('upsertThread never changes currentLeafId, even when the input carries one', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    const leaf = await store.appendMessage('t1', 'user', 'hello');
    await store.upsertThread({ ...thread('t1', { preview: 'updated' }), currentLeafId: null });
    await store.upsertThread({ ...thread('t1', { preview: 'updated again' }), currentLeafId: leaf + 100 });
    const t = await store.getThread('t1');
    eq(t?.currentLeafId, leaf, 'currentLeafId');
    eq(t?.preview, 'updated again', 'preview');
    eq((await store.listMessages('t1')).map((m) => m.id), [leaf]);
  });

  test('upsertThread appends the thread to the session index', async ({ makeStore }) => {
    const store = await makeStore();
    eq(await store.findThreadNameById('t1'), null, 'before');
    await store.upsertThread(thread('t1', { name: 'First name' }));
    eq(await store.findThreadNameById('t1'), 'First name');
    eq((await store.info()).sessionIndexEntries, 1, 'entries');
    await store.upsertThread(thread('t1', { name: 'Second name', rolloutPath: '/r/t1.jsonl' }));
    eq(await store.findThreadNameById('t1'), 'Second name', 'after a rename');
    eq(await store.findThreadPathByName('second NAME'), '/r/t1.jsonl', 'path by name');
    eq((await store.info()).sessionIndexEntries, 1, 'still one entry per id');
  });

  test('an invalid upsertThread writes neither the row nor a session-index line', async ({ makeStore }) => {
    const store = await makeStore();
    const bad: Array<[string, unknown]> = [
      ['thread.id', thread('')],
      ['thread.id', { ...thread('x'), id: 42 }],
      ['thread.status', thread('x', { status: 'sleeping' as never })],
      ['thread.source', thread('x', { source: 'cli' as never })],
      ['thread.createdAt', thread('x', { createdAt: Number.NaN })],
      ['thread.createdAt', thread('x', { createdAt: 1.5 })],
      ['thread.updatedAt', thread('x', { updatedAt: Number.POSITIVE_INFINITY })],
      ['thread.archivedAt', thread('x', { archivedAt: 2.5 })],
      ['thread.ephemeral', thread('x', { ephemeral: 'yes' as never })],
      ['thread.name', thread('x', { name: 'bad \uD800 name' })],
      ['thread.preview', thread('x', { preview: '\uDFFF' })],
      ['thread.cwd', thread('x', { cwd: 7 as never })],
    ];
    for (const [field, input] of bad) {
      await invalid(() => store.upsertThread(input as ThreadInput), field);
    }
    await invalid(() => store.upsertThread(null as never), 'thread');
    eq(await store.getThread('x'), null, 'no row');
    eq(await store.listThreads({ includeArchived: true }), [], 'no rows at all');
    eq(await store.findThreadNameById('x'), null, 'no name');
    eq((await store.info()).sessionIndexEntries, 0, 'no session-index entry');
  });

  test('an invalid update leaves the existing thread and its index entry untouched', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1', { name: 'Kept' }));
    await invalid(() => store.upsertThread(thread('t1', { name: 'Lost', status: 'nope' as never })), 'thread.status');
    eq(await store.getThread('t1'), expected(thread('t1', { name: 'Kept' })));
    eq(await store.findThreadNameById('t1'), 'Kept');
  });

  test('getThread returns null for an unknown id and refuses an empty or non-string id', async ({ makeStore }) => {
    const store = await makeStore();
    eq(await store.getThread('missing'), null);
    await invalid(() => store.getThread(''), 'id');
    await invalid(() => store.getThread(42 as never), 'id');
    await invalid(() => store.getThread(undefined as never), 'id');
  });

  test('listThreads orders by updatedAt, newest first', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('old', { updatedAt: 100 }));
    await store.upsertThread(thread('new', { updatedAt: 300 }));
    await store.upsertThread(thread('mid', { updatedAt: 200 }));
    eq((await store.listThreads()).map((t) => t.id), ['new', 'mid', 'old']);
    await store.upsertThread(thread('old', { updatedAt: 400 }));
    eq((await store.listThreads()).map((t) => t.id), ['old', 'new', 'mid'], 'after an update');
  });

  test('listThreads leaves out archived threads unless includeArchived', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('live', { updatedAt: 1 }));
    await store.upsertThread(thread('stored-archived', { updatedAt: 2, archived: true, archivedAt: 2 }));
    await store.upsertThread(thread('marked', { updatedAt: 3 }));
    await store.markArchived('marked');
    eq((await store.listThreads()).map((t) => t.id), ['live']);
    eq((await store.listThreads({ includeArchived: false })).map((t) => t.id), ['live']);
    eq((await store.listThreads({ includeArchived: true })).map((t) => t.id), ['marked', 'stored-archived', 'live']);
  });

  test('listThreads returns at most 50 threads by default', async ({ makeStore }) => {
    const store = await makeStore();
    for (let i = 0; i < 55; i++) await store.upsertThread(thread(`t${i}`, { updatedAt: 1000 + i }));
    const listed = await store.listThreads();
    eq(listed.length, 50, 'count');
    eq(listed[0]?.id, 't54', 'newest first');
    eq(listed[49]?.id, 't5', 'the 5 oldest are left out');
  });

  test('listThreads honours an explicit limit', async ({ makeStore }) => {
    const store = await makeStore();
    for (let i = 0; i < 55; i++) await store.upsertThread(thread(`t${i}`, { updatedAt: 1000 + i }));
    eq((await store.listThreads({ limit: 2 })).map((t) => t.id), ['t54', 't53']);
    eq((await store.listThreads({ limit: 1 })).map((t) => t.id), ['t54']);
    eq((await store.listThreads({ limit: 55 })).length, 55, 'above the default');
    eq((await store.listThreads({ limit: 1000 })).length, 55, 'above the count');
  });

  test('listThreads refuses a limit that is not a positive integer', async ({ makeStore }) => {
    const store = await makeStore();
    for (const limit of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10' as never]) {
      await invalid(() => store.listThreads({ limit }), 'filters.limit');
    }
    await invalid(() => store.listThreads({ includeArchived: 'yes' as never }), 'filters.includeArchived');
  });

  test('markArchived sets archived, archivedAt to now and status "archived"', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1', { status: 'running' }));
    const before = nowSeconds();
    await store.markArchived('t1');
    const after = nowSeconds();
    const t = await store.getThread('t1');
    eq(t?.archived, true, 'archived');
    eq(t?.status, 'archived', 'status');
    within(t?.archivedAt, before, after, 'archivedAt');
  });

  test('markUnarchived clears archived and archivedAt and turns status "archived" into "idle"', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1', { status: 'running' }));
    await store.markArchived('t1');
    await store.markUnarchived('t1');
    const t = await store.getThread('t1');
    eq([t?.archived, t?.archivedAt, t?.status], [false, null, 'idle']);
    eq((await store.listThreads()).map((x) => x.id), ['t1'], 'listed again');
  });

  test('markUnarchived leaves a status other than "archived" as it is', async ({ makeStore }) => {
    const store = await makeStore();
    for (const status of ['paused', 'failed', 'completed', 'running', 'idle'] as const) {
      await store.upsertThread(thread(status, { status, archived: true, archivedAt: 5 }));
      await store.markUnarchived(status);
      const t = await store.getThread(status);
      eq([t?.archived, t?.archivedAt, t?.status], [false, null, status], status);
    }
  });

  test('markArchived and markUnarchived fail with NOT_FOUND on an unknown thread', async ({ makeStore }) => {
    const store = await makeStore();
    await rejects(() => store.markArchived('missing'), 'NOT_FOUND');
    await rejects(() => store.markUnarchived('missing'), 'NOT_FOUND');
    await invalid(() => store.markArchived(''), 'id');
    await invalid(() => store.markUnarchived(7 as never), 'id');
    eq(await store.getThread('missing'), null, 'nothing was created');
  });

  test('deleteThread removes the thread with its messages, checkpoints, tools and goal', async ({ makeStore }) => {
    const store = await makeStore();
    for (const id of ['doomed', 'kept']) {
      await store.upsertThread(thread(id));
      const first = await store.appendMessage(id, 'user', 'one');
      await store.appendMessage(id, 'assistant', 'two');
      await store.forkAtMessage(first, 'assistant', 'branch');
      await store.saveCheckpoint(id, 'cp', { step: 1 });
      await store.persistDynamicTools(id, [{ position: 0, name: 'tool', description: null, inputSchema: {} }]);
      await store.upsertThreadGoal(goal(id));
    }
    await store.deleteThread('doomed');
    eq(await store.getThread('doomed'), null, 'thread');
    eq(await store.listMessages('doomed'), [], 'messages');
    eq(await store.listLeafMessages('doomed'), [], 'leaf messages');
    eq(await store.loadCheckpoint('doomed'), null, 'latest checkpoint');
    eq(await store.listCheckpoints('doomed'), [], 'checkpoints');
    eq(await store.getDynamicTools('doomed'), [], 'tools');
    eq(await store.getThreadGoal('doomed'), null, 'goal');
    eq(await store.deleteThreadGoal('doomed'), false, 'no goal row is left');
    // The other thread keeps everything.
    eq((await store.listMessages('kept')).length, 2, 'kept messages');
    eq((await store.listLeafMessages('kept')).length, 2, 'kept leaves');
    eq((await store.listCheckpoints('kept')).length, 1, 'kept checkpoints');
    eq((await store.getDynamicTools('kept')).length, 1, 'kept tools');
    ok((await store.getThreadGoal('kept')) !== null, 'kept goal');
  });

  test('a deleted thread can be created again from scratch', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.appendMessage('t1', 'user', 'old');
    await store.deleteThread('t1');
    await store.upsertThread(thread('t1'));
    eq((await store.getThread('t1'))?.currentLeafId, null, 'fresh leaf');
    eq(await store.listMessages('t1'), [], 'no old messages');
    const id = await store.appendMessage('t1', 'user', 'new');
    eq((await store.listMessages('t1')).map((m) => [m.id, m.parentEntryId]), [[id, null]]);
  });

  test('deleting a missing thread is a no-op', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.deleteThread('missing');
    await store.deleteThread('t1');
    await store.deleteThread('t1');
    eq(await store.listThreads({ includeArchived: true }), []);
    await invalid(() => store.deleteThread(''), 'id');
  });

  test('setThreadMemoryMode sets and clears the mode that getThreadMemoryMode reads', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    eq(await store.getThreadMemoryMode('t1'), null, 'unset');
    await store.setThreadMemoryMode('t1', 'enabled');
    eq(await store.getThreadMemoryMode('t1'), 'enabled');
    eq((await store.getThread('t1'))?.memoryMode, 'enabled', 'on the record');
    await store.setThreadMemoryMode('t1', 'disabled');
    eq(await store.getThreadMemoryMode('t1'), 'disabled', 'replaced');
    await store.setThreadMemoryMode('t1', null);
    eq(await store.getThreadMemoryMode('t1'), null, 'cleared');
  });

  test('upsertThread writes memoryMode, which getThreadMemoryMode reads', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1', { memoryMode: 'enabled' }));
    eq(await store.getThreadMemoryMode('t1'), 'enabled');
  });

  test('setThreadMemoryMode fails with NOT_FOUND on an unknown thread; getThreadMemoryMode gives null', async ({ makeStore }) => {
    const store = await makeStore();
    await rejects(() => store.setThreadMemoryMode('missing', 'enabled'), 'NOT_FOUND');
    eq(await store.getThreadMemoryMode('missing'), null);
    await store.upsertThread(thread('t1'));
    await invalid(() => store.setThreadMemoryMode('t1', 42 as never), 'mode');
    await invalid(() => store.setThreadMemoryMode('t1', '\uD800'), 'mode');
    await invalid(() => store.setThreadMemoryMode('', 'enabled'), 'id');
    await invalid(() => store.getThreadMemoryMode(''), 'id');
    eq(await store.getThreadMemoryMode('t1'), null, 'unchanged after the failures');
  });
});
