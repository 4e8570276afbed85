import type { SqlDriver, TextFile } from '../driver/port.js';
import { deleteCheckpointRow, listCheckpointRows, loadCheckpointRow, saveCheckpointRow } from './checkpoints.js';
import { StoreError, toStoreError } from './errors.js';
import { accrueGoalContinuation, accrueGoalUsage, deleteGoalRow, getGoalRow, upsertGoalRow, validateGoal } from './goals.js';
import { deleteJobRow, getJobRow, listJobRows, upsertJobRow, validateJob } from './jobs.js';
import { addAsLeaf, clearThreadMessages, currentLeaf, listBranch, listLeaves, setLeafRow, threadOfMessage, validateMessage } from './messages.js';
import type { SessionIndex } from './session-index.js';
import {
  archiveThreadRow, deleteThreadRow, getThreadRow, listThreadRows, requireThread, saveThread, setMemoryModeRow, unarchiveThreadRow, validateThread,
} from './threads.js';
import { listToolRows, replaceToolRows, validateTools } from './tools.js';
import { atomically } from './transaction.js';
import type {
  CheckpointRecord, DynamicToolRecord, JobStateRecord, MessageRecord, ThreadGoalRecord, ThreadInput, ThreadListFilters, ThreadMetadata,
} from './types.js';
import * as v from './validate.js';

/** What StateStore.open needs: a connection, the session index file, and optionally a clock. */
export interface StateStoreOptions {
  /** An open SQLite connection; the store owns it from here on and closes it in close(). */
  db: SqlDriver;
  /** The session index file (`session_index.jsonl` beside the database). */
  sessionIndex: TextFile;
  /** What dbPath() reports. Default ":memory:". */
  dbPath?: string;
  /** The clock for timestamps the store sets itself, in Unix seconds. Default: the system clock. */
  now?: () => number;
}

const systemClock = (): number => Math.floor(Date.now() / 1000);

/**
 * The seed's operations: the Rust store's contract, method for method, with its defects fixed (see
 * the README). StateStore adds what goes beyond it; the two are one class to callers. Each method is
 * a facade: validate the arguments, open the transaction, call the table module.
 */
export abstract class SeedStore {
  protected readonly db: SqlDriver;
  protected index: SessionIndex;
  protected readonly indexFile: TextFile;
  private readonly path: string;
  private readonly clock: () => number;
  private closed = false;

  protected constructor(options: StateStoreOptions, index: SessionIndex) {
    this.db = options.db;
    this.index = index;
    this.indexFile = options.sessionIndex;
    this.path = options.dbPath ?? ':memory:';
    this.clock = options.now ?? systemClock;
  }

  /** Runs one operation: refuses a closed store and turns every failure into a StoreError. */
  protected op<T>(name: string, fn: () => T): T {
    if (this.closed) throw new StoreError('CLOSED', `${name}: the store is closed`);
    try {
      return fn();
    } catch (error) {
      throw toStoreError(error, name);
    }
  }

  /** Runs one operation atomically, after `validate` has checked its arguments outside the transaction. */
  protected write<A, T>(name: string, validate: () => A, apply: (args: A) => T): T {
    return this.op(name, () => {
      const args = validate();
      return atomically(this.db, () => apply(args));
    });
  }

  protected now(): number {
    return v.integer(this.clock(), 'clock()');
  }

  /** Where the database lives (":memory:" for an in-memory store). */
  dbPath(): string {
    return this.op('dbPath', () => this.path);
  }

  // --- threads ---------------------------------------------------------------------------------

  /** Inserts or updates a thread and appends its name to the session index. It never moves currentLeafId. */
  upsertThread(thread: ThreadInput): void {
    this.write('upsertThread', () => validateThread(thread), (t) => saveThread(this.db, this.index, t));
  }

  /** One thread, or null. */
  getThread(id: string): ThreadMetadata | null {
    return this.op('getThread', () => getThreadRow(this.db, v.nonEmpty(id, 'id')));
  }

