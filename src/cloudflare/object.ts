import { DurableObject } from 'cloudflare:workers';
import type { StoreChange } from '../core/changes.js';
import { StoreError } from '../core/errors.js';
import { isServed, operation, type ServedMethod } from '../core/operations.js';
import { StateStore } from '../core/store.js';
import type { StoreInfo } from '../core/types.js';
import { durableObjectDriver, durableObjectTextFile, EDGE_CAPABILITIES } from './driver.js';
import { failure, plain, type EdgeReply } from './reply.js';
import { loadEdgeEngine } from './engine.js';

/** The methods that need the in-memory sqlite-wasm engine (see ./image.ts). */
const FILE_METHODS: ReadonlySet<string> = new Set(['exportDatabase', 'importDatabase']);

/**
 * How the edge host differs from the browser's, reported by info().capabilities. Every difference is
 * a declared capability, never a silent no-op.
 */
export interface EdgeCapabilities {
  /** `quick`: integrityCheck() runs PRAGMA quick_check (the engine refuses integrity_check), which skips index contents. */
  integrityCheck: 'quick';
  /** `automatic`: the object's storage gives freed space back by itself; vacuum() measures and rebuilds nothing (result.automatic). */
  vacuum: 'automatic';
  /** `output-gate`: a reply leaves the object only after its write is durable; there is no relaxed mode. */
  durability: 'output-gate';
  /**
   * `rpc`: subscribe, watchBranch and watchThreads work through edgeStore(): the client's listener
   * crosses RPC as a function stub and hears every committed change of the object, for as long as
   * the Worker invocation that subscribed lives.
   */
  listeners: 'rpc';
  /** True: exportDatabase and importDatabase move the same SQLite files as the browser (built in an in-memory sqlite-wasm copy). */
  exportImport: true;
  /** False: the engine refuses sqlite_version(), so info().sqliteVersion is "unknown". */
  sqliteVersion: false;
}

/** A caller's listener as it arrives over RPC: a function stub that can be kept (dup) and released. */
type RemoteListener = ((change: unknown) => unknown) & { dup?: () => RemoteListener; [Symbol.dispose]?: () => void };

/** The capabilities of this build of the edge host. */
export const EDGE_HOST_CAPABILITIES: EdgeCapabilities = {
  integrityCheck: EDGE_CAPABILITIES.integrityCheck as 'quick',
  vacuum: EDGE_CAPABILITIES.vacuum as 'automatic',
  durability: 'output-gate',
  listeners: 'rpc',
  exportImport: true,
  sqliteVersion: false,
};

/** What the edge host's info() reports: the core's facts, plus the host and its capabilities. */
export type EdgeStoreInfo = StoreInfo & { host: 'durable-object'; capabilities: EdgeCapabilities };

/**
 * A Durable Object that hosts one StateStore: its database is the object's SQLite, its session index
 * a file in the object's KV storage. Bind it with `new_sqlite_classes` in wrangler.jsonc and reach it
 * from Worker code with edgeStore(). One object per user or workspace.
 *
 * Calls run one at a time (the object is single-threaded and every call is synchronous), each in its
 * own transaction together with its session-index lines.
 *
 * @example
 * export { StateStoreObject } from 'agent-state-store/cloudflare';
 */
export class StateStoreObject<Env = unknown> extends DurableObject<Env> {
  #store: StateStore | undefined;
  /** The callers' change feeds, by the id each client chose (see subscribe). */
  readonly #feeds = new Map<string, RemoteListener>();

