import { describeChange, type StoreChange } from './changes.js';
import {
  addChatMessage, branchWithSiblings, createThreadRow, resolveParent, switchToBranch, updateChatMessage, updateThreadRow, validateChatMessage, validateMessagePatch,
  validateNewThread, validateParentId,
} from './chat.js';
import { StoreError, toStoreError } from './errors.js';
import { watchBranch, watchThreads, type LiveHost } from './live.js';
import { operation, SERVED_METHODS } from './operations.js';
import { listAllMessages, validateMessage } from './messages.js';
import { migrate } from './migrate.js';
import { listMessagePage, listThreadPage } from './pages.js';
import { pruneThreadRows, vacuumDatabase } from './retention.js';
import { searchMessageRows } from './search.js';
import { SessionIndex } from './session-index.js';
import type { SqlDriver } from '../driver/port.js';
import { FINAL_STATUSES, appendDelta, beginStream, finishStream, markInterrupted, statusOf, streamingIds } from './streaming.js';
import { checkIntegrity, databaseFacts, importImage, type ImportOptions, type ImportResult } from './transfer.js';
import type {
  BranchMessage, BranchOptions, CreateThreadInput, MessagePatch, NewChatMessage, ThreadListFilters, ThreadMetadata, ThreadPatch, Unsubscribe, WatchOptions,
  FinishMessageOptions, MessagePage, MessagePageOptions, MessageRecord, MessageStatus, PruneOptions, PruneResult, SearchHit, SearchOptions,
  StoreInfo, ThreadPage, ThreadPageOptions, VacuumOptions, VacuumResult,
} from './types.js';
import * as v from './validate.js';
import { GraphStore } from './graph-store.js';
import type { StateStoreOptions } from './seed-store.js';

export type { StateStoreOptions } from './seed-store.js';

/**
 * What a layer above the core (sync, src/sync/) works with, so that the core needs nothing of it: the
 * connection, the session index, the clock, the store's listeners, and a say in every import. Never
 * served to a page.
 */
export interface StoreLayerPort {
  readonly db: SqlDriver;
  /** The session index; an import replaces it, so read it each time. */
  readonly index: SessionIndex;
  /** The store's clock, in Unix seconds. */
  now(): number;
  /** Tells the store's own subscribers of changes the layer made (rows pulled from another device). */
  announce(changes: readonly StoreChange[]): void;
  /** Runs `fn` as a store call named `name`: refused once closed, atomic, its failures StoreErrors. */
  call<T>(name: string, fn: () => T): T;
  /** Runs `fn` in every import, once the file's rows and session index are in; returns the function that stops it. */
  onImport(fn: () => void): () => void;
}

/**
 * The conversation-state store: threads, branching message trees, checkpoints, jobs, goals and
 * tools, on any SQLite connection behind the SqlDriver port. Every operation is synchronous and
 * atomic; the browser client runs it in a worker and hands the page Promises. The seed's operations
 * come from SeedStore and LangGraph checkpoints from GraphStore; this class adds streaming, search,
 * paging, export and import, retention and info. How a host serves each method is said in the operation table (operations.ts).
 *
 * @example
 * const store = StateStore.open({ db, sessionIndex });
 * store.upsertThread({ id: 't1', preview: '', ephemeral: false, modelProvider: 'openai', createdAt: 1, updatedAt: 1,
 *   status: 'idle', cwd: '/', cliVersion: '1.0', source: 'api' });
 * const id = store.appendMessage('t1', 'user', 'hello');
 */
export class StateStore extends GraphStore {
  readonly #listeners = new Set<(change: StoreChange) => void>();
  /** Streams that were open when an import replaced the database. */
  readonly #replacedStreams = new Set<number>();
  /** What the layers above the core run inside an import (StoreLayerPort.onImport). */
  readonly #importHooks = new Set<() => void>();

