import type { StoreErrorCode } from './errors.js';

/**
 * The public record types. Field names are the seed's in camelCase; timestamps are Unix seconds and
 * enum values are the seed's snake_case strings, so a database file moves between this store and the
 * Rust one unchanged. Every record is plain data that survives structured clone.
 */

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Lifecycle status of a conversation thread. */
export type ThreadStatus = 'running' | 'idle' | 'completed' | 'failed' | 'paused' | 'archived';

/** How a session was started. */
export type SessionSource = 'interactive' | 'resume' | 'fork' | 'api' | 'unknown';

/** Status of a background job. */
export type JobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** Lifecycle status of a thread goal. */
export type ThreadGoalStatus =
  | 'active'
  | 'paused'
  | 'blocked'
  | 'usage_limited'
  | 'budget_limited'
  | 'complete';

/** Metadata of one conversation thread (table `threads`; `name` is the column `title`). */
export interface ThreadMetadata {
  id: string;
  rolloutPath: string | null;
  preview: string;
  ephemeral: boolean;
  modelProvider: string;
  createdAt: number;
  updatedAt: number;
  status: ThreadStatus;
  path: string | null;
  cwd: string;
  cliVersion: string;
  source: SessionSource;
  name: string | null;
  sandboxPolicy: string | null;
  approvalMode: string | null;
  archived: boolean;
  archivedAt: number | null;
  gitSha: string | null;
  gitBranch: string | null;
  gitOriginUrl: string | null;
  memoryMode: string | null;
  /** The message the current branch ends at. Moved by appendMessage, forkAtMessage and setCurrentLeafId. */
  currentLeafId: number | null;
}

/**
 * What upsertThread takes: the seed's required fields, with every nullable one optional (default null,
 * `archived` defaults to false). `currentLeafId` is ignored, as in the seed: the message operations own it.
 */
export type ThreadInput = Pick<
  ThreadMetadata,
  | 'id'
  | 'preview'
  | 'ephemeral'
  | 'modelProvider'
  | 'createdAt'
  | 'updatedAt'
  | 'status'
  | 'cwd'
  | 'cliVersion'
  | 'source'
> &
  Partial<Omit<ThreadMetadata, 'id' | 'preview' | 'ephemeral' | 'modelProvider' | 'createdAt' | 'updatedAt' | 'status' | 'cwd' | 'cliVersion' | 'source'>>;

/** One message; messages form a tree through `parentEntryId`. */
export interface MessageRecord {
  id: number;
  threadId: string;
  role: string;
  content: string;
  item: JsonValue | null;
  createdAt: number;
  parentEntryId: number | null;
}

/** A named snapshot of a thread's state. */
export interface CheckpointRecord {
  threadId: string;
  checkpointId: string;
  state: JsonValue;
  createdAt: number;
}

/** Persisted state of a background job. */
export interface JobStateRecord {
  id: string;
  name: string;
  status: JobStatus;
  /** Percent complete, an integer from 0 to 100. */
  progress: number | null;
  detail: string | null;
  createdAt: number;
  updatedAt: number;
}

/** The goal attached to a thread, with its token and time accounting. */
export interface ThreadGoalRecord {
  threadId: string;
  goalId: string;
  objective: string;
  status: ThreadGoalStatus;
  tokenBudget: number | null;
  tokensUsed: number;
  timeUsedSeconds: number;
  continuationCount: number;
  createdAt: number;
  updatedAt: number;
}

/** A tool registered for one thread. */
export interface DynamicToolRecord {
  position: number;
  name: string;
  description: string | null;
  inputSchema: JsonValue;
}

/** Filters of listThreads. */
export interface ThreadListFilters {
  /** Include archived threads. Default false. */
  includeArchived?: boolean;
  /** At most this many threads. Default 50. */
  limit?: number;
}

/** Which storage the browser worker puts the database on. */
export type VfsChoice = 'auto' | 'opfs-sahpool' | 'opfs' | 'memory';

/** The storage actually in use: `memory` keeps snapshots in IndexedDB. */
export type ActiveVfs = 'opfs-sahpool' | 'opfs' | 'memory';

/** `strict`: a write resolves after its commit is flushed. `relaxed`: after it is written, not flushed. */
export type Durability = 'strict' | 'relaxed';

/**
 * What `info()` reports. Every host fills the first group; the fields after it describe the browser
 * host (worker, OPFS, tabs) and are absent where there is none, as in `createMemoryStore()`.
 */