  /** The hosted store, opened (and migrated) on first use. */
  protected get store(): StateStore {
    if (!this.#store) {
      const store = StateStore.open({
        db: durableObjectDriver(this.ctx.storage),
        sessionIndex: durableObjectTextFile(this.ctx.storage.kv),
        dbPath: `durable-object:${this.ctx.id.toString()}`,
      });
      // The feeds belong to the object, so they outlive a reopened store.
      store.subscribe((change) => this.#publish(change));
      this.#store = store;
    }
    return this.#store;
  }

  #publish(change: StoreChange): void {
    const data = plain(change);
    for (const [id, listener] of this.#feeds) {
      // A caller that has gone away ends its feed.
      Promise.resolve()
        .then(() => listener(data))
        .catch(() => this.#drop(id));
    }
  }

  #drop(id: string): void {
    const listener = this.#feeds.get(id);
    this.#feeds.delete(id);
    listener?.[Symbol.dispose]?.();
  }

  /**
   * Starts the change feed `id`: `listener` (a function stub from the caller) hears every change a
   * call commits, as { kind, method, threadId, id }, until unsubscribe(id) or the caller goes away.
   * edgeStore() builds subscribe, watchBranch and watchThreads on it.
   */
  async subscribe(id: string, listener: (change: unknown) => unknown): Promise<EdgeReply<null>> {
    try {
      if (typeof id !== 'string' || id.length === 0) throw new StoreError('INVALID_ARGUMENT', 'id must be a non-empty string', { details: { field: 'id' } });
      if (typeof listener !== 'function') throw new StoreError('INVALID_ARGUMENT', 'listener must be a function', { details: { field: 'listener' } });
      void this.store;
      this.#drop(id);
      // A stub passed as an argument lasts only as long as the call unless it is duplicated.
      const kept = (listener as RemoteListener).dup?.() ?? listener;
      this.#feeds.set(id, kept as RemoteListener);
      return { ok: true, value: null };
    } catch (error) {
      return failure(error);
    }
  }

  /** Ends the change feed `id`; a feed that does not exist is a no-op. */
  async unsubscribe(id: string): Promise<EdgeReply<null>> {
    this.#drop(String(id));
    return { ok: true, value: null };
  }

  /**
   * Runs one served method of the operation table with `args` and answers plain data: the value, or
   * the StoreError as { code, message, details }. Internal and unknown methods are INVALID_ARGUMENT.
   */
  async call(method: string, args: unknown[]): Promise<EdgeReply> {
    try {
      if (!isServed(method)) {
        throw new StoreError('INVALID_ARGUMENT', `${String(method)} is not a method this store serves`, { details: { field: 'method' } });
      }
      if (!Array.isArray(args)) throw new StoreError('INVALID_ARGUMENT', `${method}: args must be an array`, { details: { field: 'args' } });
      // Files are built and checked in an in-memory sqlite-wasm database, loaded on first need.
      if (FILE_METHODS.has(method)) await loadEdgeEngine();
      return { ok: true, value: plain(this.#run(method, args)) };
    } catch (error) {
      return failure(error);
    }
  }

  /** The core's info() with this host's facts and capabilities (see EdgeCapabilities). */
  async info(): Promise<EdgeReply<EdgeStoreInfo>> {
    try {
      const facts = this.store.info();
      return { ok: true, value: plain({ ...facts, durability: 'strict', host: 'durable-object', capabilities: EDGE_HOST_CAPABILITIES }) as EdgeStoreInfo };
    } catch (error) {
      return failure(error);
    }
  }

  #run(method: ServedMethod, args: unknown[]): unknown {
    const store = this.store;
    const fn = store[method] as (...a: unknown[]) => unknown;
    if (operation(method).mode === 'read') return fn.apply(store, args);
    try {
      // One transaction for the call's rows and its session-index lines (some calls, compaction for
      // one, write only the index), so a failure leaves neither behind.
      return this.ctx.storage.transactionSync(() => fn.apply(store, args));
    } catch (error) {
      // The index file rolled back with the call, but the store's in-memory map of it may not have:
      // reopen from storage on the next call.
      // REPLACED is refused before anything is written, and the store remembers the replaced streams
      // it refuses: keep it.
      if (!(error instanceof StoreError && error.code === 'REPLACED')) this.#store = undefined;
      throw error;
    }
  }
}
