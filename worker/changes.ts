import type { SqlDriver } from '../src/driver/port.js';
import type { ChangeKind, StoreChange } from '../src/protocol.js';

/**
 * What a successful write changed, for `subscribe`. Computed inside the write's transaction (so a
 * message's thread can still be looked up) and broadcast only after the commit.
 */

function threadOfMessage(db: SqlDriver, id: unknown): string | null {
  if (typeof id !== 'number') return null;
  const row = db.all('SELECT thread_id FROM messages WHERE id = ?1', [id])[0];
  return typeof row?.['thread_id'] === 'string' ? row['thread_id'] : null;
}

function change(kind: ChangeKind, method: string, threadId: unknown, id: unknown): StoreChange {
  return {
    kind,
    method,
    threadId: typeof threadId === 'string' ? threadId : null,
    id: typeof id === 'string' || typeof id === 'number' ? id : null,
  };
}

/** The changes one write made; an unknown write method reports a database-wide change. */
export function describeChanges(db: SqlDriver, method: string, args: unknown[], result: unknown): StoreChange[] {
  const [a, b] = args;
  const record = (typeof a === 'object' && a !== null ? a : {}) as Record<string, unknown>;
  switch (method) {
    case 'upsertThread':
      return [change('thread', method, record['id'], record['id'])];
    case 'markArchived':
    case 'markUnarchived':
    case 'deleteThread':
    case 'setThreadMemoryMode':
      return [change('thread', method, a, a)];
    case 'setCurrentLeafId':
      return [change('thread', method, a, b)];
    case 'upsertThreadGoal':
      return [change('goal', method, record['threadId'], record['goalId'])];
    case 'recordThreadGoalUsage':
    case 'recordThreadGoalContinuation':
    case 'deleteThreadGoal':
      return result === null || result === false ? [] : [change('goal', method, a, null)];
    case 'persistDynamicTools':
      return [change('tools', method, a, null)];
    case 'appendMessage':
    case 'beginMessage':
      return [change('message', method, a, result)];
    case 'forkAtMessage':
      return [change('message', method, threadOfMessage(db, result), result)];
    case 'appendMessageDelta':
    case 'finishMessage':
      return [change('message', method, threadOfMessage(db, a), a)];
    case 'clearMessages':
      return [change('message', method, a, null)];
    case 'saveCheckpoint':
    case 'deleteCheckpoint':
      return [change('checkpoint', method, a, b)];
    case 'upsertJob':
      return [change('job', method, null, record['id'])];
    case 'deleteJob':
      return [change('job', method, null, a)];
    case 'appendThreadName':
      return [change('sessionIndex', method, a, a)];
    case 'compactSessionIndex':
      return [change('sessionIndex', method, null, null)];
    default:
      return [change('database', method, null, null)];
  }
}