  /** Threads by most recent update; archived ones only with `includeArchived`. Default limit 50. */
  listThreads(filters?: ThreadListFilters): ThreadMetadata[] {
    return this.op('listThreads', () => listThreadRows(this.db, filters));
  }

  /** Archives a thread: archived, archivedAt = now, status "archived". NOT_FOUND if it does not exist. */
  markArchived(id: string): void {
    this.op('markArchived', () => archiveThreadRow(this.db, v.nonEmpty(id, 'id'), this.now()));
  }

  /** Unarchives a thread; a status left at "archived" becomes "idle". NOT_FOUND if it does not exist. */
  markUnarchived(id: string): void {
    this.op('markUnarchived', () => unarchiveThreadRow(this.db, v.nonEmpty(id, 'id')));
  }

  /** Deletes a thread with its messages, checkpoints, tools and goal. Deleting a missing thread is a no-op. */
  deleteThread(id: string): void {
    this.op('deleteThread', () => deleteThreadRow(this.db, v.nonEmpty(id, 'id')));
  }

  /** Sets (or with null clears) a thread's memory mode. NOT_FOUND if the thread does not exist. */
  setThreadMemoryMode(id: string, mode: string | null): void {
    this.op('setThreadMemoryMode', () => setMemoryModeRow(this.db, v.nonEmpty(id, 'id'), v.optionalText(mode, 'mode')));
  }

  /** A thread's memory mode; null when unset or when the thread does not exist. */
  getThreadMemoryMode(id: string): string | null {
    return this.op('getThreadMemoryMode', () => getThreadRow(this.db, v.nonEmpty(id, 'id'))?.memoryMode ?? null);
  }

  // --- goals -----------------------------------------------------------------------------------

  /** Inserts or replaces a thread's goal. NOT_FOUND if the thread does not exist. */
  upsertThreadGoal(goal: ThreadGoalRecord): void {
    this.write('upsertThreadGoal', () => validateGoal(goal), (g) => {
      requireThread(this.db, g.threadId);
      upsertGoalRow(this.db, g);
    });
  }

  /**
   * Adds token and time usage to a thread's goal in one atomic UPDATE (`col = col + ?`); updatedAt
   * only moves forward. Returns the goal, or null when the thread has no goal (none is created).
   */
  recordThreadGoalUsage(threadId: string, tokenDelta: number, timeDeltaSeconds: number, now: number): ThreadGoalRecord | null {
    return this.write(
      'recordThreadGoalUsage',
      () => [v.nonEmpty(threadId, 'threadId'), v.integer(tokenDelta, 'tokenDelta'), v.integer(timeDeltaSeconds, 'timeDeltaSeconds'), v.integer(now, 'now')] as const,
      (args) => accrueGoalUsage(this.db, ...args),
    );
  }

  /** Adds one to a goal's durable continuation count; updatedAt only moves forward. Null without a goal. */
  recordThreadGoalContinuation(threadId: string, now: number): ThreadGoalRecord | null {
    return this.write(
      'recordThreadGoalContinuation',
      () => [v.nonEmpty(threadId, 'threadId'), v.integer(now, 'now')] as const,
      (args) => accrueGoalContinuation(this.db, ...args),
    );
  }

  /** A thread's goal, or null. */
  getThreadGoal(threadId: string): ThreadGoalRecord | null {
    return this.op('getThreadGoal', () => getGoalRow(this.db, v.nonEmpty(threadId, 'threadId')));
  }

  /** Deletes a thread's goal; true if there was one. */
  deleteThreadGoal(threadId: string): boolean {
    return this.op('deleteThreadGoal', () => deleteGoalRow(this.db, v.nonEmpty(threadId, 'threadId')));
  }

  // --- messages --------------------------------------------------------------------------------

  /** Every message of a thread that has no child: the ends of all its branches, in id order. */
  listLeafMessages(threadId: string): MessageRecord[] {
    return this.op('listLeafMessages', () => listLeaves(this.db, v.nonEmpty(threadId, 'threadId')));
  }

