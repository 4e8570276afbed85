import type { ChangeKind } from './changes.js';
import type { StateStore } from './store.js';

/**
 * The operation table: how every public method of StateStore is served. Hosts (the browser worker,
 * a Durable Object), the client, change events and the wire types are all derived from it, so a
 * method is classified once, here, and nothing matches method names by pattern.
 *
 * The table is checked against StateStore: a public method missing from it, or an entry for a method
 * that does not exist, fails the typecheck.
 */

/** Every public method of StateStore. */
export type StoreMethod = { [K in keyof StateStore]: StateStore[K] extends (...args: never[]) => unknown ? K : never }[keyof StateStore];

type Args<M extends StoreMethod> = Parameters<StateStore[M]>;
type Result<M extends StoreMethod> = ReturnType<StateStore[M]>;

/**
 * - `read`: only reads. Runs without a transaction of its own, carries no request id, and is simply
 *   sent again after a leader change.
 * - `write`: joins the group commit in its own savepoint; a page's call carries a request id so that
 *   a resend after a leader change is applied once.
 * - `exclusive`: runs alone between transactions, because it replaces or copies the whole database.
 *   It carries a request id when it has a change descriptor (it writes).
 * - `buffered`: streamed deltas, coalesced by the host and written together.
 * - `local`: takes a listener, which cannot cross the wire, so each host implements it where the
 *   caller is (subscriptions and live queries); never served as a call.
 * - `internal`: the host's own business (start-up recovery, closing); never served to a page.
 */
export type OperationMode = 'read' | 'write' | 'exclusive' | 'buffered' | 'local' | 'internal';

/** The thread and record a successful call touched. */
export interface ChangeTarget {
  threadId: string | null;
  id: string | number | null;
}

/** Lookups a change descriptor may need: run inside the call's transaction, so its rows are still there. */
export interface ChangeLookup {
  threadOfMessage(messageId: number): string | null;
}

/** What kind of record a call changes, and which one, from its arguments and result; null when it changed nothing. */
export interface ChangeSpec<M extends StoreMethod> {
  kind: ChangeKind;
  target(args: Args<M>, result: Result<M>, lookup: ChangeLookup): ChangeTarget | null;
}

/** How one method is served. */
export interface OperationSpec<M extends StoreMethod> {
  mode: OperationMode;
  change?: ChangeSpec<M>;
  /** The streamed message this call ends: deltas still buffered for it are written first, and their failure is its failure. */
  endsStream?: (args: Args<M>) => unknown;
}

const at = (threadId: string | null, id: string | number | null): ChangeTarget => ({ threadId, id });

/**
 * The operation table: every StateStore method a host serves (the worker, the Durable Object, the
 * edge client), with how it is served (its mode) and, for a write, the change it announces. The
 * served method names, their argument and result types, and the hosts' dispatch are derived from it.
 */
