import type { SqlDriver } from '../driver/port.js';
import { getMessageRow } from './messages.js';
import { operation, type StoreMethod } from './operations.js';
import type { SyncState } from './types.js';

/**
 * What kind of record a change touched; `graphCheckpoint` is a LangGraph checkpoint or its writes;
 * `graphStore` an item of LangGraph's long-term memory;
 * `database` means anything may have changed (an import, a prune). `leader` is no data change: another tab's worker (or this one's) now leads the store, so
 * `info().leader` may have changed. `sync` is no data change either: the sync status changed (state,
 * pending count or last error), and the notice carries it in `sync`.
 */
export type ChangeKind = 'thread' | 'message' | 'checkpoint' | 'job' | 'goal' | 'tools' | 'sessionIndex' | 'graphCheckpoint' | 'graphStore' | 'database' | 'leader' | 'sync';

/** One committed change, delivered to every tab's subscribers. */
export interface StoreChange {
  kind: ChangeKind;
  /** The operation that made it; null for a `leader` or `sync` notice, and for changes pulled from another device. */
  method: StoreMethod | null;
  /** The thread it belongs to, where there is one. */
  threadId: string | null;
  /** The record's id: a message id, checkpoint id, job id, goal id, thread id. */
  id: string | number | null;
  /** A `sync` notice's new status (the same as `info().sync`). */
  sync?: SyncState;
}

/**
 * What a successful call changed, from the operation table, or null when it changed nothing. Run it
 * inside the call's transaction, so that a message's thread can still be looked up, and publish the
 * result only after the commit.
 */
export function describeChange(db: SqlDriver, method: StoreMethod, args: readonly unknown[], result: unknown): StoreChange | null {
  const change = operation(method).change;
  if (!change) return null;
  const target = change.target(args as never, result as never, {
    // A message deleted later in the same batch has no thread left to report.
    threadOfMessage: (id: number) => getMessageRow(db, id)?.threadId ?? null,
  });
  return target ? { kind: change.kind, method, ...target } : null;
}
