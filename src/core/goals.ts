import type { SqlDriver, SqlRow } from '../driver/port.js';
import { StoreError } from './errors.js';
import { enumOr, num, numOrNull, str } from './rows.js';
import type { ThreadGoalRecord, ThreadGoalStatus } from './types.js';
import * as v from './validate.js';

/** The `thread_goals` table: one goal per thread, with token and time accounting. */

export const GOAL_STATUSES: readonly ThreadGoalStatus[] = ['active', 'paused', 'blocked', 'usage_limited', 'budget_limited', 'complete'];

const COLUMNS = `thread_id, goal_id, objective, status, token_budget, tokens_used,
  time_used_seconds, continuation_count, created_at, updated_at`;

/** Maps a `thread_goals` row. */
export function toGoal(row: SqlRow): ThreadGoalRecord {
  return {
    threadId: str(row['thread_id']),
    goalId: str(row['goal_id']),
    objective: str(row['objective']),
    status: enumOr(row['status'], GOAL_STATUSES, 'active'),
    tokenBudget: numOrNull(row['token_budget']),
    tokensUsed: num(row['tokens_used']),
    timeUsedSeconds: num(row['time_used_seconds']),
    continuationCount: num(row['continuation_count']),
    createdAt: num(row['created_at']),
    updatedAt: num(row['updated_at']),
  };
}

/** Validates upsertThreadGoal's argument. */
export function validateGoal(input: unknown): ThreadGoalRecord {
  const g = v.record(input, 'goal');
  return {
    threadId: v.nonEmpty(g['threadId'], 'goal.threadId'),
    goalId: v.nonEmpty(g['goalId'], 'goal.goalId'),
    objective: v.text(g['objective'], 'goal.objective'),
    status: v.oneOf(g['status'], 'goal.status', GOAL_STATUSES),
    tokenBudget: v.optionalInteger(g['tokenBudget'], 'goal.tokenBudget'),
    tokensUsed: v.integer(g['tokensUsed'], 'goal.tokensUsed'),
    timeUsedSeconds: v.integer(g['timeUsedSeconds'], 'goal.timeUsedSeconds'),
    continuationCount: v.integer(g['continuationCount'], 'goal.continuationCount'),
    createdAt: v.integer(g['createdAt'], 'goal.createdAt'),
    updatedAt: v.integer(g['updatedAt'], 'goal.updatedAt'),
  };
}

/** The seed's goal upsert, which replaces every column. */
export function upsertGoalRow(db: SqlDriver, g: ThreadGoalRecord): void {
  db.run(
    `INSERT INTO thread_goals (${COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
     ON CONFLICT(thread_id) DO UPDATE SET
       goal_id=excluded.goal_id, objective=excluded.objective, status=excluded.status,
       token_budget=excluded.token_budget, tokens_used=excluded.tokens_used,
       time_used_seconds=excluded.time_used_seconds, continuation_count=excluded.continuation_count,
       created_at=excluded.created_at, updated_at=excluded.updated_at`,
    [g.threadId, g.goalId, g.objective, g.status, g.tokenBudget, g.tokensUsed, g.timeUsedSeconds, g.continuationCount, g.createdAt, g.updatedAt],
  );
}

/** One goal, or null. */
export function getGoalRow(db: SqlDriver, threadId: string): ThreadGoalRecord | null {
  const row = db.all(`SELECT ${COLUMNS} FROM thread_goals WHERE thread_id = ?1`, [threadId])[0];
  return row ? toGoal(row) : null;
}

/**
 * Runs one of the seed's additive UPDATEs (`col = col + ?`, `updated_at = MAX(updated_at, ?)`) and
 * reads the goal back; null when the thread has no goal. SQLite turns an integer overflow into a
 * float, so a sum beyond ±2^53 is refused and rolled back by the caller's transaction.
 */
function accrueGoal(db: SqlDriver, threadId: string, sql: string, params: Parameters<SqlDriver['run']>[1]): ThreadGoalRecord | null {
  if (db.run(sql, params).changes === 0) return null;
  const goal = getGoalRow(db, threadId);
  if (goal && !(Number.isSafeInteger(goal.tokensUsed) && Number.isSafeInteger(goal.timeUsedSeconds) && Number.isSafeInteger(goal.continuationCount))) {
    throw new StoreError('INVALID_ARGUMENT', 'the accrued usage would exceed ±2^53', { details: { threadId } });
  }
  return goal;
}

/** Adds token and time usage in one UPDATE; updatedAt only moves forward. Null when the thread has no goal. */
export function accrueGoalUsage(db: SqlDriver, threadId: string, tokenDelta: number, timeDeltaSeconds: number, now: number): ThreadGoalRecord | null {
  return accrueGoal(
    db,
    threadId,
    `UPDATE thread_goals
     SET tokens_used = tokens_used + ?2, time_used_seconds = time_used_seconds + ?3, updated_at = MAX(updated_at, ?4)
     WHERE thread_id = ?1`,
    [threadId, tokenDelta, timeDeltaSeconds, now],
  );
}

/** Adds one continuation; updatedAt only moves forward. Null when the thread has no goal. */
export function accrueGoalContinuation(db: SqlDriver, threadId: string, now: number): ThreadGoalRecord | null {
  return accrueGoal(db, threadId, 'UPDATE thread_goals SET continuation_count = continuation_count + 1, updated_at = MAX(updated_at, ?2) WHERE thread_id = ?1', [threadId, now]);
}

/** Deletes a thread's goal; true if there was one. */
export function deleteGoalRow(db: SqlDriver, threadId: string): boolean {
  return db.run('DELETE FROM thread_goals WHERE thread_id = ?1', [threadId]).changes > 0;
}