  static {
    // Every call that changes something announces it to this store's own subscribers (the live
    // queries of a Node or edge host), as the operation table describes it. A host that batches calls
    // in one transaction (the browser worker) publishes its own notices after the commit instead.
    for (const method of SERVED_METHODS) {
      if (!operation(method).change) continue;
      const inner = StateStore.prototype[method] as (...args: unknown[]) => unknown;
      Object.defineProperty(StateStore.prototype, method, {
        configurable: true,
        writable: true,
        value: function announced(this: StateStore, ...args: unknown[]) {
          const result = inner.apply(this, args);
          if (this.#listeners.size > 0) this.#announce(describeChange(this.db, method, args, result));
          return result;
        },
      });
    }
  }

  #announce(change: StoreChange | null): void {
    if (!change) return;
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch {
        // One failing listener must not stop the others, nor fail the write that has committed.
      }
    }
  }

  /**
   * Opens a store on a connection: turns on foreign keys, migrates the schema to the latest version
   * (refusing a newer one with SCHEMA_TOO_NEW, untouched), and reads the session index once.
   */
  static open(options: StateStoreOptions): StateStore {
    try {
      // Outside any transaction, or SQLite ignores it. Some engines always enforce them and refuse the pragma.
      if (options.db.capabilities?.foreignKeys !== 'always') options.db.exec('PRAGMA foreign_keys = ON');
      migrate(options.db);
      return new StateStore(options, new SessionIndex(options.sessionIndex));
    } catch (error) {
      throw toStoreError(error, 'open');
    }
  }

  // --- the app layer: shaped for chat UIs ---------------------------------------------------------

  /**
   * Creates a thread with sensible defaults and returns it: a UUID when `id` is not given, timestamps
   * now, status "idle", source "api". A `title` names it (in the session index too); without one it
   * is named by its first user message. CONFLICT if the id exists, and nothing changes.
   */
  createThread(input?: CreateThreadInput): ThreadMetadata {
    return this.write('createThread', () => validateNewThread(input, this.now(), () => crypto.randomUUID()), (t) => createThreadRow(this.db, this.index, t));
  }

  /**
   * Changes the given fields of a thread, validated as upsertThread validates them, and returns the
   * updated thread; a new name goes to the session index. NOT_FOUND for a missing thread,
   * INVALID_ARGUMENT for a bad or unknown field, and nothing changes.
   */
  updateThread(id: string, patch: ThreadPatch): ThreadMetadata {
    return this.write('updateThread', () => v.nonEmpty(id, 'id'), (tid) => updateThreadRow(this.db, this.index, tid, patch));
  }

  /**
   * Adds a message and returns it. It answers `parentId` (a new branch: edit, regenerate), or without
   * one the current leaf; either way it becomes the leaf and the thread's updatedAt moves to now, in
   * one transaction. A parent of another thread is INVALID_ARGUMENT, a missing one NOT_FOUND.
   */
  addMessage(threadId: string, message: NewChatMessage): MessageRecord {
    return this.write(
      'addMessage',
      () => [v.nonEmpty(threadId, 'threadId'), validateChatMessage(message), this.now()] as const,
      ([tid, m, now]) => addChatMessage(this.db, this.index, tid, m, now),
    );
  }

  /**
   * Changes a message in place, without a fork: its `content`, its `item`, or both (validated as
   * addMessage validates them; `item: null` clears it). The message keeps its id, parent and place;
   * its thread's updatedAt moves to now; live queries and subscribers hear of it. Returns the message.
   * NOT_FOUND for a missing message, CONFLICT while it is streaming (another writer's deltas are
   * still coming), INVALID_ARGUMENT for a bad or unknown field; nothing changes then.
   *
   * @example
   * const answer = store.addMessage(threadId, { role: 'assistant', content: '', item: { toolCalls: [call] } });
   * store.updateMessage(answer.id, { item: { toolCalls: [{ ...call, output: 21 }] } }); // the tool's result arrived
   */
  updateMessage(messageId: number, patch: MessagePatch): MessageRecord {
    return this.write(
      'updateMessage',
      () => [v.messageId(messageId, 'messageId'), validateMessagePatch(patch), this.now()] as const,
      ([id, p, now]) => updateChatMessage(this.db, id, p, now),
    );
  }

  /**
   * The current branch, oldest first, each message with its status and its position among its
   * siblings (‹ index + 1 / count ›). NOT_FOUND if the thread does not exist.
   */
  getBranch(threadId: string, options?: BranchOptions): BranchMessage[] {
    return this.op('getBranch', () => {
      const o = options === undefined ? {} : v.record(options, 'options');
      return branchWithSiblings(this.db, v.nonEmpty(threadId, 'threadId'), v.limit(o['limit'], 'options.limit', 500));
    });
  }

  /**
   * Switches the thread to the branch through `messageId` and returns that branch, as getBranch
   * gives it. The branch does not stop at the message: it runs on to the most recently written leaf
   * below it (the newest `createdAt`, the larger id on a tie), so switching ‹ 1/2 › back to an older
   * answer brings back the follow-ups written under it. (setCurrentLeafId, by contrast, ends the
   * branch exactly at the message it is given.) NOT_FOUND for a missing thread or a message that is
   * not one of its own; INVALID_ARGUMENT for a bad id or limit; nothing changes either way.
   *
   * @example
   * // m is a BranchMessage of getBranch or useBranch: show its previous sibling and what grew under it.
   * const branch = store.switchBranch(threadId, m.siblings.ids[m.siblings.index - 1]!);
   */
  switchBranch(threadId: string, messageId: number, options?: BranchOptions): BranchMessage[] {
    return this.write(
      'switchBranch',
      () => {
        const o = options === undefined ? {} : v.record(options, 'options');
        return [v.nonEmpty(threadId, 'threadId'), v.messageId(messageId, 'messageId'), v.limit(o['limit'], 'options.limit', 500)] as const;
      },
      ([tid, mid, limit]) => switchToBranch(this.db, tid, mid, limit),
    );
  }

  /** Calls `listener` with every change a call on this store makes, once it has committed. Returns the function that stops it. */
  subscribe(listener: (change: StoreChange) => void): Unsubscribe {
    return this.op('subscribe', () => {
      if (typeof listener !== 'function') throw new StoreError('INVALID_ARGUMENT', 'listener must be a function', { details: { field: 'listener' } });
      this.#listeners.add(listener);
      return () => void this.#listeners.delete(listener);
    });
  }

  /**
   * The current branch of a thread, live: `listener` gets getBranch's result at once, then again
   * after every change that alters it (coalesced to one run per microtask). `onError` hears a failed
   * re-query. Returns the function that stops it.
   */
  watchBranch(threadId: string, listener: (branch: BranchMessage[]) => void, options?: WatchOptions & BranchOptions): Unsubscribe {
    return watchBranch(this.#live, threadId, listener, options);
  }

  /** The thread list (listThreads), live, as watchBranch is. */
  watchThreads(options: (ThreadListFilters & WatchOptions) | undefined, listener: (threads: ThreadMetadata[]) => void): Unsubscribe {
    return watchThreads(this.#live, options, listener);
  }

  get #live(): LiveHost {
    return {
      getBranch: (threadId, options) => this.getBranch(threadId, options),
      listThreads: (filters) => this.listThreads(filters),
      onChange: (listener) => this.subscribe(listener),
      schedule: (fn) => queueMicrotask(fn),
    };
  }

  // --- threads ---------------------------------------------------------------------------------

  /**
   * One page of threads by updatedAt descending (id descending on ties). Pass `nextCursor` back as
   * `cursor` for the next page; a cursor that is not one of ours is INVALID_ARGUMENT.
   */
  listThreadsPage(options?: ThreadPageOptions): ThreadPage {
    return this.op('listThreadsPage', () => listThreadPage(this.db, options));
  }

  // --- messages --------------------------------------------------------------------------------

  /**
   * Every message of a thread, on every branch, in id order (a parent always before its children),
   * at most `limit` (default 10,000): the whole tree, read without moving the current leaf.
   */
  listThreadMessages(threadId: string, limit?: number): MessageRecord[] {
    return this.op('listThreadMessages', () => listAllMessages(this.db, v.nonEmpty(threadId, 'threadId'), v.limit(limit, 'limit', 10_000)));
  }

  /**
   * One page of the current branch for infinite scroll, newest page first, oldest first within it.
   * Pass `nextBefore` back as `before` for the next, older page. NOT_FOUND if the thread does not
   * exist or `before` is not one of its messages.
   */
  listMessagesPage(threadId: string, options?: MessagePageOptions): MessagePage {
    return this.op('listMessagesPage', () => listMessagePage(this.db, threadId, options));
  }

  // --- streaming -------------------------------------------------------------------------------

  /**
   * Starts a streamed message: added with empty content and status "streaming" as the child of the
   * current leaf, or of `options.parentId` as addMessage takes it (a streamed regenerate in one
   * atomic call), and made the leaf. Returns its id. Feed it with appendMessageDelta and end it with
   * finishMessage.
   */
  beginMessage(threadId: string, role: string, item?: unknown, options?: { parentId?: number | null }): number {
    return this.write(
      'beginMessage',
      () => ({
        threadId: v.nonEmpty(threadId, 'threadId'),
        ...validateMessage(role, '', item),
        createdAt: this.now(),
        parentId: validateParentId(options === undefined ? undefined : v.record(options, 'options')['parentId'], 'options.parentId'),
      }),
      ({ parentId, ...m }) => {
        const id = beginStream(this.db, { ...m, parentEntryId: resolveParent(this.db, m.threadId, parentId, 'options.parentId') });
        // The imported database may hand out an id that a replaced stream had.
        this.#replacedStreams.delete(id);
        return id;
      },
    );
  }

  /**
   * Appends text to a streaming message (and to its search index). NOT_FOUND if the message does not
   * exist, CONFLICT if it is not streaming, REPLACED if an import replaced the database since the
   * stream began. Through the browser client deltas are buffered and written
   * together: the promise may resolve before the text is durable, and finishMessage is the durable point.
   */
  appendMessageDelta(messageId: number, delta: string): void {
    this.write(
      'appendMessageDelta',
      () => [this.#notReplaced(v.messageId(messageId, 'messageId')), v.text(delta, 'delta'), this.now()] as const,
      (args) => appendDelta(this.db, ...args),
    );
  }

  /**
   * Ends a streaming message with status `complete` (default), `failed` or `cancelled`, replacing its
   * item when one is given. A completed user message names an unnamed thread. Returns the message.
   * NOT_FOUND if it does not exist, CONFLICT if it is not streaming, REPLACED if an import replaced
   * the database since the stream began.
   */
  finishMessage(messageId: number, options?: FinishMessageOptions): MessageRecord {
    return this.write(
      'finishMessage',
      () => {
        const o = options === undefined ? {} : v.record(options, 'options');
        return [
          this.#notReplaced(v.messageId(messageId, 'messageId')),
          o['status'] === undefined ? 'complete' : v.oneOf(o['status'], 'options.status', FINAL_STATUSES),
          'item' in o && o['item'] !== undefined ? { json: v.optionalJson(o['item'], 'options.item') } : null,
          this.now(),
        ] as const;
      },
      (args) => finishStream(this.db, this.index, ...args),
    );
  }

  /** A message's status: "complete" for a plain message. NOT_FOUND if the message does not exist. */
  getMessageStatus(messageId: number): MessageStatus {
    return this.op('getMessageStatus', () => statusOf(this.db, v.messageId(messageId, 'messageId')).status);
  }

  /**
   * Marks every message still "streaming" as "interrupted", keeping the text written so far, and
   * returns their ids; those in `except` are left alone (a synced store passes the streams another
   * device writes). Only for a store whose previous writer died mid-stream: the browser worker runs it
   * at open, when no other tab is alive; it is never served to a page.
   */
  recoverInterruptedMessages(except: readonly number[] = []): number[] {
    return this.write(
      'recoverInterruptedMessages',
      () => {
        if (!Array.isArray(except)) throw new StoreError('INVALID_ARGUMENT', 'except must be an array of message ids', { details: { field: 'except' } });
        return [this.now(), except.map((id, i) => v.messageId(id, `except[${i}]`))] as const;
      },
      ([now, ids]) => markInterrupted(this.db, now, ids),
    );
  }

  // --- search ----------------------------------------------------------------------------------

  /**
   * Full-text search over message content, best match first. Each word of `query` is a literal
   * term (quotes and operators included) and every one must occur; `advanced: true` takes FTS5 query
   * syntax instead (a syntax error is INVALID_ARGUMENT). An empty or blank query finds nothing.
   * Snippets mark matches with «…».
   */
  searchMessages(query: string, options?: SearchOptions): SearchHit[] {
    return this.op('searchMessages', () => searchMessageRows(this.db, query, options));
  }

  // --- session index ---------------------------------------------------------------------------

  /** Rewrites the session index with only the last line of each thread. Returns the line counts before and after. */
  compactSessionIndex(): { before: number; after: number } {
    return this.op('compactSessionIndex', () => this.index.compact());
  }

  // --- whole-store export and import ----------------------------------------------------------

  /** The database as a SQLite file image that native SQLite 3.40+ opens. Run it between transactions for a committed state. */
  exportDatabase(): Uint8Array<ArrayBuffer> {
    return this.op('exportDatabase', () => this.db.serialize());
  }

  /** The session index file's text (JSONL, the seed's format). */
  exportSessionIndex(): string {
    return this.op('exportSessionIndex', () => this.indexFile.read());
  }

  /**
   * Replaces all data with a SQLite file's rows: checks its header and PRAGMA integrity_check, refuses a
   * newer schema (SCHEMA_TOO_NEW), migrates an older one on a private copy, checks its tables against
   * the store's, and copies its rows into the store's own tables in one transaction. The file's own
   * triggers, views, indexes and extra tables never run and are listed in `result.ignored`. On any
   * failure the current data is untouched. The session index is replaced by `options.sessionIndex`,
   * or rebuilt from the imported threads. Sync's tables and the request log are never taken from a file.
   */
  importDatabase(bytes: Uint8Array, options: ImportOptions = {}): ImportResult {
    return this.op('importDatabase', () => {
      const streaming = streamingIds(this.db);
      const before = { index: this.index, text: this.indexFile.read() };
      let result: ImportResult;
      try {
        // Runs inside the import's transaction: a hook that throws rolls the whole import back.
        result = importImage(this.db, bytes, options, (text) => {
          const onAppend = this.index.onAppend;
          this.indexFile.replace(text);
          this.index = new SessionIndex(this.indexFile);
          this.index.onAppend = onAppend;
          for (const hook of [...this.#importHooks]) hook();
        });
      } catch (error) {
        // The index file may not be transactional (OPFS): put the old text back if it was replaced.
        if (this.index !== before.index) {
          this.indexFile.replace(before.text);
          this.index = before.index;
        }
        throw error;
      }
      // Their writers are still writing to messages that are gone (or, by id, to someone else's).
      for (const id of streaming) this.#replacedStreams.add(id);
      return result;
    });
  }

  /** Refuses a delta or finish for a stream that began in a database an import has since replaced. */
  #notReplaced(messageId: number): number {
    if (this.#replacedStreams.has(messageId)) {
      throw new StoreError('REPLACED', `message ${messageId} was streaming in a database that an import has replaced`, { details: { messageId } });
    }
    return messageId;
  }

  /** PRAGMA integrity_check of the live database. */
  integrityCheck(): { ok: boolean; problems: string[] } {
    return this.op('integrityCheck', () => checkIntegrity(this.db));
  }

  // --- retention -------------------------------------------------------------------------------

  /**
   * Deletes whole threads (messages, search rows, checkpoints, tools, goal) that meet every criterion
   * given, and compacts the session index without them. At least one of olderThan and keepLatest is
   * required.
   */
  pruneThreads(options: PruneOptions): PruneResult {
    return this.write('pruneThreads', () => options, (o) => pruneThreadRows(this.db, this.index, o));
  }

  /**
   * Rebuilds the file to give freed space back (VACUUM), only when `availableBytes` is at least twice
   * the database size, else QUOTA_EXCEEDED. The browser client supplies availableBytes itself.
   */
  vacuum(options?: VacuumOptions): VacuumResult {
    return this.op('vacuum', () => vacuumDatabase(this.db, options));
  }

  // --- the store itself ------------------------------------------------------------------------

  /** The port a layer above the core (sync) works through; see StoreLayerPort. Never served to a page. */
  layer(): StoreLayerPort {
    const store = this;
    return {
      db: this.db,
      get index() {
        return store.index;
      },
      now: () => this.now(),
      announce: (changes) => {
        for (const change of changes) this.#announce(change);
      },
      call: (name, fn) => this.write(name, () => undefined, fn),
      onImport: (fn) => {
        this.#importHooks.add(fn);
        return () => void this.#importHooks.delete(fn);
      },
    };
  }

  /** SQLite version, schema version, database size and session-index counts; a host adds its own facts. */
  info(): StoreInfo {
    return this.op('info', () => ({ ...databaseFacts(this.db), sessionIndexEntries: this.index.size, sessionIndexSkippedLines: this.index.skippedLines }));
  }
}