  /**
   * Makes `messageId` the end of the thread's current branch. NOT_FOUND if the thread or message
   * does not exist, or the message belongs to another thread.
   */
  setCurrentLeafId(threadId: string, messageId: number): void {
    this.write('setCurrentLeafId', () => [v.nonEmpty(threadId, 'threadId'), v.messageId(messageId, 'messageId')] as const, ([tid, mid]) => {
      requireThread(this.db, tid);
      setLeafRow(this.db, tid, mid);
    });
  }

  /** Replaces all of a thread's tools in one transaction. NOT_FOUND if the thread does not exist. */
  persistDynamicTools(threadId: string, tools: DynamicToolRecord[]): void {
    this.write('persistDynamicTools', () => [v.nonEmpty(threadId, 'threadId'), validateTools(tools)] as const, ([tid, rows]) => {
      requireThread(this.db, tid);
      replaceToolRows(this.db, tid, rows);
    });
  }

  /** A thread's tools by position. */
  getDynamicTools(threadId: string): DynamicToolRecord[] {
    return this.op('getDynamicTools', () => listToolRows(this.db, v.nonEmpty(threadId, 'threadId')));
  }

  /**
   * Appends a message as the child of the thread's current leaf and makes it the new leaf, in one
   * transaction. Returns its id. NOT_FOUND if the thread does not exist. A user message names a
   * thread that has no name yet (see titleFromMessage).
   */
  appendMessage(threadId: string, role: string, content: string, item?: unknown): number {
    return this.write(
      'appendMessage',
      () => ({ threadId: v.nonEmpty(threadId, 'threadId'), ...validateMessage(role, content, item), createdAt: this.now() }),
      (m) => addAsLeaf(this.db, this.index, { ...m, parentEntryId: currentLeaf(this.db, m.threadId) }),
    );
  }

  /** The current branch, oldest first: at most `limit` (default 500) messages ending at the current leaf. */
  listMessages(threadId: string, limit?: number): MessageRecord[] {
    return this.op('listMessages', () => listBranch(this.db, v.nonEmpty(threadId, 'threadId'), v.limit(limit, 'limit', 500)));
  }

  /**
   * Starts a new branch: adds a message whose parent is `messageId` and makes it the thread's current
   * leaf. Returns its id. NOT_FOUND if the message does not exist.
   */
  forkAtMessage(messageId: number, role: string, content: string, item?: unknown): number {
    return this.write(
      'forkAtMessage',
      () => ({ parentEntryId: v.messageId(messageId, 'messageId'), ...validateMessage(role, content, item), createdAt: this.now() }),
      (m) => addAsLeaf(this.db, this.index, { ...m, threadId: threadOfMessage(this.db, m.parentEntryId) }),
    );
  }

  /** Deletes every message of a thread and resets its leaf; returns how many. NOT_FOUND if the thread does not exist. */
  clearMessages(threadId: string): number {
    return this.write('clearMessages', () => v.nonEmpty(threadId, 'threadId'), (tid) => {
      requireThread(this.db, tid);
      return clearThreadMessages(this.db, tid);
    });
  }

  // --- checkpoints -----------------------------------------------------------------------------

  /** Saves or overwrites a named checkpoint, stamped now. NOT_FOUND if the thread does not exist. */
  saveCheckpoint(threadId: string, checkpointId: string, state: unknown): void {
    this.write(
      'saveCheckpoint',
      () => {
        if (state === undefined) throw new StoreError('INVALID_ARGUMENT', 'state is required', { details: { field: 'state' } });
        return [v.nonEmpty(threadId, 'threadId'), v.nonEmpty(checkpointId, 'checkpointId'), v.json(state, 'state'), this.now()] as const;
      },
      (args) => {
        requireThread(this.db, args[0]);
        saveCheckpointRow(this.db, ...args);
      },
    );
  }

