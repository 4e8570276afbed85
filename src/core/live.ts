import type { StoreChange } from './changes.js';
import { StoreError } from './errors.js';
import type { BranchMessage, BranchOptions, ThreadListFilters, ThreadMetadata, Unsubscribe, WatchOptions } from './types.js';

/**
 * Live queries, the same on every host: a plain query plus the set of changes that can alter its
 * result. It runs once at once, then again after a change that touches that set, and delivers only
 * when the result differs from the last one delivered. Re-runs are coalesced: every change that
 * arrives before the scheduled run is served by that one run (a microtask in Node, an animation
 * frame in a page), so a token stream costs a delivery per frame or per buffer flush, never one per token.
 */

/** What a host gives the live queries: its queries, its change feed, and when to re-run. */
export interface LiveHost {
  getBranch(threadId: string, options?: BranchOptions): BranchMessage[] | Promise<BranchMessage[]>;
  listThreads(filters?: ThreadListFilters): ThreadMetadata[] | Promise<ThreadMetadata[]>;
  /** Every committed change, from any writer. */
  onChange(listener: (change: StoreChange) => void): Unsubscribe;
  /** Runs `fn` soon, once for everything that asked before it ran. */
  schedule(fn: () => void): void;
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === 'function';
}

function checkListener(listener: unknown, options: unknown): WatchOptions {
  if (typeof listener !== 'function') throw new StoreError('INVALID_ARGUMENT', 'listener must be a function', { details: { field: 'listener' } });
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new StoreError('INVALID_ARGUMENT', 'options must be an object', { details: { field: 'options' } });
  }
  const onError = (options as WatchOptions | undefined)?.onError;
  if (onError !== undefined && typeof onError !== 'function') {
    throw new StoreError('INVALID_ARGUMENT', 'options.onError must be a function', { details: { field: 'options.onError' } });
  }
  return { ...(onError ? { onError } : {}) };
}

/** Runs `read` now and after every change `touches` accepts; delivers each distinct result once. */
export function liveQuery<T>(
  host: LiveHost,
  read: () => T | Promise<T>,
  touches: (change: StoreChange) => boolean,
  listener: (value: T) => void,
  options: WatchOptions,
): Unsubscribe {
  let active = true;
  let scheduled = false;
  let running = false;
  let again = false;
  let last: string | undefined;

  const failed = (error: unknown) => {
    if (!active) return;
    try {
      options.onError?.(error instanceof Error ? error : new Error(String(error)));
    } catch {
      // An onError that throws is dropped, as an error without onError is.
    }
  };
  const deliver = (value: T) => {
    const key = JSON.stringify(value);
    if (!active || key === last) return;
    last = key;
    try {
      listener(value);
    } catch (error) {
      // A listener that throws must not end the live query (nor escape into a writer's call): it is reported like a failed re-query.
      failed(error);
    }
  };
  const finished = () => {
    running = false;
    if (again) request();
  };
  const run = () => {
    scheduled = false;
    if (!active) return;
    // A run still waiting for its answer is followed by one more, so no change is missed.
    if (running) {
      again = true;
      return;
    }
    running = true;
    again = false;
    let result: T | Promise<T>;
    try {
      result = read();
    } catch (error) {
      failed(error);
      finished();
      return;
    }
    if (!isPromise(result)) {
      deliver(result);
      finished();
      return;
    }
    result.then(deliver, failed).finally(finished);
  };
  function request() {
    if (scheduled || !active) return;
    scheduled = true;
    host.schedule(run);
  }

  const stop = host.onChange((change) => {
    if (touches(change)) request();
  });
  run();
  return () => {
    active = false;
    stop();
  };
}

/** The current branch of a thread, live: see StateStore.watchBranch. */
export function watchBranch(
  host: LiveHost,
  threadId: string,
  listener: (branch: BranchMessage[]) => void,
  options?: WatchOptions & BranchOptions,
): Unsubscribe {
  if (typeof threadId !== 'string' || threadId === '') throw new StoreError('INVALID_ARGUMENT', 'threadId must be a non-empty string', { details: { field: 'threadId' } });
  const watch = checkListener(listener, options);
  const query = options?.limit === undefined ? undefined : { limit: options.limit };
  return liveQuery(
    host,
    () => host.getBranch(threadId, query),
    // A branch is its thread's messages and leaf: message and thread changes of that thread, or anything (an import).
    (change) => change.kind === 'database' || (change.threadId === threadId && (change.kind === 'message' || change.kind === 'thread')),
    listener,
    watch,
  );
}

/** The thread list, live: see StateStore.watchThreads. */
export function watchThreads(
  host: LiveHost,
  options: (ThreadListFilters & WatchOptions) | undefined,
  listener: (threads: ThreadMetadata[]) => void,
): Unsubscribe {
  const watch = checkListener(listener, options);
  const filters: ThreadListFilters = {};
  if (options?.includeArchived !== undefined) filters.includeArchived = options.includeArchived;
  if (options?.limit !== undefined) filters.limit = options.limit;
  return liveQuery(
    host,
    () => host.listThreads(filters),
    // A message can move its thread up (addMessage) or name it (auto-titles); a delta does neither.
    (change) => (change.kind === 'thread' || change.kind === 'message' || change.kind === 'database') && change.method !== 'appendMessageDelta',
    listener,
    watch,
  );
}