export const OPERATIONS = {
  dbPath: { mode: 'read' },

  // the app layer
  createThread: { mode: 'write', change: { kind: 'thread', target: (_, thread) => at(thread.id, thread.id) } },
  updateThread: { mode: 'write', change: { kind: 'thread', target: ([id]) => at(id, id) } },
  addMessage: { mode: 'write', change: { kind: 'message', target: ([threadId], message) => at(threadId, message.id) } },
  updateMessage: { mode: 'write', change: { kind: 'message', target: (_, message) => at(message.threadId, message.id) } },
  getBranch: { mode: 'read' },
  switchBranch: { mode: 'write', change: { kind: 'thread', target: ([threadId], branch) => at(threadId, branch.at(-1)?.id ?? null) } },
  // Listeners cannot cross the wire: every host implements these where the caller is.
  subscribe: { mode: 'local' },
  watchBranch: { mode: 'local' },
  watchThreads: { mode: 'local' },

  // threads
  upsertThread: { mode: 'write', change: { kind: 'thread', target: ([t]) => at(t.id, t.id) } },
  getThread: { mode: 'read' },
  listThreads: { mode: 'read' },
  listThreadsPage: { mode: 'read' },
  markArchived: { mode: 'write', change: { kind: 'thread', target: ([id]) => at(id, id) } },
  markUnarchived: { mode: 'write', change: { kind: 'thread', target: ([id]) => at(id, id) } },
  deleteThread: { mode: 'write', change: { kind: 'thread', target: ([id]) => at(id, id) } },
  setThreadMemoryMode: { mode: 'write', change: { kind: 'thread', target: ([id]) => at(id, id) } },
  getThreadMemoryMode: { mode: 'read' },

  // goals
  upsertThreadGoal: { mode: 'write', change: { kind: 'goal', target: ([g]) => at(g.threadId, g.goalId) } },
  recordThreadGoalUsage: { mode: 'write', change: { kind: 'goal', target: ([threadId], goal) => (goal ? at(threadId, goal.goalId) : null) } },
  recordThreadGoalContinuation: { mode: 'write', change: { kind: 'goal', target: ([threadId], goal) => (goal ? at(threadId, goal.goalId) : null) } },
  getThreadGoal: { mode: 'read' },
  deleteThreadGoal: { mode: 'write', change: { kind: 'goal', target: ([threadId], deleted) => (deleted ? at(threadId, null) : null) } },

  // messages
  listLeafMessages: { mode: 'read' },
  listThreadMessages: { mode: 'read' },
  setCurrentLeafId: { mode: 'write', change: { kind: 'thread', target: ([threadId, messageId]) => at(threadId, messageId) } },
  persistDynamicTools: { mode: 'write', change: { kind: 'tools', target: ([threadId]) => at(threadId, null) } },
  getDynamicTools: { mode: 'read' },
  appendMessage: { mode: 'write', change: { kind: 'message', target: ([threadId], id) => at(threadId, id) } },
  listMessages: { mode: 'read' },
  forkAtMessage: { mode: 'write', change: { kind: 'message', target: (_, id, lookup) => at(lookup.threadOfMessage(id), id) } },
  clearMessages: { mode: 'write', change: { kind: 'message', target: ([threadId]) => at(threadId, null) } },
  listMessagesPage: { mode: 'read' },

  // streaming
  beginMessage: { mode: 'write', change: { kind: 'message', target: ([threadId], id) => at(threadId, id) } },
  appendMessageDelta: { mode: 'buffered', change: { kind: 'message', target: ([id], _, lookup) => at(lookup.threadOfMessage(id), id) } },
  finishMessage: { mode: 'write', endsStream: ([id]) => id, change: { kind: 'message', target: (_, message) => at(message.threadId, message.id) } },
  getMessageStatus: { mode: 'read' },
  // A page must never mark another tab's live stream as interrupted: only the leader's start-up sweep runs it.
  recoverInterruptedMessages: { mode: 'internal' },

  searchMessages: { mode: 'read' },

  // checkpoints
  saveCheckpoint: { mode: 'write', change: { kind: 'checkpoint', target: ([threadId, checkpointId]) => at(threadId, checkpointId) } },
  loadCheckpoint: { mode: 'read' },
  listCheckpoints: { mode: 'read' },
  deleteCheckpoint: { mode: 'write', change: { kind: 'checkpoint', target: ([threadId, checkpointId]) => at(threadId, checkpointId) } },

  // LangGraph checkpoints
  putGraphCheckpoint: { mode: 'write', change: { kind: 'graphCheckpoint', target: ([c]) => at(c.threadId, c.checkpointId) } },
  getGraphCheckpoint: { mode: 'read' },
  listGraphCheckpoints: { mode: 'read' },
  putGraphWrites: { mode: 'write', change: { kind: 'graphCheckpoint', target: ([t]) => at(t.threadId, t.checkpointId) } },
  // A LangGraph store batch may only read; then it announces nothing.
  graphStoreBatch: { mode: 'write', change: { kind: 'graphStore', target: ([ops]) => (ops.some((o) => o.op === 'put') ? at(null, null) : null) } },
  pruneGraphCheckpoints: { mode: 'write', change: { kind: 'graphCheckpoint', target: ([o]) => at(o.threadId, null) } },
  deleteGraphThread: { mode: 'write', change: { kind: 'graphCheckpoint', target: ([threadId]) => at(threadId, null) } },

  // jobs
  upsertJob: { mode: 'write', change: { kind: 'job', target: ([job]) => at(null, job.id) } },
  getJob: { mode: 'read' },
  listJobs: { mode: 'read' },
  deleteJob: { mode: 'write', change: { kind: 'job', target: ([id]) => at(null, id) } },

  // session index
  findRolloutPathById: { mode: 'read' },
  appendThreadName: { mode: 'write', change: { kind: 'sessionIndex', target: ([threadId]) => at(threadId, threadId) } },
  findThreadNameById: { mode: 'read' },
  findThreadNamesByIds: { mode: 'read' },
  findThreadPathByName: { mode: 'read' },
  compactSessionIndex: { mode: 'write', change: { kind: 'sessionIndex', target: () => at(null, null) } },

  // the whole store
  exportDatabase: { mode: 'exclusive' },
  exportSessionIndex: { mode: 'exclusive' },
  importDatabase: { mode: 'exclusive', change: { kind: 'database', target: () => at(null, null) } },
  integrityCheck: { mode: 'read' },
  pruneThreads: { mode: 'write', change: { kind: 'database', target: () => at(null, null) } },
  vacuum: { mode: 'exclusive' },
  // The layers above the core (sync) reach the store through this; never served.
  layer: { mode: 'internal' },
  // Each host reports its own info(), built on the core's.
  info: { mode: 'internal' },
  close: { mode: 'internal' },
} as const satisfies { [M in StoreMethod]: OperationSpec<M> };