export interface StoreInfo {
  /** The SQLite library version, from `sqlite_version()`. */
  sqliteVersion: string;
  /** PRAGMA user_version of the open database. */
  schemaVersion: number;
  /** page_count × page_size of the main database. */
  databaseSizeBytes: number;
  /** Live entries in the session index map. */
  sessionIndexEntries: number;
  /** Session-index lines that were torn or not valid entries, skipped when the file was read. */
  sessionIndexSkippedLines: number;

  /** The store name (its OPFS directory and pool). */
  name?: string;
  /** The VFS in use. `memory` means OPFS could not be used (or memory was asked for): the database is in memory and its pages go to IndexedDB. */
  vfs?: ActiveVfs;
  /** Why the store fell back to memory, when it did. */
  fallbackReason?: string | null;
  /**
   * Where committed data is kept: `opfs` (the database file in OPFS), or `indexeddb` (vfs `memory`:
   * the database in the worker's memory, each commit's changed pages written to IndexedDB; under
   * `strict` a write resolves once IndexedDB holds it). Browser hosts only.
   */
  persistence?: 'opfs' | 'indexeddb';
  durability?: Durability;
  /** navigator.storage.estimate(), where the browser has it: the whole origin, with the quota Chromium reserves for every open pool file. */
  storageEstimate?: { usage: number; quota: number } | null;
  /**
   * Bytes of the opfs-sahpool's files in OPFS: the database, its WAL and the spare files, each with
   * its 4 KiB header. Null where the pool's files cannot be read; absent on other VFSes.
   */
  poolBytes?: number | null;
  /** Files in the opfs-sahpool (its capacity). It starts small and grows as files are needed. */
  poolFiles?: number;
  /** Pool files holding a database file (the database, its WAL, a journal). */
  poolFilesInUse?: number;
  /** navigator.storage.persisted(), where the browser has it. */
  persisted?: boolean | null;
  /** Transactions that wrote something, committed by the leader since it opened (one per group commit; reads are not counted). */
  commits?: number;
  /** Whether the calling tab's worker is the leader that owns the database. */
  leader?: boolean;
  /** Jobs the start-up sweep marked failed because the app had closed while they ran. */
  recoveredJobs?: number;
  /** Writes resent after a leader change that the leader answered from its request log instead of applying again. */
  replayedRequests?: number;
  /** A browser store's sync status (openStateStore's `sync` option, as the leading tab opened it); null when the leader does not sync. */
  sync?: SyncState | null;
}

/** Options of searchMessages. */
export interface SearchOptions {
  /** Only this thread's messages. */
  threadId?: string;
  /** At most this many hits. Default 20. */
  limit?: number;
  /** Include messages of archived threads. Default false. */
  includeArchived?: boolean;
  /**
   * Pass the query to FTS5 as written (phrases, NEAR, AND/OR/NOT, prefix `*`); a syntax error is
   * INVALID_ARGUMENT. Default false: every whitespace-separated word is a literal term, all must match.
   */
  advanced?: boolean;
}

/** One message that matched a search. */
export interface SearchHit {
  threadId: string;
  messageId: number;
  role: string;
  /**
   * Up to about 64 characters of the content around the match. Matched text is wrapped in «…»
   * (U+00AB, U+00BB); an elided start or end is marked with "…" (U+2026). Plain text, not HTML.
   */
  snippet: string;
  /** FTS5's bm25 rank: lower is better (0 for a hit found only by short terms, which have no rank). */
  rank: number;
  createdAt: number;
}

/** Options of listThreadsPage. */
export interface ThreadPageOptions {
  /** Include archived threads. Default false. */
  includeArchived?: boolean;
  /** Page size. Default 50. */
  limit?: number;
  /** The `nextCursor` of the previous page; omit for the first page. */
  cursor?: string | null;
  /** Only threads whose name or preview contains this text (ASCII case-insensitive). */
  search?: string;
}

/** One page of threads, newest update first. */
export interface ThreadPage {
  items: ThreadMetadata[];
  /** Pass as `cursor` for the next page; null on the last page. Opaque. */
  nextCursor: string | null;
}

/** Options of listMessagesPage. */
export interface MessagePageOptions {
  /** A message of the thread: the page holds its ancestors. Default: the page ends at the current leaf. */
  before?: number | null;
  /** Page size. Default 50. */
  limit?: number;
}

/** One page of a branch, oldest first; pages go from the leaf towards the root. */
export interface MessagePage {
  items: MessageRecord[];
  /** Pass as `before` for the next, older page; null when the page reaches the root. */
  nextBefore: number | null;
}

