import type { StoreChange } from '../core/changes.js';
import { StoreError } from '../core/errors.js';
import { watchBranch, watchThreads, type LiveHost } from '../core/live.js';
import { operation, SERVED_METHODS, type LocalMethod, type ServedMethod, type StoreOperations } from '../core/operations.js';
import type { StateStore } from '../core/store.js';
import { standInsForUncloneable } from '../core/validate.js';
import type { EdgeStoreInfo, StateStoreObject } from './object.js';
import { reviveError, type EdgeReply } from './reply.js';
import { stubChannel, type ChannelOptions, type QueuedCall, type RetryKind } from './channel.js';
import { RPC_VALUE_LIMIT_BYTES } from './staging.js';
import type { ImportResult } from '../core/transfer.js';

/**
 * A store as Worker code holds it: every served operation with the browser client's arguments and
 * Promise results, the live methods (subscribe, watchBranch, watchThreads: changes arrive over RPC
 * while the Worker invocation lives), info() with the edge's capabilities, and close().
 */
export interface EdgeStoreClient extends StoreOperations, Pick<StateStore, LocalMethod> {
  /**
   * The database as a SQLite file, streamed from the object's storage (any size; the same bytes as
   * exportDatabase, which collects this stream). Read it to its end or cancel it.
   */
  exportStream(): Promise<{ stream: ReadableStream<Uint8Array>; byteLength: number }>;
  /**
   * importDatabase for a file that arrives as a stream (a request body, another store's exportStream):
   * staged in the object's storage as it comes, never whole in memory. `maxBytes` defaults to 1 GiB.
   * Not retried after a reset (a stream cannot be read twice): a failure says so and nothing was imported.
   */
  importStream(body: ReadableStream<Uint8Array>, options?: { maxBytes?: number; sessionIndex?: string }): Promise<ImportResult>;
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
  call(method: string, args: unknown[], requestId?: string): Promise<EdgeReply>;
  exportStream(): Promise<EdgeReply<{ stream: ReadableStream<Uint8Array>; byteLength: number }>>;
  importStream(body: ReadableStream<Uint8Array>, options: { maxBytes?: number; sessionIndex?: string; requestId?: string }): Promise<EdgeReply>;
  info(): Promise<EdgeReply<EdgeStoreInfo>>;
  subscribe(id: string, listener: (change: unknown) => void): Promise<EdgeReply<null>>;
  unsubscribe(id: string): Promise<EdgeReply<null>>;
}

function unwrap<T>(reply: EdgeReply<T>): T {
  if (reply.ok) return reply.value;
  throw reviveError(reply.error);
}

/** Options of edgeStore: how hard it retries a call whose stub broke (see channel.ts). */
export type EdgeStoreOptions = ChannelOptions;

/**
 * The store named `name` in a namespace bound to StateStoreObject, as a typed client for Worker code.
 * Errors arrive as real StoreErrors with their codes and details. The client outlives a deploy or a
 * reset of the object: a broken stub is replaced, reads are sent again, and writes are sent again
 * with their request id, which the object applies at most once.
 *
 * @example
 * const store = edgeStore(env.STORES, `user:${userId}`);
 * const thread = await store.createThread({ title: 'Plans' });
 */
