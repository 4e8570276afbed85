import type { StoreChange } from '../core/changes.js';
import { StoreError } from '../core/errors.js';
import { watchBranch, watchThreads, type LiveHost } from '../core/live.js';
import { operation, SERVED_METHODS, type LocalMethod, type ServedMethod, type StoreOperations } from '../core/operations.js';
import type { StateStore } from '../core/store.js';
import { standInsForUncloneable } from '../core/validate.js';
import type { EdgeStoreInfo, StateStoreObject } from './object.js';
import { reviveError, type EdgeReply } from './reply.js';

/**
 * A store as Worker code holds it: every served operation with the browser client's arguments and
 * Promise results, the live methods (subscribe, watchBranch, watchThreads: changes arrive over RPC
 * while the Worker invocation lives), info() with the edge's capabilities, and close().
 */
export interface EdgeStoreClient extends StoreOperations, Pick<StateStore, LocalMethod> {
  /** The core's facts about the store, the host, and its capabilities. */
  info(): Promise<EdgeStoreInfo>;
  /** Ends this client: every later call fails with CLOSED. The object and its data stay. */
  close(): Promise<void>;
}

/** What edgeStore needs of a namespace binding: an id per name and a stub per id. */
export interface StoreNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): DurableObjectStub<StateStoreObject>;
}

/** The RPC surface of StateStoreObject that the client calls. */
interface StoreStub {
  call(method: string, args: unknown[]): Promise<EdgeReply>;
  info(): Promise<EdgeReply<EdgeStoreInfo>>;
  subscribe(id: string, listener: (change: unknown) => void): Promise<EdgeReply<null>>;
  unsubscribe(id: string): Promise<EdgeReply<null>>;
}

function unwrap<T>(reply: EdgeReply<T>): T {
  if (reply.ok) return reply.value;
  throw reviveError(reply.error);
}

/** RPC refused to send or deliver the call: a value it cannot copy is the caller's, anything else the platform's. */
function transportError(method: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && (error.name === 'DataCloneError' || /could not be cloned|serialize/i.test(message))) {
    return new StoreError('INVALID_ARGUMENT', `${method}: an argument cannot be sent over RPC (${message})`, { cause: error });
  }
  return new StoreError('STORAGE', `${method}: ${message}`, { cause: error });
}

/**
 * The store named `name` in a namespace bound to StateStoreObject, as a typed client for Worker code.
 * Errors arrive as real StoreErrors with their codes and details.
 *
 * @example
 * const store = edgeStore(env.STORES, `user:${userId}`);
 * const thread = await store.createThread({ title: 'Plans' });
 */
