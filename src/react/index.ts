/**
 * `agent-state-store/react`: the live queries as React hooks. Each hook is useSyncExternalStore over
 * one watchBranch/watchThreads subscription: no effect fetches and no data is copied into React state.
 *
 * The hooks return the data only, as Dexie's useLiveQuery does. A failed re-query keeps the last result
 * (the live query's rule), so the value stays valid; `options.onError` hears the failure. The one error
 * a UI meets in practice is NOT_FOUND from useBranch on a thread that does not exist (the value then
 * stays `undefined`); the app chose that id, and useThreads tells it which ones exist.
 */
import { useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import type { StateStore } from '../core/store.js';
import type { BranchMessage, BranchOptions, ThreadListFilters, ThreadMetadata, WatchOptions } from '../core/types.js';
import { liveSource, NO_SOURCE } from './source.js';

/**
 * What the hooks need of a store: its live queries. The core StateStore (createMemoryStore) and the
 * page's client (openStateStore) both fit.
 * @example const store: LiveStore = await openStateStore({ name: 'chat' });
 */
export type LiveStore = Pick<StateStore, 'watchBranch' | 'watchThreads'>;

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
 * A thread's current branch (getBranch), live: oldest first, each message with its status and its
 * place among its siblings. `undefined` until the first result, and with no thread (null or
 * undefined: nothing is subscribed). Keyed by (store, threadId, limit), so after a switch it is
 * `undefined` until the new thread's first result, never the previous thread's messages.
 * @example
 * function Chat({ store, threadId }: { store: LiveStore; threadId: string | null }) {
 *   const branch = useBranch(store, threadId);
 *   return <>{branch?.map((m) => <p key={m.id}>{m.content} ‹ {m.siblings.index + 1}/{m.siblings.count} ›</p>)}</>;
 * }
 */
export function useBranch(store: LiveStore, threadId: string | null | undefined, options?: UseBranchOptions): BranchMessage[] | undefined {
  const onError = useOnError(options?.onError);
  const limit = options?.limit;
  const source = useMemo(
    () =>
      threadId == null
        ? NO_SOURCE
        : liveSource<BranchMessage[]>((listener) => store.watchBranch(threadId, listener, { ...(limit === undefined ? {} : { limit }), onError })),
    [store, threadId, limit, onError],
  );
  return useSyncExternalStore(source.subscribe, source.getSnapshot, serverSnapshot);
}