/** Where a message stands: `streaming` until finishMessage, `interrupted` if the writer died first. */
export type MessageStatus = 'streaming' | 'complete' | 'failed' | 'cancelled' | 'interrupted';

/** Options of finishMessage. */
export interface FinishMessageOptions {
  /** Default `complete`. */
  status?: 'complete' | 'failed' | 'cancelled';
  /** Replaces the message's item (JSON); omit to keep it. */
  item?: unknown;
}

/** Options of pruneThreads; give `olderThan`, `keepLatest`, or both (a thread must meet every one given). */
export interface PruneOptions {
  /** Delete threads last updated before this Unix second. */
  olderThan?: number;
  /** Keep this many most recently updated threads (of the ones in scope), delete the rest. */
  keepLatest?: number;
  /** Only archived threads are in scope. Default false. */
  archivedOnly?: boolean;
}

/** What pruneThreads deleted. */
export interface PruneResult {
  deletedThreadIds: string[];
  deletedMessages: number;
}

/** Options of vacuum. */
export interface VacuumOptions {
  /** Free storage in bytes. The browser client fills it in from navigator.storage.estimate(). Not needed where vacuum is automatic. */
  availableBytes?: number;
}

/** Database size before and after a vacuum. */
export interface VacuumResult {
  beforeBytes: number;
  afterBytes: number;
  /** True where the engine gives freed space back by itself and refuses VACUUM (Durable Objects): nothing was rebuilt. */
  automatic?: boolean;
}

// --- the app layer: shaped for chat UIs ------------------------------------------------------------

/** The roles the app layer writes (the seed's operations take any non-empty role). */
export type ChatRole = 'user' | 'assistant' | 'system' | 'tool';

/**
 * What createThread takes: every field is optional. Without an `id` one is generated (a UUID);
 * timestamps default to now, `status` to "idle", `source` to "api", text fields to "". `title` is
 * the thread's name (the same as `name`; give one or the other).
 */
export type CreateThreadInput = Partial<Omit<ThreadInput, 'currentLeafId'>> & { title?: string | null };

/** What updateThread takes: any field of ThreadInput but `id` (and `title` for `name`). Fields left out keep their value. */
export type ThreadPatch = Partial<Omit<ThreadInput, 'id' | 'currentLeafId'>> & { title?: string | null };

/** What addMessage takes. */
export interface NewChatMessage {
  role: ChatRole;
  content: string;
  /** Any JSON: tool calls, attachments, metadata. */
  item?: unknown;
  /**
   * The message to answer. Omitted: the thread's current leaf. A message of the thread: a new branch
   * from it (edit, regenerate). null: a new root (editing the first message).
   */
  parentId?: number | null;
}

/**
 * What updateMessage changes in a message, in place: its text, its item, or both. An absent field
 * is kept; `item: null` clears the item.
 */
export interface MessagePatch {
  content?: string;
  /** Any JSON, as addMessage takes it; null clears it. */
  item?: unknown;
}

/** Where a message stands among its parent's children (for roots: among the thread's roots), in id order. */
export interface SiblingPosition {
  /** 0-based: a UI shows `index + 1` of `count`. */
  index: number;
  count: number;
  /** Every sibling's id, this one included, oldest first. */
  ids: number[];
}

/** A message of the current branch with what a chat UI draws beside it. */
export interface BranchMessage extends MessageRecord {
  status: MessageStatus;
  siblings: SiblingPosition;
}

/** Options of getBranch and watchBranch. */
export interface BranchOptions {
  /** At most this many messages, the ones nearest the leaf. Default 500. */
  limit?: number;
}

/** Options every live query takes. */
export interface WatchOptions {
  /** Called when a re-query fails (the listener keeps its last result) or the listener throws. Default: the error is dropped. */
  onError?: (error: Error) => void;
}

/** Stops a live query. Calling it again does nothing. */
export type Unsubscribe = () => void;

/** The sync status a page sees in info().sync and in `sync` change notices (the sync layer, src/sync/, keeps it). */
export interface SyncState {
  state: 'offline' | 'connecting' | 'syncing' | 'synced';
  /** Local changes (rows) not yet acknowledged by the server. */
  pending: number;
  /**
   * Rows the server would not take (a row over its size limit, a message of another device's id
   * block, a row whose parent it lacks), set aside: they stay here, are not pushed again until they
   * change, and are named in `lastError` when they are set aside. `synced` means everything else went.
   */
  rejected: number;
  /** The last error, until a later session succeeds: a StoreError code and message. */
  lastError: { code: StoreErrorCode; message: string } | null;
  /** The last server seq applied here. */
  cursor: number;
}