export function edgeStore(namespace: StoreNamespace, name: string, options: EdgeStoreOptions = {}): EdgeStoreClient {
  if (typeof name !== 'string' || name.length === 0) {
    throw new StoreError('INVALID_ARGUMENT', 'name must be a non-empty string', { details: { field: 'name' } });
  }
  let stubs = 0;
  const connect = (): StoreStub => {
    const stub = namespace.get(namespace.idFromName(name)) as unknown as StoreStub;
    // A reset object has forgotten this client's change feed: the new stub's first call opens it
    // again, ahead of the calls that are sent again (calls on one stub arrive in order).
    if (stubs++ > 0 && feedOpen) void stub.subscribe(feedId, deliver).catch(() => {});
    return stub;
  };
  const channel = stubChannel(connect, options);
  let closed = false;
  // A call made before close() still runs; only calls made after it are CLOSED (see call and info).
  const request = <T>(label: string, retry: RetryKind, run: (stub: StoreStub, requestId: string | undefined) => Promise<EdgeReply<T>>, holdKey?: string) =>
    channel.send(label, retry, async (stub, requestId) => unwrap(await run(stub, requestId)), holdKey);
  // A call that changes nothing (reads, export, vacuum) is safe to send again; a change goes with a request id.
  const retryOf = (method: ServedMethod): RetryKind => (operation(method).change ? 'write' : 'read');

  // Calls are sent in the order they were made, each after the one before was answered (see
  // ChannelOptions.pipeline for why not pipelined). Streamed deltas (the `buffered` mode) for one message are held
  // while one of them is in flight, and those that queue up are sent together as one, as the browser
  // host coalesces them; each delta must be well-formed alone, so validation sees what it would have.
  interface Queued {
    method: ServedMethod;
    args: unknown[];
    call: QueuedCall;
    result: Promise<unknown>;
  }
  let last: Queued | undefined;
  const joinable = (q: Queued | undefined, method: ServedMethod, args: unknown[]): q is Queued =>
    q !== undefined && !q.call.sent && q.method === method && operation(method).mode === 'buffered' && args.length === 2 && q.args.length === 2 &&
    q.args[0] === args[0] && typeof q.args[1] === 'string' && typeof args[1] === 'string' && args[1].isWellFormed() && q.args[1].isWellFormed();
  const call = (method: ServedMethod, args: unknown[], wire: (args: unknown[]) => unknown[] = (a) => standInsForUncloneable(a) as unknown[]): Promise<unknown> => {
    if (closed) return Promise.reject(new StoreError('CLOSED', `${method}: the store is closed`));
    if (joinable(last, method, args)) {
      last.args = [last.args[0], (last.args[1] as string) + (args[1] as string)];
      return last.result;
    }
    const buffered = operation(method).mode === 'buffered';
    const queued = { method, args } as Queued;
    const sent = request(method, retryOf(method), (stub, requestId) => stub.call(method, wire(queued.args), requestId), buffered ? `${method}:${String(args[0])}` : undefined);
    queued.call = sent.call;
    queued.result = sent.result;
    last = queued;
    return sent.result;
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
    void request('unsubscribe', 'read', (stub) => stub.unsubscribe(feedId)).result.catch(() => {});
  };
  const subscribe = (listener: (change: StoreChange) => void): (() => void) => {
    if (closed) throw new StoreError('CLOSED', 'subscribe: the store is closed');
    if (typeof listener !== 'function') throw new StoreError('INVALID_ARGUMENT', 'listener must be a function', { details: { field: 'listener' } });
    listeners.add(listener);
    if (!feedOpen) {
      feedOpen = true;
      void request('subscribe', 'read', (stub) => stub.subscribe(feedId, deliver)).result.catch(() => {});
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
  client['exportDatabase'] = async () => {
    const { stream } = await (client['exportStream'] as EdgeStoreClient['exportStream'])();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of stream) {
      chunks.push(chunk);
      size += chunk.byteLength;
    }
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, at);
      at += chunk.byteLength;
    }
    return bytes;
  };
  client['exportStream'] = () => {
    if (closed) return Promise.reject(new StoreError('CLOSED', 'exportStream: the store is closed'));
    return request('exportStream', 'read', (stub) => stub.exportStream()).result;
  };
  client['importStream'] = (body: unknown, options: { maxBytes?: number; sessionIndex?: string } = {}) => {
    if (closed) return Promise.reject(new StoreError('CLOSED', 'importStream: the store is closed'));
    if (!(body instanceof ReadableStream)) return Promise.reject(new StoreError('INVALID_ARGUMENT', 'body must be a ReadableStream', { details: { field: 'body' } }));
    return request('importStream', 'never', (stub) => stub.importStream(body, { ...options, requestId: crypto.randomUUID() })).result;
  };
  client['importDatabase'] = (bytes: unknown, options?: unknown) => {
    // A file sent whole crosses RPC as one value; a larger one must be streamed.
    if (bytes instanceof Uint8Array && bytes.byteLength > RPC_VALUE_LIMIT_BYTES - 64 * 1024) {
      return Promise.reject(
        new StoreError('INVALID_ARGUMENT', `importDatabase: a file over ${RPC_VALUE_LIMIT_BYTES - 64 * 1024} bytes cannot cross Workers RPC whole (32 MiB per value); use importStream`, {
          details: { field: 'bytes', limitBytes: RPC_VALUE_LIMIT_BYTES - 64 * 1024 },
        }),
      );
    }
    const onProgress = typeof options === 'object' && options !== null ? (options as { onProgress?: unknown }).onProgress : undefined;
    if (typeof onProgress !== 'function') return call('importDatabase', options === undefined ? [bytes] : [bytes, options]);
    const { onProgress: _, ...rest } = options as Record<string, unknown>;
    return call('importDatabase', [bytes, rest], ([b, r]) => [standInsForUncloneable(b), { ...(standInsForUncloneable(r) as object), onProgress }]);
  };
  Object.assign(client, {
    subscribe,
    watchBranch: (threadId, listener, options) => (open('watchBranch'), watchBranch(live, threadId, listener, options)),
    watchThreads: (options, listener) => (open('watchThreads'), watchThreads(live, options, listener)),
    info: async () => {
      if (closed) throw new StoreError('CLOSED', 'info: the store is closed');
      return request('info', 'read', (stub) => stub.info()).result;
    },
    close: async () => {
      if (closed) return;
      listeners.clear();
      closeFeed();
      closed = true;
      while (!channel.idle()) await new Promise((resolve) => setTimeout(resolve, 1));
    },
  } satisfies Pick<EdgeStoreClient, LocalMethod | 'info' | 'close'>);
  return client as unknown as EdgeStoreClient;
}