  /** A checkpoint by id, or without an id the latest one (the last written wins a tie). Null if none. */
  loadCheckpoint(threadId: string, checkpointId?: string | null): CheckpointRecord | null {
    return this.op('loadCheckpoint', () =>
      loadCheckpointRow(this.db, v.nonEmpty(threadId, 'threadId'), checkpointId === undefined || checkpointId === null ? null : v.nonEmpty(checkpointId, 'checkpointId')),
    );
  }

  /** A thread's checkpoints, newest first. Default limit 100. */
  listCheckpoints(threadId: string, limit?: number): CheckpointRecord[] {
    return this.op('listCheckpoints', () => listCheckpointRows(this.db, v.nonEmpty(threadId, 'threadId'), v.limit(limit, 'limit', 100)));
  }

  /** Deletes one checkpoint; deleting a missing one is a no-op. */
  deleteCheckpoint(threadId: string, checkpointId: string): void {
    this.op('deleteCheckpoint', () => deleteCheckpointRow(this.db, v.nonEmpty(threadId, 'threadId'), v.nonEmpty(checkpointId, 'checkpointId')));
  }

  // --- jobs ------------------------------------------------------------------------------------

  /** Inserts or updates a job. */
  upsertJob(job: JobStateRecord): void {
    this.write('upsertJob', () => validateJob(job), (j) => upsertJobRow(this.db, j));
  }

  /** One job, or null. */
  getJob(id: string): JobStateRecord | null {
    return this.op('getJob', () => getJobRow(this.db, v.nonEmpty(id, 'id')));
  }

  /** Jobs by most recent update. Default limit 100. */
  listJobs(limit?: number): JobStateRecord[] {
    return this.op('listJobs', () => listJobRows(this.db, v.limit(limit, 'limit', 100)));
  }

  /** Deletes a job; deleting a missing one is a no-op. */
  deleteJob(id: string): void {
    this.op('deleteJob', () => deleteJobRow(this.db, v.nonEmpty(id, 'id')));
  }

  // --- session index ---------------------------------------------------------------------------

  /** A thread's rollout path from the database, or null. */
  findRolloutPathById(id: string): string | null {
    return this.op('findRolloutPathById', () => getThreadRow(this.db, v.nonEmpty(id, 'id'))?.rolloutPath ?? null);
  }

  /** Appends a line to the session index (the database is not touched). */
  appendThreadName(threadId: string, name: string | null, updatedAt: number, rolloutPath: string | null): void {
    this.op('appendThreadName', () =>
      this.index.append({
        threadId: v.nonEmpty(threadId, 'threadId'),
        threadName: v.optionalText(name, 'name'),
        updatedAt: v.integer(updatedAt, 'updatedAt'),
        rolloutPath: v.optionalText(rolloutPath, 'rolloutPath'),
      }),
    );
  }

  /** A thread's name from the session index, or null. */
  findThreadNameById(threadId: string): string | null {
    return this.op('findThreadNameById', () => this.index.get(v.nonEmpty(threadId, 'threadId'))?.threadName ?? null);
  }

  /** Names for many ids at once; every id asked for is a key, null when unknown or unnamed. */
  findThreadNamesByIds(ids: string[]): Record<string, string | null> {
    return this.op('findThreadNamesByIds', () => {
      const out: Record<string, string | null> = Object.create(null);
      for (const [i, id] of v.list(ids, 'ids').entries()) out[v.nonEmpty(id, `ids[${i}]`)] = this.index.get(id as string)?.threadName ?? null;
      return out;
    });
  }

  /** The rollout path of the thread with this name (ASCII case-insensitive), the most recently updated if several. */
  findThreadPathByName(name: string): string | null {
    return this.op('findThreadPathByName', () => this.index.findByName(v.text(name, 'name'))?.rolloutPath ?? null);
  }

  // --- the store itself ------------------------------------------------------------------------

  /** Closes the connection. Every later call fails with CLOSED; closing twice is a no-op. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.db.close();
    } catch (error) {
      throw toStoreError(error, 'close');
    }
  }
}
