import { eq, ok, rejects } from '../assert.js';
import type { ContractStore } from '../harness.js';
import { group } from '../harness.js';
import { goal, job, thread } from './fixtures.js';

/** One valid call of every operation, so that a closed store can be shown to refuse them all. */
function everyCall(store: ContractStore): Array<[string, () => unknown]> {
  return [
    ['dbPath', () => store.dbPath()],
    ['info', () => store.info()],
    ['upsertThread', () => store.upsertThread(thread('t2'))],
    ['getThread', () => store.getThread('t1')],
    ['listThreads', () => store.listThreads()],
    ['markArchived', () => store.markArchived('t1')],
    ['markUnarchived', () => store.markUnarchived('t1')],
    ['deleteThread', () => store.deleteThread('t1')],
    ['setThreadMemoryMode', () => store.setThreadMemoryMode('t1', 'on')],
    ['getThreadMemoryMode', () => store.getThreadMemoryMode('t1')],
    ['upsertThreadGoal', () => store.upsertThreadGoal(goal('t1'))],
    ['recordThreadGoalUsage', () => store.recordThreadGoalUsage('t1', 1, 1, 1)],
    ['recordThreadGoalContinuation', () => store.recordThreadGoalContinuation('t1', 1)],
    ['getThreadGoal', () => store.getThreadGoal('t1')],
    ['deleteThreadGoal', () => store.deleteThreadGoal('t1')],
    ['listLeafMessages', () => store.listLeafMessages('t1')],
    ['setCurrentLeafId', () => store.setCurrentLeafId('t1', 1)],
    ['persistDynamicTools', () => store.persistDynamicTools('t1', [])],
    ['getDynamicTools', () => store.getDynamicTools('t1')],
    ['appendMessage', () => store.appendMessage('t1', 'user', 'hi')],
    ['listMessages', () => store.listMessages('t1')],
    ['forkAtMessage', () => store.forkAtMessage(1, 'user', 'hi')],
    ['clearMessages', () => store.clearMessages('t1')],
    ['saveCheckpoint', () => store.saveCheckpoint('t1', 'cp', {})],
    ['loadCheckpoint', () => store.loadCheckpoint('t1')],
    ['listCheckpoints', () => store.listCheckpoints('t1')],
    ['deleteCheckpoint', () => store.deleteCheckpoint('t1', 'cp')],
    ['upsertJob', () => store.upsertJob(job('j2'))],
    ['getJob', () => store.getJob('j1')],
    ['listJobs', () => store.listJobs()],
    ['deleteJob', () => store.deleteJob('j1')],
    ['findRolloutPathById', () => store.findRolloutPathById('t1')],
    ['appendThreadName', () => store.appendThreadName('t1', 'n', 1, null)],
    ['findThreadNameById', () => store.findThreadNameById('t1')],
    ['findThreadNamesByIds', () => store.findThreadNamesByIds(['t1'])],
    ['findThreadPathByName', () => store.findThreadPathByName('n')],
    ['compactSessionIndex', () => store.compactSessionIndex()],
  ];
}

group('lifecycle', (test) => {
  test('dbPath names where the database lives', async ({ makeStore }) => {
    const store = await makeStore();
    const path = await store.dbPath();
    ok(typeof path === 'string' && path.length > 0, `dbPath is a non-empty string, got ${String(path)}`);
  });

  test('info reports the SQLite version, the schema version and the session-index counts', { requires: ['sqliteVersion'] }, async ({ makeStore }) => {
    const store = await makeStore();
    const info = await store.info();
    ok(/^3\.\d+\.\d+/.test(info.sqliteVersion), `sqliteVersion looks like 3.x.y, got ${info.sqliteVersion}`);
    ok(Number.isInteger(info.schemaVersion) && info.schemaVersion >= 4, `schemaVersion is at least the seed's 4, got ${info.schemaVersion}`);
    eq([info.sessionIndexEntries, info.sessionIndexSkippedLines], [0, 0], 'an empty index');
    await store.appendThreadName('a', 'A', 1, null);
    await store.upsertThread(thread('b'));
    eq((await store.info()).sessionIndexEntries, 2, 'entries after two ids');
  });

  test('after close() every call fails with CLOSED', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.appendMessage('t1', 'user', 'hi');
    await store.upsertJob(job('j1'));
    await store.close();
    for (const [name, call] of everyCall(store)) {
      try {
        await rejects(call, 'CLOSED');
      } catch (error) {
        throw new Error(`${name}: ${(error as Error).message}`);
      }
    }
  });

  test('closing twice is a no-op', async ({ makeStore }) => {
    const store = await makeStore();
    await store.close();
    await store.close();
    await rejects(() => store.getThread('t1'), 'CLOSED');
  });

  test('closing one store leaves another open', async ({ makeStore }) => {
    const first = await makeStore();
    const second = await makeStore();
    await first.upsertThread(thread('t1'));
    await second.upsertThread(thread('t1', { preview: 'second' }));
    await first.close();
    eq((await second.getThread('t1'))?.preview, 'second');
    await rejects(() => first.getThread('t1'), 'CLOSED');
  });

  test('stores made by the target start empty and are independent', async ({ makeStore }) => {
    const first = await makeStore();
    const second = await makeStore();
    await first.upsertThread(thread('only-in-first', { name: 'First' }));
    eq(await second.getThread('only-in-first'), null);
    eq(await second.findThreadNameById('only-in-first'), null);
    eq(await second.listThreads({ includeArchived: true }), []);
  });
});
