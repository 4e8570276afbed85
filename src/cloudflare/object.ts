import { DurableObject } from 'cloudflare:workers';
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
  /** False: subscribe, watchBranch and watchThreads take listeners, which this host does not serve over RPC. */
  listeners: false;
  /** True: exportDatabase and importDatabase move the same SQLite files as the browser (built in an in-memory sqlite-wasm copy). */
  exportImport: true;
  /** False: the engine refuses sqlite_version(), so info().sqliteVersion is "unknown". */
  sqliteVersion: false;
}

/** The capabilities of this build of the edge host. */
export const EDGE_HOST_CAPABILITIES: EdgeCapabilities = {
  integrityCheck: EDGE_CAPABILITIES.integrityCheck as 'quick',
  vacuum: EDGE_CAPABILITIES.vacuum as 'automatic',
  durability: 'output-gate',
  listeners: false,
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

  /** The hosted store, opened (and migrated) on first use. */
  protected get store(): StateStore {
    this.#store ??= StateStore.open({
      db: durableObjectDriver(this.ctx.storage),
      sessionIndex: durableObjectTextFile(this.ctx.storage.kv),
      dbPath: `durable-object:${this.ctx.id.toString()}`,
    });
    return this.#store;
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
