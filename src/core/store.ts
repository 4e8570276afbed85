import type { SqlDriver, TextFile } from '../driver/port.js';
import { listCheckpointRows, loadCheckpointRow, saveCheckpointRow } from './checkpoints.js';
import { StoreError, toStoreError } from './errors.js';
import { accrueGoal, getGoalRow, upsertGoalRow, validateGoal } from './goals.js';
import { getJobRow, listJobRows, upsertJobRow, validateJob } from './jobs.js';
import { clearThreadMessages, listAllMessages, currentLeaf, insertAsLeaf, listBranch, listLeaves, threadOfMessage, toMessage, MESSAGE_COLUMNS } from './messages.js';
import { migrate } from './migrate.js';
import { listMessagePage, listThreadPage } from './pages.js';
import { pruneThreadRows, vacuumDatabase } from './retention.js';
import { searchMessageRows } from './search.js';
import { SessionIndex } from './session-index.js';
import { getThreadRow, listThreadRows, requireThread, updateThread, upsertThreadRow, validateThread } from './threads.js';
import { FINAL_STATUSES, appendText, markInterrupted, requireStreaming, setStatus, statusOf } from './streaming.js';
import { nameUntitledThread } from './titles.js';
import { listToolRows, replaceToolRows, validateTools } from './tools.js';
import { atomically } from './transaction.js';
import { checkIntegrity, importImage, type ImportOptions, type ImportResult } from './transfer.js';
import type {
  CheckpointRecord,
  CoreInfo,
  DynamicToolRecord,
  FinishMessageOptions,
  JobStateRecord,
  MessagePage,
  MessagePageOptions,
  MessageRecord,
  MessageStatus,
  PruneOptions,
  PruneResult,
  SearchHit,
  SearchOptions,
  ThreadGoalRecord,
  ThreadInput,
  ThreadListFilters,
  ThreadMetadata,
  ThreadPage,
  ThreadPageOptions,
  VacuumOptions,
  VacuumResult,
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
 * The conversation-state store: threads, branching message trees, checkpoints, jobs, goals and
 * tools, on any SQLite connection behind the SqlDriver port. Every operation is synchronous and
 * atomic; the browser client runs it in a worker and hands the page Promises.
 *
 * @example
 * const store = StateStore.open({ db, sessionIndex });
 * store.upsertThread({ id: 't1', preview: '', ephemeral: false, modelProvider: 'openai', createdAt: 1, updatedAt: 1,
 *   status: 'idle', cwd: '/', cliVersion: '1.0', source: 'api' });
 * const id = store.appendMessage('t1', 'user', 'hello');
 */
export class StateStore {
  private readonly db: SqlDriver;
  private index: SessionIndex;
  private readonly indexFile: TextFile;
  private readonly path: string;
  private readonly clock: () => number;
  private closed = false;

  private constructor(options: StateStoreOptions, index: SessionIndex) {
    this.db = options.db;
    this.index = index;
    this.indexFile = options.sessionIndex;
    this.path = options.dbPath ?? ':memory:';
    this.clock = options.now ?? systemClock;
  }

  /**
   * Opens a store on a connection: turns on foreign keys, migrates the schema to the latest version
   * (refusing a newer one with SCHEMA_TOO_NEW, untouched), and reads the session index once.
   */
  static open(options: StateStoreOptions): StateStore {
    try {
      // Outside any transaction, or SQLite ignores it.
      options.db.exec('PRAGMA foreign_keys = ON');
      migrate(options.db);
      return new StateStore(options, new SessionIndex(options.sessionIndex));
    } catch (error) {
      throw toStoreError(error, 'open');
    }
  }

  /** Runs one operation: refuses a closed store and turns every failure into a StoreError. */
  #op<T>(name: string, fn: () => T): T {
    if (this.closed) throw new StoreError('CLOSED', `${name}: the store is closed`);
    try {
      return fn();
    } catch (error) {
      throw toStoreError(error, name);
    }
  }

  #now(): number {
    return v.integer(this.clock(), 'clock()');
  }

  /** Where the database lives (":memory:" for an in-memory store). */
  dbPath(): string {
    return this.#op('dbPath', () => this.path);
  }

  // --- threads ---------------------------------------------------------------------------------

  /** Inserts or updates a thread and appends its name to the session index. It never moves currentLeafId. */
  upsertThread(thread: ThreadInput): void {
    this.#op('upsertThread', () => {
      const t = validateThread(thread);
      atomically(this.db, () => {
        upsertThreadRow(this.db, t);
        this.index.append({ threadId: t.id, threadName: t.name, updatedAt: t.updatedAt, rolloutPath: t.rolloutPath });
      });
    });
  }

  /** One thread, or null. */
  getThread(id: string): ThreadMetadata | null {
    return this.#op('getThread', () => getThreadRow(this.db, v.nonEmpty(id, 'id')));
  }

  /** Threads by most recent update; archived ones only with `includeArchived`. Default limit 50. */
  listThreads(filters?: ThreadListFilters): ThreadMetadata[] {
    return this.#op('listThreads', () => listThreadRows(this.db, filters));
  }

  /**
   * One page of threads by updatedAt descending (id descending on ties). Pass `nextCursor` back as
   * `cursor` for the next page; a cursor that is not one of ours is INVALID_ARGUMENT.
   */
  listThreadsPage(options?: ThreadPageOptions): ThreadPage {
    return this.#op('listThreadsPage', () => listThreadPage(this.db, options));
  }

  /** Archives a thread: archived, archivedAt = now, status "archived". NOT_FOUND if it does not exist. */
  markArchived(id: string): void {
    this.#op('markArchived', () => {
      const threadId = v.nonEmpty(id, 'id');
      updateThread(this.db, threadId, "UPDATE threads SET archived = 1, archived_at = ?2, status = 'archived' WHERE id = ?1", [threadId, this.#now()]);
    });
  }

  /** Unarchives a thread; a status left at "archived" becomes "idle". NOT_FOUND if it does not exist. */
  markUnarchived(id: string): void {
    this.#op('markUnarchived', () => {
      const threadId = v.nonEmpty(id, 'id');
      updateThread(
        this.db,
        threadId,
        "UPDATE threads SET archived = 0, archived_at = NULL, status = CASE status WHEN 'archived' THEN 'idle' ELSE status END WHERE id = ?1",
        [threadId],
      );
    });
  }

  /** Deletes a thread with its messages, checkpoints, tools and goal. Deleting a missing thread is a no-op. */
  deleteThread(id: string): void {
    this.#op('deleteThread', () => {
      this.db.run('DELETE FROM threads WHERE id = ?1', [v.nonEmpty(id, 'id')]);
    });
  }

  /** Sets (or with null clears) a thread's memory mode. NOT_FOUND if the thread does not exist. */
  setThreadMemoryMode(id: string, mode: string | null): void {
    this.#op('setThreadMemoryMode', () => {
      const threadId = v.nonEmpty(id, 'id');
      updateThread(this.db, threadId, 'UPDATE threads SET memory_mode = ?2 WHERE id = ?1', [threadId, v.optionalText(mode, 'mode')]);
    });
  }

  /** A thread's memory mode; null when unset or when the thread does not exist. */
  getThreadMemoryMode(id: string): string | null {
    return this.#op('getThreadMemoryMode', () => getThreadRow(this.db, v.nonEmpty(id, 'id'))?.memoryMode ?? null);
  }

  // --- goals -----------------------------------------------------------------------------------

  /** Inserts or replaces a thread's goal. NOT_FOUND if the thread does not exist. */
  upsertThreadGoal(goal: ThreadGoalRecord): void {
    this.#op('upsertThreadGoal', () => {
      const g = validateGoal(goal);
      atomically(this.db, () => {
        requireThread(this.db, g.threadId);
        upsertGoalRow(this.db, g);
      });
    });
  }

  /**
   * Adds token and time usage to a thread's goal in one atomic UPDATE (`col = col + ?`); updatedAt
   * only moves forward. Returns the goal, or null when the thread has no goal (none is created).
   */
  recordThreadGoalUsage(threadId: string, tokenDelta: number, timeDeltaSeconds: number, now: number): ThreadGoalRecord | null {
    return this.#op('recordThreadGoalUsage', () => {
      const params = [v.nonEmpty(threadId, 'threadId'), v.integer(tokenDelta, 'tokenDelta'), v.integer(timeDeltaSeconds, 'timeDeltaSeconds'), v.integer(now, 'now')];
      return atomically(this.db, () =>
        accrueGoal(
          this.db,
          params[0] as string,
          `UPDATE thread_goals
           SET tokens_used = tokens_used + ?2, time_used_seconds = time_used_seconds + ?3, updated_at = MAX(updated_at, ?4)
           WHERE thread_id = ?1`,
          params,
        ),
      );
    });
  }

  /** Adds one to a goal's durable continuation count; updatedAt only moves forward. Null without a goal. */
  recordThreadGoalContinuation(threadId: string, now: number): ThreadGoalRecord | null {
    return this.#op('recordThreadGoalContinuation', () => {
      const id = v.nonEmpty(threadId, 'threadId');
      const at = v.integer(now, 'now');
      return atomically(this.db, () =>
        accrueGoal(
          this.db,
          id,
          'UPDATE thread_goals SET continuation_count = continuation_count + 1, updated_at = MAX(updated_at, ?2) WHERE thread_id = ?1',
          [id, at],
        ),
      );
    });
  }

  /** A thread's goal, or null. */
  getThreadGoal(threadId: string): ThreadGoalRecord | null {
    return this.#op('getThreadGoal', () => getGoalRow(this.db, v.nonEmpty(threadId, 'threadId')));
  }

  /** Deletes a thread's goal; true if there was one. */
  deleteThreadGoal(threadId: string): boolean {
    return this.#op('deleteThreadGoal', () => this.db.run('DELETE FROM thread_goals WHERE thread_id = ?1', [v.nonEmpty(threadId, 'threadId')]).changes > 0);
  }

  // --- messages --------------------------------------------------------------------------------

  /** Every message of a thread that has no child: the ends of all its branches, in id order. */
  listLeafMessages(threadId: string): MessageRecord[] {
    return this.#op('listLeafMessages', () => listLeaves(this.db, v.nonEmpty(threadId, 'threadId')));
  }

  /**
   * Every message of a thread, on every branch, in id order (a parent always before its children),
   * at most `limit` (default 10,000): the whole tree, read without moving the current leaf.
   */
  listThreadMessages(threadId: string, limit?: number): MessageRecord[] {
    return this.#op('listThreadMessages', () => listAllMessages(this.db, v.nonEmpty(threadId, 'threadId'), v.limit(limit, 'limit', 10_000)));
  }

  /**
   * Makes `messageId` the end of the thread's current branch. NOT_FOUND if the thread or message
   * does not exist, or the message belongs to another thread.
   */
  setCurrentLeafId(threadId: string, messageId: number): void {
    this.#op('setCurrentLeafId', () => {
      const tid = v.nonEmpty(threadId, 'threadId');
      const mid = v.messageId(messageId, 'messageId');
      atomically(this.db, () => {
        requireThread(this.db, tid);
        if (threadOfMessage(this.db, mid) !== tid) {
          throw new StoreError('NOT_FOUND', `message ${mid} is not in thread ${tid}`, { details: { threadId: tid, messageId: mid } });
        }
        this.db.run('UPDATE threads SET current_leaf_id = ?1 WHERE id = ?2', [mid, tid]);
      });
    });
  }

  /** Replaces all of a thread's tools in one transaction. NOT_FOUND if the thread does not exist. */
  persistDynamicTools(threadId: string, tools: DynamicToolRecord[]): void {
    this.#op('persistDynamicTools', () => {
      const tid = v.nonEmpty(threadId, 'threadId');
      const rows = validateTools(tools);
      atomically(this.db, () => {
        requireThread(this.db, tid);
        replaceToolRows(this.db, tid, rows);
      });
    });
  }

  /** A thread's tools by position. */
  getDynamicTools(threadId: string): DynamicToolRecord[] {
    return this.#op('getDynamicTools', () => listToolRows(this.db, v.nonEmpty(threadId, 'threadId')));
  }

  /**
   * Appends a message as the child of the thread's current leaf and makes it the new leaf, in one
   * transaction. Returns its id. NOT_FOUND if the thread does not exist. A user message names a
   * thread that has no name yet (see titleFromMessage).
   */
  appendMessage(threadId: string, role: string, content: string, item?: unknown): number {
    return this.#op('appendMessage', () => {
      const tid = v.nonEmpty(threadId, 'threadId');
      const message = { role: v.nonEmpty(role, 'role'), content: v.text(content, 'content'), itemJson: v.optionalJson(item, 'item') };
      const createdAt = this.#now();
      return atomically(this.db, () => {
        const id = insertAsLeaf(this.db, { threadId: tid, ...message, createdAt, parentEntryId: currentLeaf(this.db, tid) });
        nameUntitledThread(this.db, this.index, tid, message.role, message.content);
        return id;
      });
    });
  }

  /** The current branch, oldest first: at most `limit` (default 500) messages ending at the current leaf. */
  listMessages(threadId: string, limit?: number): MessageRecord[] {
    return this.#op('listMessages', () => listBranch(this.db, v.nonEmpty(threadId, 'threadId'), v.limit(limit, 'limit', 500)));
  }

  /**
   * Starts a new branch: adds a message whose parent is `messageId` and makes it the thread's current
   * leaf. Returns its id. NOT_FOUND if the message does not exist.
   */
  forkAtMessage(messageId: number, role: string, content: string, item?: unknown): number {
    return this.#op('forkAtMessage', () => {
      const parent = v.messageId(messageId, 'messageId');
      const message = { role: v.nonEmpty(role, 'role'), content: v.text(content, 'content'), itemJson: v.optionalJson(item, 'item') };
      const createdAt = this.#now();
      return atomically(this.db, () => {
        const tid = threadOfMessage(this.db, parent);
        const id = insertAsLeaf(this.db, { threadId: tid, ...message, createdAt, parentEntryId: parent });
        nameUntitledThread(this.db, this.index, tid, message.role, message.content);
        return id;
      });
    });
  }

  /** Deletes every message of a thread and resets its leaf; returns how many. NOT_FOUND if the thread does not exist. */
  clearMessages(threadId: string): number {
    return this.#op('clearMessages', () => {
      const tid = v.nonEmpty(threadId, 'threadId');
      return atomically(this.db, () => {
        requireThread(this.db, tid);
        return clearThreadMessages(this.db, tid);
      });
    });
  }

  /**
   * One page of the current branch for infinite scroll, newest page first, oldest first within it.
   * Pass `nextBefore` back as `before` for the next, older page. NOT_FOUND if the thread does not
   * exist or `before` is not one of its messages.
   */
  listMessagesPage(threadId: string, options?: MessagePageOptions): MessagePage {
    return this.#op('listMessagesPage', () => listMessagePage(this.db, threadId, options));
  }

  // --- streaming -------------------------------------------------------------------------------

  /**
   * Starts a streamed message: appended as the thread's new leaf with empty content and status
   * "streaming". Returns its id. Feed it with appendMessageDelta and end it with finishMessage.
   */
  beginMessage(threadId: string, role: string, item?: unknown): number {
    return this.#op('beginMessage', () => {
      const tid = v.nonEmpty(threadId, 'threadId');
      const message = { role: v.nonEmpty(role, 'role'), content: '', itemJson: v.optionalJson(item, 'item') };
      const now = this.#now();
      return atomically(this.db, () => {
        const id = insertAsLeaf(this.db, { threadId: tid, ...message, createdAt: now, parentEntryId: currentLeaf(this.db, tid) });
        setStatus(this.db, id, 'streaming', now);
        return id;
      });
    });
  }

  /**
   * Appends text to a streaming message (and to its search index). NOT_FOUND if the message does not
   * exist, CONFLICT if it is not streaming. Through the browser client deltas are buffered and written
   * together: the promise may resolve before the text is durable, and finishMessage is the durable point.
   */
  appendMessageDelta(messageId: number, delta: string): void {
    this.#op('appendMessageDelta', () => {
      const id = v.messageId(messageId, 'messageId');
      const text = v.text(delta, 'delta');
      const now = this.#now();
      atomically(this.db, () => {
        requireStreaming(this.db, id);
        if (text !== '') appendText(this.db, id, text, now);
      });
    });
  }

  /**
   * Ends a streaming message with status `complete` (default), `failed` or `cancelled`, replacing its
   * item when one is given. A completed user message names an unnamed thread. Returns the message.
   * NOT_FOUND if it does not exist, CONFLICT if it is not streaming.
   */
  finishMessage(messageId: number, options?: FinishMessageOptions): MessageRecord {
    return this.#op('finishMessage', () => {
      const id = v.messageId(messageId, 'messageId');
      const o = options === undefined ? {} : v.record(options, 'options');
      const status = o['status'] === undefined ? 'complete' : v.oneOf(o['status'], 'options.status', FINAL_STATUSES);
      const itemJson = 'item' in o && o['item'] !== undefined ? { value: v.optionalJson(o['item'], 'options.item') } : null;
      const now = this.#now();
      return atomically(this.db, () => {
        const tid = requireStreaming(this.db, id);
        setStatus(this.db, id, status, now);
        if (itemJson) this.db.run('UPDATE messages SET item_json = ?2 WHERE id = ?1', [id, itemJson.value]);
        const message = toMessage(this.db.all(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?1`, [id])[0]!);
        if (status === 'complete') nameUntitledThread(this.db, this.index, tid, message.role, message.content);
        return message;
      });
    });
  }

  /** A message's status: "complete" for a plain message. NOT_FOUND if the message does not exist. */
  getMessageStatus(messageId: number): MessageStatus {
    return this.#op('getMessageStatus', () => statusOf(this.db, v.messageId(messageId, 'messageId')).status);
  }

  /**
   * Marks every message still "streaming" as "interrupted", keeping the text written so far, and
   * returns their ids. Call it when opening a store whose previous writer may have died mid-stream;
   * the browser worker does so at open.
   */
  recoverInterruptedMessages(): number[] {
    return this.#op('recoverInterruptedMessages', () => {
      const now = this.#now();
      return atomically(this.db, () => markInterrupted(this.db, now));
    });
  }

  // --- search ----------------------------------------------------------------------------------

  /**
   * Full-text search over message content, best match first. Each word of `query` is a literal
   * term (quotes and operators included) and every one must occur; `advanced: true` takes FTS5 query
   * syntax instead (a syntax error is INVALID_ARGUMENT). An empty or blank query finds nothing.
   * Snippets mark matches with «…».
   */
  searchMessages(query: string, options?: SearchOptions): SearchHit[] {
    return this.#op('searchMessages', () => searchMessageRows(this.db, query, options));
  }

  // --- checkpoints -----------------------------------------------------------------------------

  /** Saves or overwrites a named checkpoint, stamped now. NOT_FOUND if the thread does not exist. */
  saveCheckpoint(threadId: string, checkpointId: string, state: unknown): void {
    this.#op('saveCheckpoint', () => {
      const tid = v.nonEmpty(threadId, 'threadId');
      const cid = v.nonEmpty(checkpointId, 'checkpointId');
      if (state === undefined) throw new StoreError('INVALID_ARGUMENT', 'state is required', { details: { field: 'state' } });
      const stateJson = v.json(state, 'state');
      const now = this.#now();
      atomically(this.db, () => {
        requireThread(this.db, tid);
        saveCheckpointRow(this.db, tid, cid, stateJson, now);
      });
    });
  }

  /** A checkpoint by id, or without an id the latest one (the last written wins a tie). Null if none. */
  loadCheckpoint(threadId: string, checkpointId?: string | null): CheckpointRecord | null {
    return this.#op('loadCheckpoint', () =>
      loadCheckpointRow(this.db, v.nonEmpty(threadId, 'threadId'), checkpointId === undefined || checkpointId === null ? null : v.nonEmpty(checkpointId, 'checkpointId')),
    );
  }

  /** A thread's checkpoints, newest first. Default limit 100. */
  listCheckpoints(threadId: string, limit?: number): CheckpointRecord[] {
    return this.#op('listCheckpoints', () => listCheckpointRows(this.db, v.nonEmpty(threadId, 'threadId'), v.limit(limit, 'limit', 100)));
  }

  /** Deletes one checkpoint; deleting a missing one is a no-op. */
  deleteCheckpoint(threadId: string, checkpointId: string): void {
    this.#op('deleteCheckpoint', () => {
      this.db.run('DELETE FROM checkpoints WHERE thread_id = ?1 AND checkpoint_id = ?2', [v.nonEmpty(threadId, 'threadId'), v.nonEmpty(checkpointId, 'checkpointId')]);
    });
  }

  // --- jobs ------------------------------------------------------------------------------------

  /** Inserts or updates a job. */
  upsertJob(job: JobStateRecord): void {
    this.#op('upsertJob', () => {
      const j = validateJob(job);
      atomically(this.db, () => upsertJobRow(this.db, j));
    });
  }

  /** One job, or null. */
  getJob(id: string): JobStateRecord | null {
    return this.#op('getJob', () => getJobRow(this.db, v.nonEmpty(id, 'id')));
  }

  /** Jobs by most recent update. Default limit 100. */
  listJobs(limit?: number): JobStateRecord[] {
    return this.#op('listJobs', () => listJobRows(this.db, v.limit(limit, 'limit', 100)));
  }

  /** Deletes a job; deleting a missing one is a no-op. */
  deleteJob(id: string): void {
    this.#op('deleteJob', () => {
      this.db.run('DELETE FROM jobs WHERE id = ?1', [v.nonEmpty(id, 'id')]);
    });
  }

  // --- session index ---------------------------------------------------------------------------

  /** A thread's rollout path from the database, or null. */
  findRolloutPathById(id: string): string | null {
    return this.#op('findRolloutPathById', () => getThreadRow(this.db, v.nonEmpty(id, 'id'))?.rolloutPath ?? null);
  }

  /** Appends a line to the session index (the database is not touched). */
  appendThreadName(threadId: string, name: string | null, updatedAt: number, rolloutPath: string | null): void {
    this.#op('appendThreadName', () => {
      this.index.append({
        threadId: v.nonEmpty(threadId, 'threadId'),
        threadName: v.optionalText(name, 'name'),
        updatedAt: v.integer(updatedAt, 'updatedAt'),
        rolloutPath: v.optionalText(rolloutPath, 'rolloutPath'),
      });
    });
  }

  /** A thread's name from the session index, or null. */
  findThreadNameById(threadId: string): string | null {
    return this.#op('findThreadNameById', () => this.index.get(v.nonEmpty(threadId, 'threadId'))?.threadName ?? null);
  }

  /** Names for many ids at once; every id asked for is a key, null when unknown or unnamed. */
  findThreadNamesByIds(ids: string[]): Record<string, string | null> {
    return this.#op('findThreadNamesByIds', () => {
      const out: Record<string, string | null> = Object.create(null);
      v.list(ids, 'ids').forEach((id, i) => {
        const key = v.nonEmpty(id, `ids[${i}]`);
        out[key] = this.index.get(key)?.threadName ?? null;
      });
      return out;
    });
  }

  /** The rollout path of the thread with this name (ASCII case-insensitive), the most recently updated if several. */
  findThreadPathByName(name: string): string | null {
    return this.#op('findThreadPathByName', () => this.index.findByName(v.text(name, 'name'))?.rolloutPath ?? null);
  }

  /** Rewrites the session index with only the last line of each thread. Returns the line counts before and after. */
  compactSessionIndex(): { before: number; after: number } {
    return this.#op('compactSessionIndex', () => this.index.compact());
  }

  // --- whole-store export and import ----------------------------------------------------------

  /** The database as a SQLite file image that native SQLite 3.40+ opens. Run it between transactions for a committed state. */
  exportDatabase(): Uint8Array {
    return this.#op('exportDatabase', () => this.db.serialize());
  }

  /** The session index file's text (JSONL, the seed's format). */
  exportSessionIndex(): string {
    return this.#op('exportSessionIndex', () => this.indexFile.read());
  }

  /**
   * Replaces all data with a SQLite file: checks its header and PRAGMA integrity_check, refuses a
   * newer schema (SCHEMA_TOO_NEW), migrates an older one, and only then swaps it in, in one
   * transaction. On any failure the current data is untouched. The session index is replaced by
   * `options.sessionIndex`, or rebuilt from the imported threads.
   */
  importDatabase(bytes: Uint8Array, options: ImportOptions = {}): ImportResult {
    return this.#op('importDatabase', () =>
      importImage(this.db, bytes, options, (text) => {
        this.indexFile.replace(text);
        this.index = new SessionIndex(this.indexFile);
      }),
    );
  }

  /** PRAGMA integrity_check of the live database. */
  integrityCheck(): { ok: boolean; problems: string[] } {
    return this.#op('integrityCheck', () => checkIntegrity(this.db));
  }

  // --- retention -------------------------------------------------------------------------------

  /**
   * Deletes whole threads (messages, search rows, checkpoints, tools, goal) that meet every criterion
   * given, and compacts the session index without them. At least one of olderThan and keepLatest is
   * required.
   */
  pruneThreads(options: PruneOptions): PruneResult {
    return this.#op('pruneThreads', () => atomically(this.db, () => pruneThreadRows(this.db, this.index, options)));
  }

  /**
   * Rebuilds the file to give freed space back (VACUUM), only when `availableBytes` is at least twice
   * the database size, else QUOTA_EXCEEDED. The browser client supplies availableBytes itself.
   */
  vacuum(options?: VacuumOptions): VacuumResult {
    return this.#op('vacuum', () => vacuumDatabase(this.db, options));
  }

  // --- the store itself ------------------------------------------------------------------------

  /** SQLite version, schema version and session-index counts. */
  info(): CoreInfo {
    return this.#op('info', () => ({
      sqliteVersion: String(this.db.all('SELECT sqlite_version() AS v')[0]?.['v'] ?? ''),
      schemaVersion: Number(this.db.all('PRAGMA user_version')[0]?.['user_version'] ?? 0),
      sessionIndexEntries: this.index.size,
      sessionIndexSkippedLines: this.index.skippedLines,
    }));
  }

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