export function edgeStore(namespace: StoreNamespace, name: string): EdgeStoreClient {
  if (typeof name !== 'string' || name.length === 0) {
    throw new StoreError('INVALID_ARGUMENT', 'name must be a non-empty string', { details: { field: 'name' } });
  }
  const stub = namespace.get(namespace.idFromName(name)) as unknown as StoreStub;
  let closed = false;
  // A call made before close() still runs; only calls made after it are CLOSED (see call and info).
  const guard = async <T>(method: string, send: () => Promise<EdgeReply<T>>): Promise<T> => {
    let reply: EdgeReply<T>;
    try {
      reply = await send();
    } catch (error) {
      throw transportError(method, error);
    }
    return unwrap(reply);
  };
  // Functions and symbols go as markers the store's validation refuses by field, as in the browser;
  // RPC would otherwise pass a function as a callable stub, or refuse a symbol without naming it.
  const send = (method: ServedMethod, args: unknown[]) => guard(method, () => stub.call(method, standInsForUncloneable(args) as unknown[]));

  // Calls reach the object in the order they were made: RPC does not promise to deliver concurrent
  // calls in order, so each waits for the one before. Streamed deltas (the `buffered` mode) that
  // queue up behind a call for the same message are sent together as one, as the browser host
  // coalesces them; each delta must be well-formed alone, so validation sees what it would have.
  interface Queued {
    method: string;
    args: unknown[];
    started: boolean;
    result: Promise<unknown>;
  }
  let tail: Promise<unknown> = Promise.resolve();
  let last: Queued | undefined;
  const enqueue = (method: string, args: unknown[], run: (args: unknown[]) => Promise<unknown>): Promise<unknown> => {
    const queued: Queued = { method, args, started: false, result: Promise.resolve() };
    queued.result = tail.then(() => {
      queued.started = true;
      return run(queued.args);
    });
    tail = queued.result.catch(() => {});
    last = queued;
    return queued.result;
  };
  const joinable = (q: Queued | undefined, method: ServedMethod, args: unknown[]): q is Queued =>
    q !== undefined && !q.started && q.method === method && operation(method).mode === 'buffered' && args.length === 2 && q.args.length === 2 &&
    q.args[0] === args[0] && typeof q.args[1] === 'string' && typeof args[1] === 'string' && args[1].isWellFormed() && q.args[1].isWellFormed();
  const call = (method: ServedMethod, args: unknown[]): Promise<unknown> => {
    if (closed) return Promise.reject(new StoreError('CLOSED', `${method}: the store is closed`));
    if (joinable(last, method, args)) {
      last.args = [last.args[0], (last.args[1] as string) + (args[1] as string)];
      return last.result;
    }
    return enqueue(method, args, (queuedArgs) => send(method, queuedArgs));
  };

  // One change feed per client, shared by its listeners: opened with the first, closed with the last.
  // Its registration takes its place in the call order, so it hears every call made after subscribe().
  const listeners = new Set<(change: StoreChange) => void>();
  const feedId = crypto.randomUUID();
  let feedOpen = false;
  const deliver = (change: unknown): void => {
    for (const listener of [...listeners]) {
      try {
        listener(change as StoreChange);
      } catch {
        // One failing listener must not stop the others, as in the core.
      }
    }
  };
  const closeFeed = (): void => {
    if (!feedOpen) return;
    feedOpen = false;
    void enqueue('unsubscribe', [], () => stub.unsubscribe(feedId)).catch(() => {});
  };
  const subscribe = (listener: (change: StoreChange) => void): (() => void) => {
    if (closed) throw new StoreError('CLOSED', 'subscribe: the store is closed');
    if (typeof listener !== 'function') throw new StoreError('INVALID_ARGUMENT', 'listener must be a function', { details: { field: 'listener' } });
    listeners.add(listener);
    if (!feedOpen) {
      feedOpen = true;
      void enqueue('subscribe', [], () => guard('subscribe', () => stub.subscribe(feedId, deliver))).catch(() => {});
    }
    return () => {
      if (listeners.delete(listener) && listeners.size === 0) closeFeed();
    };
  };
  const live: LiveHost = {
    getBranch: (threadId, options) => call('getBranch', [threadId, options]) as ReturnType<LiveHost['getBranch']>,
    listThreads: (filters) => call('listThreads', [filters]) as ReturnType<LiveHost['listThreads']>,
    onChange: subscribe,
    // A change arrives as its own RPC delivery: re-run on the next task, once for all that came before.
    schedule: (fn) => void setTimeout(fn, 0),
  };
  const open = (method: LocalMethod): void => {
    if (closed) throw new StoreError('CLOSED', `${method}: the store is closed`);
  };

  const client: Record<string, unknown> = {};
  for (const method of SERVED_METHODS) client[method] = (...args: unknown[]) => call(method, args);
  // importDatabase's onProgress is the one function an operation takes: it crosses as an RPC stub,
  // which the object calls as the import advances (the rest of the arguments go as plain data).
  client['importDatabase'] = (bytes: unknown, options?: unknown) => {
    const onProgress = typeof options === 'object' && options !== null ? (options as { onProgress?: unknown }).onProgress : undefined;
    if (typeof onProgress !== 'function') return call('importDatabase', options === undefined ? [bytes] : [bytes, options]);
    if (closed) return Promise.reject(new StoreError('CLOSED', 'importDatabase: the store is closed'));
    const { onProgress: _, ...rest } = options as Record<string, unknown>;
    return enqueue('importDatabase', [bytes, rest], ([b, r]) =>
      guard('importDatabase', () => stub.call('importDatabase', [standInsForUncloneable(b), { ...(standInsForUncloneable(r) as object), onProgress }])),
    );
  };
  Object.assign(client, {
    subscribe,
    watchBranch: (threadId, listener, options) => (open('watchBranch'), watchBranch(live, threadId, listener, options)),
    watchThreads: (options, listener) => (open('watchThreads'), watchThreads(live, options, listener)),
    info: async () => {
      if (closed) throw new StoreError('CLOSED', 'info: the store is closed');
      return guard('info', () => stub.info());
    },
    close: async () => {
      if (closed) return;
      listeners.clear();
      closeFeed();
      closed = true;
      await tail;
    },
  } satisfies Pick<EdgeStoreClient, LocalMethod | 'info' | 'close'>);
  return client as unknown as EdgeStoreClient;
}
