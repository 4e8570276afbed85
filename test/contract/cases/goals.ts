import type { ThreadGoalRecord } from '../../../src/core/index.js';
import { eq, ok, rejects } from '../assert.js';
import { group } from '../harness.js';
import { goal, invalid, thread } from './fixtures.js';

group('goals', (test) => {
  test('ported seed test thread_goal_crud_round_trips_and_replaces', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('thread-1'));

    const first = goal('thread-1', 'Ship v0.8.59');
    await store.upsertThreadGoal(first);
    eq(await store.getThreadGoal('thread-1'), first, 'read goal');

    const replacement: ThreadGoalRecord = {
      ...goal('thread-1', 'Ship v0.8.59 safely'),
      goalId: 'goal-2',
      status: 'budget_limited',
      tokenBudget: null,
      updatedAt: 202,
    };
    await store.upsertThreadGoal(replacement);
    eq(await store.getThreadGoal('thread-1'), replacement, 'read replacement');

    eq(await store.deleteThreadGoal('thread-1'), true, 'delete goal');
    eq(await store.getThreadGoal('thread-1'), null, 'read empty');
    eq(await store.deleteThreadGoal('thread-1'), false, 'delete empty');
  });

  test('ported seed test thread_goal_requires_existing_thread (NOT_FOUND here)', async ({ makeStore }) => {
    const store = await makeStore();
    await rejects(() => store.upsertThreadGoal(goal('missing-thread', 'nope')), 'NOT_FOUND', 'thread missing-thread not found');
    eq(await store.getThreadGoal('missing-thread'), null, 'nothing was written');
  });

  test('ported seed test record_thread_goal_usage_accumulates_tokens_and_time', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('thread-1'));
    // Mirror the runtime, which creates goals with zeroed accounting.
    const g = goal('thread-1', 'Ship the persistent goal loop', { tokensUsed: 0, timeUsedSeconds: 0, updatedAt: 100 });
    await store.upsertThreadGoal(g);

    // First accrual lands the deltas and advances updatedAt.
    const afterFirst = await store.recordThreadGoalUsage('thread-1', 250, 12, 150);
    ok(afterFirst !== null, 'goal exists');
    eq(afterFirst.tokensUsed, 250, 'tokensUsed');
    eq(afterFirst.timeUsedSeconds, 12, 'timeUsedSeconds');
    eq(afterFirst.updatedAt, 150, 'updatedAt');
    // Identity fields are preserved across accrual.
    eq(afterFirst.goalId, g.goalId, 'goalId');
    eq(afterFirst.objective, g.objective, 'objective');
    eq(afterFirst.status, g.status, 'status');
    eq(afterFirst.tokenBudget, g.tokenBudget, 'tokenBudget');
    eq(afterFirst.createdAt, g.createdAt, 'createdAt');
    eq(afterFirst.continuationCount, 0, 'continuationCount');

    // Second accrual adds on top of the first (additive, not replacing).
    const afterSecond = await store.recordThreadGoalUsage('thread-1', 75, 8, 200);
    ok(afterSecond !== null, 'goal exists');
    eq([afterSecond.tokensUsed, afterSecond.timeUsedSeconds, afterSecond.updatedAt], [325, 20, 200]);

    // A stale `now` must not move updatedAt backwards.
    const afterStale = await store.recordThreadGoalUsage('thread-1', 5, 1, 1);
    ok(afterStale !== null, 'goal exists');
    eq([afterStale.tokensUsed, afterStale.timeUsedSeconds, afterStale.updatedAt], [330, 21, 200]);

    // Read back through the normal getter to confirm durability.
    const persisted = await store.getThreadGoal('thread-1');
    ok(persisted !== null, 'goal exists');
    eq([persisted.tokensUsed, persisted.timeUsedSeconds], [330, 21]);
  });

  test('ported seed test record_thread_goal_usage_returns_none_without_goal (null here)', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('thread-1'));
    // Thread exists but has no goal row yet: accrual is a no-op, not an error, and creates no goal.
    eq(await store.recordThreadGoalUsage('thread-1', 100, 5, 999), null);
    eq(await store.getThreadGoal('thread-1'), null);
  });

  test('ported seed test record_thread_goal_continuation_accumulates_durably', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('thread-1'));
    const g = goal('thread-1', 'Keep working across turns', { updatedAt: 100 });
    await store.upsertThreadGoal(g);

    const afterFirst = await store.recordThreadGoalContinuation('thread-1', 120);
    ok(afterFirst !== null, 'goal exists');
    eq(afterFirst.continuationCount, 1, 'continuationCount');
    eq(afterFirst.tokensUsed, g.tokensUsed, 'tokensUsed');
    eq(afterFirst.timeUsedSeconds, g.timeUsedSeconds, 'timeUsedSeconds');
    eq(afterFirst.updatedAt, 120, 'updatedAt');

    const afterSecond = await store.recordThreadGoalContinuation('thread-1', 110);
    ok(afterSecond !== null, 'goal exists');
    eq(afterSecond.continuationCount, 2, 'continuationCount');
    eq(afterSecond.updatedAt, 120, 'a stale now does not move updatedAt back');

    eq((await store.getThreadGoal('thread-1'))?.continuationCount, 2, 'persisted');
  });

  test('upsertThreadGoal accepts every goal status', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    for (const status of ['active', 'paused', 'blocked', 'usage_limited', 'budget_limited', 'complete'] as const) {
      await store.upsertThreadGoal(goal('t1', 'o', { status }));
      eq((await store.getThreadGoal('t1'))?.status, status);
    }
  });

  test('recordThreadGoalUsage with negative deltas decrements the usage', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.upsertThreadGoal(goal('t1', 'o', { tokensUsed: 100, timeUsedSeconds: 50, updatedAt: 100 }));
    const after = await store.recordThreadGoalUsage('t1', -30, -20, 100);
    eq([after?.tokensUsed, after?.timeUsedSeconds], [70, 30]);
    eq([(await store.getThreadGoal('t1'))?.tokensUsed, (await store.getThreadGoal('t1'))?.timeUsedSeconds], [70, 30], 'persisted');
  });

  test('recordThreadGoalUsage and recordThreadGoalContinuation give null for an unknown thread', async ({ makeStore }) => {
    const store = await makeStore();
    eq(await store.recordThreadGoalUsage('missing', 1, 1, 1), null);
    eq(await store.recordThreadGoalContinuation('missing', 1), null);
    await store.upsertThread(thread('t1'));
    eq(await store.recordThreadGoalContinuation('t1', 1), null, 'a thread without a goal');
    eq(await store.getThreadGoal('t1'), null, 'no goal was created');
  });

  test('getThreadGoal and deleteThreadGoal treat a missing goal as absent', async ({ makeStore }) => {
    const store = await makeStore();
    eq(await store.getThreadGoal('missing'), null);
    eq(await store.deleteThreadGoal('missing'), false);
    await store.upsertThread(thread('t1'));
    eq(await store.getThreadGoal('t1'), null);
    await store.upsertThreadGoal(goal('t1'));
    eq(await store.deleteThreadGoal('t1'), true, 'first delete');
    eq(await store.deleteThreadGoal('t1'), false, 'second delete');
  });

  test('deleting the thread deletes its goal', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    await store.upsertThreadGoal(goal('t1'));
    await store.deleteThread('t1');
    eq(await store.getThreadGoal('t1'), null);
    await store.upsertThread(thread('t1'));
    eq(await store.getThreadGoal('t1'), null, 'a recreated thread has no goal');
  });

  test('each thread has its own goal', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('a'));
    await store.upsertThread(thread('b'));
    await store.upsertThreadGoal(goal('a', 'goal of a'));
    await store.upsertThreadGoal(goal('b', 'goal of b', { goalId: 'goal-b' }));
    await store.recordThreadGoalUsage('a', 1000, 0, 500);
    eq((await store.getThreadGoal('a'))?.tokensUsed, 1007, 'a accrued');
    eq(await store.getThreadGoal('b'), goal('b', 'goal of b', { goalId: 'goal-b' }), 'b untouched');
  });

  test('upsertThreadGoal refuses invalid fields and writes nothing', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    const original = goal('t1', 'original');
    await store.upsertThreadGoal(original);
    const bad: Array<[string, Partial<ThreadGoalRecord>]> = [
      ['goal.threadId', { threadId: '' }],
      ['goal.threadId', { threadId: 5 as never }],
      ['goal.goalId', { goalId: '' }],
      ['goal.status', { status: 'done' as never }],
      ['goal.objective', { objective: 'a\uD800' }],
      ['goal.tokenBudget', { tokenBudget: 1.5 }],
      ['goal.tokensUsed', { tokensUsed: Number.NaN }],
      ['goal.timeUsedSeconds', { timeUsedSeconds: Number.POSITIVE_INFINITY }],
      ['goal.continuationCount', { continuationCount: 0.5 }],
      ['goal.createdAt', { createdAt: Number.NEGATIVE_INFINITY }],
      ['goal.updatedAt', { updatedAt: '101' as never }],
    ];
    for (const [field, over] of bad) {
      await invalid(() => store.upsertThreadGoal(goal('t1', 'replaced', over)), field);
    }
    await invalid(() => store.upsertThreadGoal(undefined as never), 'goal');
    eq(await store.getThreadGoal('t1'), original, 'the original goal is intact');
  });

  test('recordThreadGoalUsage refuses non-integer deltas and timestamps and changes nothing', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    const original = goal('t1');
    await store.upsertThreadGoal(original);
    await invalid(() => store.recordThreadGoalUsage('', 1, 1, 1), 'threadId');
    await invalid(() => store.recordThreadGoalUsage(1 as never, 1, 1, 1), 'threadId');
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '1' as never]) {
      await invalid(() => store.recordThreadGoalUsage('t1', bad, 1, 1), 'tokenDelta');
      await invalid(() => store.recordThreadGoalUsage('t1', 1, bad, 1), 'timeDeltaSeconds');
      await invalid(() => store.recordThreadGoalUsage('t1', 1, 1, bad), 'now');
    }
    eq(await store.getThreadGoal('t1'), original, 'unchanged');
  });

  test('usage that would pass 2^53 is refused and the goal is rolled back unchanged', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    const original = goal('t1', 'o', { tokensUsed: Number.MAX_SAFE_INTEGER, timeUsedSeconds: 5, updatedAt: 100 });
    await store.upsertThreadGoal(original);
    await rejects(() => store.recordThreadGoalUsage('t1', 1, 1, 500), 'INVALID_ARGUMENT');
    eq(await store.getThreadGoal('t1'), original, 'the UPDATE was rolled back');
    const after = await store.recordThreadGoalUsage('t1', -1, 1, 500);
    eq([after?.tokensUsed, after?.timeUsedSeconds, after?.updatedAt], [Number.MAX_SAFE_INTEGER - 1, 6, 500], 'the store still works');
  });

  test('recordThreadGoalContinuation refuses a non-integer now and changes nothing', async ({ makeStore }) => {
    const store = await makeStore();
    await store.upsertThread(thread('t1'));
    const original = goal('t1');
    await store.upsertThreadGoal(original);
    await invalid(() => store.recordThreadGoalContinuation('', 1), 'threadId');
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await invalid(() => store.recordThreadGoalContinuation('t1', bad), 'now');
    }
    eq(await store.getThreadGoal('t1'), original, 'unchanged');
  });

  test('getThreadGoal and deleteThreadGoal refuse an empty threadId', async ({ makeStore }) => {
    const store = await makeStore();
    await invalid(() => store.getThreadGoal(''), 'threadId');
    await invalid(() => store.deleteThreadGoal(''), 'threadId');
    await invalid(() => store.deleteThreadGoal(null as never), 'threadId');
  });
});