/** The methods a page may call over the wire: every one but the local and internal ones. */
export type ServedMethod = { [M in StoreMethod]: (typeof OPERATIONS)[M]['mode'] extends 'internal' | 'local' ? never : M }[StoreMethod];

/**
 * StateStore's served operations as a remote caller holds them (the page's client, a Worker's edge
 * client): the same arguments, Promises of the same results.
 */
export type StoreOperations = {
  [M in ServedMethod]: (...args: Parameters<StateStore[M]>) => Promise<Awaited<ReturnType<StateStore[M]>>>;
};

/** The methods every host offers where the caller is. */
export type LocalMethod = { [M in StoreMethod]: (typeof OPERATIONS)[M]['mode'] extends 'local' ? M : never }[StoreMethod];

const servedMode = (mode: OperationMode): boolean => mode !== 'internal' && mode !== 'local';

/** The served methods, in table order. */
export const SERVED_METHODS: readonly ServedMethod[] = (Object.keys(OPERATIONS) as StoreMethod[]).filter((method): method is ServedMethod =>
  servedMode(OPERATIONS[method].mode),
);

/** Whether `name` is a method a page may call (anything arriving over the wire is checked with this). */
export function isServed(name: unknown): name is ServedMethod {
  return typeof name === 'string' && Object.hasOwn(OPERATIONS, name) && servedMode(OPERATIONS[name as StoreMethod].mode);
}

/** How a method is served. */
export function operation(method: StoreMethod): OperationSpec<StoreMethod> {
  return OPERATIONS[method] as OperationSpec<StoreMethod>;
}

/** Whether a page's call of `method` carries a request id, so that a resend after a leader change applies once. */
export function carriesRequestId(method: ServedMethod): boolean {
  const spec = operation(method);
  return spec.mode === 'write' || (spec.mode === 'exclusive' && spec.change !== undefined);
}
