/**
 * `agent-state-store/react`: the live queries as React hooks. Each hook is useSyncExternalStore over
 * one watchBranch/watchThreads subscription: no effect fetches and no data is copied into React state.
 *
 * useThreads returns the data only, as Dexie's useLiveQuery does; useBranch returns the branch and
 * the one write a branch view needs, `switchBranch`. A failed re-query keeps the last result (the
 * live query's rule), so the value stays valid; `options.onError` hears the failure. The one error a
 * UI meets in practice is NOT_FOUND from useBranch on a thread that does not exist (the branch then
 * stays `undefined`); the app chose that id, and useThreads tells it which ones exist.
 *
 * @module agent-state-store/react
 */
import { useCallback, useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import { StoreError } from '../core/errors.js';
import type { StateStore } from '../core/store.js';
import type { BranchMessage, BranchOptions, ThreadListFilters, ThreadMetadata, WatchOptions } from '../core/types.js';
import { liveSource, NO_SOURCE } from './source.js';

/**
 * What the hooks need of a store: its live queries, and switchBranch for useBranch. The core
 * StateStore (createMemoryStore) and the page's client (openStateStore) both fit.
 * @example const store: LiveStore = await openStateStore({ name: 'chat' });
 */
export interface LiveStore extends Pick<StateStore, 'watchBranch' | 'watchThreads'> {
  /** StateStore.switchBranch: synchronous in the core, a Promise through the page's client. */
  switchBranch(threadId: string, messageId: number, options?: BranchOptions): BranchMessage[] | Promise<BranchMessage[]>;
}

/** What useBranch returns: the live branch, and the switch between its branches. */
export interface UseBranchResult {
  /**
   * The thread's current branch, oldest first, each message with its status and its place among its
   * siblings (`siblings.index`, `count`, `ids`); `undefined` without a thread or until the first result.
   */
  branch: BranchMessage[] | undefined;
  /**
   * Switches this thread to the branch through `messageId` (one of `siblings.ids`, say) and resolves
   * to it: StateStore.switchBranch, which runs on to the most recently written leaf below the message,
   * so an older answer comes back with its follow-ups. `branch` follows by itself. Rejects with
   * INVALID_ARGUMENT when the hook has no thread, and with switchBranch's own errors (NOT_FOUND for a
   * message of another thread).
   */
  switchBranch(messageId: number): Promise<BranchMessage[]>;
}

/**
 * Options of useThreads: listThreads' filters and onError.
 * @example useThreads(store, { includeArchived: true, limit: 100, onError: console.error })
 */
export type UseThreadsOptions = ThreadListFilters & WatchOptions;

/**
 * Options of useBranch: getBranch's limit and onError.
 * @example useBranch(store, threadId, { limit: 200, onError: (e) => setProblem(e.message) })
 */
export type UseBranchOptions = BranchOptions & WatchOptions;

// Nothing is subscribed on the server, so server rendering and hydration both see "not loaded yet".
const serverSnapshot = (): undefined => undefined;

/**
 * Refuses what is not an open store, before React meets a TypeError deep inside a subscription: the
 * usual slip is a store still opening (undefined in state) or openStateStore()'s promise itself.
 */
function checkStore(hook: string, store: unknown): void {
  const live = store as Partial<LiveStore> | null | undefined;
  if (typeof live?.watchThreads === 'function' && typeof live.watchBranch === 'function') return;
  let got: string;
  if (store === undefined || store === null) got = String(store);
  else if (typeof (store as Promise<unknown>).then === 'function') got = 'a promise';
  else got = `${typeof store === 'object' ? 'an object' : typeof store} without watchThreads and watchBranch`;
  throw new StoreError(
    'INVALID_ARGUMENT',
    `${hook}: store is ${got}, not an open store. Pass the store that openStateStore() resolves to (await it), and render this ` +
      'component only once it has resolved, e.g. {store && <Chat store={store} />}',
    { details: { field: 'store' } },
  );
}

/**
 * The newest onError, read when an error arrives, so an inline callback neither resubscribes nor goes
 * stale. Declared before useSyncExternalStore, so its effect runs before a (re)subscription's.
 */
function useOnError(onError: WatchOptions['onError']): (error: Error) => void {
  const latest = useRef(onError);
  useEffect(() => {
    latest.current = onError;
  });
  return useMemo(() => (error: Error) => latest.current?.(error), []);
}

/**
 * The thread list (listThreads), live: `undefined` until the first result, then the newest threads
 * first, re-rendering only when the list changes. Keyed by (store, includeArchived, limit).
 * @example
 * function Sidebar({ store }: { store: LiveStore }) {
 *   const threads = useThreads(store, { limit: 30 });
 *   if (!threads) return <p>Loading…</p>;
 *   return <ul>{threads.map((t) => <li key={t.id}>{t.name ?? t.preview}</li>)}</ul>;
 * }
 */
export function useThreads(store: LiveStore, options?: UseThreadsOptions): ThreadMetadata[] | undefined {
  checkStore('useThreads', store);
  const onError = useOnError(options?.onError);
  const includeArchived = options?.includeArchived;
  const limit = options?.limit;
  const source = useMemo(
    () =>
      liveSource<ThreadMetadata[]>((listener) =>
        store.watchThreads({ ...(includeArchived === undefined ? {} : { includeArchived }), ...(limit === undefined ? {} : { limit }), onError }, listener),
      ),
    // A new key is a new source, empty until its first delivery. (Were React to drop a memoized
    // source, the same key would show `undefined` for a moment, never another key's data.)
    [store, includeArchived, limit, onError],
  );
  return useSyncExternalStore(source.subscribe, source.getSnapshot, serverSnapshot);
}

/**
 * A thread's current branch (getBranch), live, and `switchBranch` to move between its branches.
 * `branch` is oldest first, each message with its status and its place among its siblings; it is
 * `undefined` until the first result, and with no thread (null or undefined: nothing is subscribed).
 * Keyed by (store, threadId, limit), so after a switch of thread it is `undefined` until the new
 * thread's first result, never the previous thread's messages. The result object is the same until
 * the branch, the store or the thread changes.
 * @example
 * function Chat({ store, threadId }: { store: LiveStore; threadId: string | null }) {
 *   const { branch, switchBranch } = useBranch(store, threadId);
 *   return <>{branch?.map((m) => (
 *     <p key={m.id}>
 *       {m.content}
 *       <button disabled={m.siblings.index === 0} onClick={() => switchBranch(m.siblings.ids[m.siblings.index - 1]!)}>‹</button>
 *       {m.siblings.index + 1}/{m.siblings.count}
 *       <button disabled={m.siblings.index === m.siblings.count - 1} onClick={() => switchBranch(m.siblings.ids[m.siblings.index + 1]!)}>›</button>
 *     </p>
 *   ))}</>;
 * }
 */
export function useBranch(store: LiveStore, threadId: string | null | undefined, options?: UseBranchOptions): UseBranchResult {
  checkStore('useBranch', store);
  const onError = useOnError(options?.onError);
  const limit = options?.limit;
  const source = useMemo(
    () =>
      threadId == null
        ? NO_SOURCE
        : liveSource<BranchMessage[]>((listener) => store.watchBranch(threadId, listener, { ...(limit === undefined ? {} : { limit }), onError })),
    [store, threadId, limit, onError],
  );
  const branch = useSyncExternalStore(source.subscribe, source.getSnapshot, serverSnapshot);
  const switchBranch = useCallback(
    async (messageId: number): Promise<BranchMessage[]> => {
      if (threadId == null) {
        throw new StoreError('INVALID_ARGUMENT', 'switchBranch: useBranch has no thread; pass a thread id to useBranch first', {
          details: { field: 'threadId' },
        });
      }
      return store.switchBranch(threadId, messageId, limit === undefined ? undefined : { limit });
    },
    [store, threadId, limit],
  );
  return useMemo(() => ({ branch, switchBranch }), [branch, switchBranch]);
}
