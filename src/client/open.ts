import * as Comlink from 'comlink';
import type { StoreChange } from '../core/changes.js';
import { StoreError } from '../core/errors.js';
import { watchBranch, watchThreads, type LiveHost } from '../core/live.js';
import { carriesRequestId, SERVED_METHODS, type LocalMethod, type ServedMethod, type StoreOperations } from '../core/operations.js';
import type { StateStore } from '../core/store.js';
import type { ImportOptions, ImportProgress, ImportResult } from '../core/transfer.js';
import type { BranchMessage, Durability, StoreInfo, ThreadMetadata, VfsChoice } from '../core/types.js';
import { standInsForUncloneable } from '../core/validate.js';
import { installErrorTransfer, storeChannels, type CallOptions, type TokenSource, type WorkerOpenOptions, type WorkerSyncOptions } from '../wire.js';
import type { WorkerApi } from '../../worker/api.js';

/** Options of openStateStore. */
export interface OpenStateStoreOptions {
  /** The store's name: its OPFS directory, pool and snapshot key. Default "default". */
  name?: string;
  /** Where the database lives. Default `auto`: OPFS through `opfs-sahpool`, or memory with IndexedDB snapshots where OPFS is unavailable. */
  vfs?: VfsChoice;
  /** Default `strict`: a write resolves only after its commit is flushed. */
  durability?: Durability;
  /** A worker running `agent-state-store/worker`, for apps that host it themselves. Default: the package's own. */
  worker?: Worker;
  /**
   * When the first tab opens the store, mark jobs left `queued` or `running` by a closed session as
   * `failed` (detail "interrupted: …"). Default true; it never runs while another tab has the store open.
   */
  recoverOnStart?: boolean;
  /**
   * Keeps the store in sync with its Durable Object (see README: Sync). The leading tab's worker
   * runs it, with the options and `getToken` of the tab that leads: a tab that opens the store
   * without `sync` while the leader has it still sees every synced change, and the leader keeps
   * syncing. Status: `info().sync` and `sync` notices through `subscribe`.
   */
  sync?: SyncOptions;
}

/** openStateStore's `sync` option. */
export interface SyncOptions {
  /** The store's URL on the edge router, http or https, e.g. `https://example.com/stores/alice`; the sync endpoint is `<url>/sync`. */
  url: string;
  /**
   * Returns the token the router's `authorize` checks (sent as `access_token` on the WebSocket, and
   * as `Authorization: Bearer` on the probe that tells a bad token from a network failure). Called
   * before every connection attempt, so a refreshed token is picked up at the next retry.
   */
  getToken: () => string | Promise<string>;
}

export type { StoreOperations };

/** The store a page holds: every served operation, the live queries, and what only the browser knows. */
export interface StateStoreClient extends Omit<StoreOperations, 'importDatabase'>, Omit<Pick<StateStore, LocalMethod>, 'subscribe'> {
  /**
   * Replaces all data with a SQLite file (see StateStore.importDatabase); `onProgress` is called on
   * this page as the import advances, whichever tab's worker runs it. Pass a large file as the Blob
   * (the File of an `<input type=file>`): the worker reads it in place 64 KiB at a time and never
   * holds it whole, where a Uint8Array is copied to the worker and again into the engine.
   */
  importDatabase(bytes: Uint8Array | Blob, options?: ImportOptions): Promise<ImportResult>;
  /**
   * Calls `listener` with every committed change from any tab (kind, thread, id, method), and with a
   * `leader` notice when a tab's worker takes the lead. Returns the function that stops it.
   */
  subscribe(listener: (change: StoreChange) => void): () => void;
  /** SQLite version, VFS, durability, database size, storage estimate, persistence, session-index health, sync status. */
  info(): Promise<StoreInfo>;
  /** Asks the browser to keep this origin's storage under pressure (navigator.storage.persist()). */
  requestPersistence(): Promise<boolean>;
  /** Commits what is pending, closes the database and ends the worker. Every later call fails with CLOSED. */
  close(): Promise<void>;
}

let errorsInstalled = false;

/**
 * When a live query re-runs: at the next animation frame, so a stream redraws at most once a frame;
 * in a hidden page (no frames) or outside a page, on the next task.
 */
function nextFrame(fn: () => void): void {
  const visible = typeof document !== 'undefined' && document.visibilityState === 'visible';
  if (visible && typeof requestAnimationFrame === 'function') requestAnimationFrame(() => fn());
  else setTimeout(fn, 0);
}

const PING_INTERVAL_MS = 100;
const START_TIMEOUT_MS = 30_000;

/**
 * A message sent before the worker's code has started listening is lost when that code starts
 * asynchronously (a host worker that awaits something first), so ping until one is answered.
 */
async function waitUntilListening(remote: Comlink.Remote<WorkerApi>, failed: Promise<never>): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const answered = await Promise.race([remote.ping(), new Promise<false>((r) => setTimeout(() => r(false), PING_INTERVAL_MS)), failed]);
    if (answered) return;
  }
  throw new StoreError('STORAGE', `the store worker did not answer within ${START_TIMEOUT_MS / 1000} s`);
}

/** What to check when the store's worker or its engine does not load (see docs/troubleshooting.md). */
const BUNDLER_ADVICE =
  "With Vite, add '@sqlite.org/sqlite-wasm' and 'agent-state-store' to optimizeDeps.exclude and set worker.format to 'es' " +
  '(see docs/troubleshooting.md); with another bundler, make it emit the worker and sqlite3.wasm as files';

/**
 * The package's own worker, started by openStateStore() and never at import: a page that imports
 * the package (if only for StoreError) starts nothing until it opens a store.
 */
function defaultWorker(): Worker {
  if (typeof Worker === 'undefined') {
    throw new StoreError('STORAGE', "openStateStore needs a browser page (it runs the store in a Web Worker); in Node, tests or an edge runtime use createMemoryStore() from 'agent-state-store/core'", {
      details: { reason: 'no-worker' },
    });
  }
  try {
    // A literal `new Worker(new URL(…), …)` so that the consumer's bundler finds and bundles the worker.
    return new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'agent-state-store' });
  } catch (error) {
    // A Content-Security-Policy without worker-src for this origin, or a worker URL the bundler left unusable.
    const why = error instanceof Error ? error.message : String(error);
    throw new StoreError('STORAGE', `the store's worker could not be created (${why}): allow same-origin workers in the page's Content-Security-Policy (worker-src 'self'). ${BUNDLER_ADVICE}`, {
      cause: error,
      details: { reason: 'worker-create' },
    });
  }
}

/** The `worker` option: something a Worker can stand for (Comlink needs postMessage and addEventListener; close needs terminate). */
function isWorkerLike(value: unknown): value is Worker {
  const w = value as Partial<Worker> | null;
  return typeof w === 'object' && w !== null && typeof w.postMessage === 'function' && typeof w.addEventListener === 'function' && typeof w.terminate === 'function';
}

const OPTION_NAMES = ['name', 'vfs', 'durability', 'worker', 'recoverOnStart', 'sync'] as const satisfies readonly (keyof OpenStateStoreOptions)[];

/** A value as an error message shows it: strings quoted, objects by kind. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}

function checkOptions(options: unknown): WorkerOpenOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new StoreError('INVALID_ARGUMENT', `openStateStore takes an options object, e.g. openStateStore({ name: 'chat' }); got ${shown(options)}`, {
      details: { field: 'options' },
    });
  }
  // A misspelt option would otherwise be ignored and its default used without a word.
  const unknown = Object.keys(options).filter((key) => !(OPTION_NAMES as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw new StoreError('INVALID_ARGUMENT', `openStateStore has no option ${unknown.map((k) => JSON.stringify(k)).join(', ')}; its options are ${OPTION_NAMES.join(', ')}`, {
      details: { field: unknown[0]! },
    });
  }
  const given = options as OpenStateStoreOptions;
  const name = given.name ?? 'default';
  if (typeof name !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
    throw new StoreError('INVALID_ARGUMENT', `name must be 1–64 letters, digits, ".", "_" or "-", e.g. "chat" or "user-42"; got ${shown(name)}`, { details: { field: 'name' } });
  }
  const vfs = given.vfs ?? 'auto';
  if (!['auto', 'opfs-sahpool', 'opfs', 'memory'].includes(vfs)) {
    throw new StoreError('INVALID_ARGUMENT', `vfs must be auto, opfs-sahpool, opfs or memory (leave it out for auto); got ${shown(vfs)}`, { details: { field: 'vfs' } });
  }
  const durability = given.durability ?? 'strict';
  if (durability !== 'strict' && durability !== 'relaxed') {
    throw new StoreError('INVALID_ARGUMENT', `durability must be strict or relaxed (leave it out for strict); got ${shown(durability)}`, { details: { field: 'durability' } });
  }
  const recoverOnStart = given.recoverOnStart ?? true;
  if (typeof recoverOnStart !== 'boolean') {
    throw new StoreError('INVALID_ARGUMENT', `recoverOnStart must be true or false; got ${shown(recoverOnStart)}`, { details: { field: 'recoverOnStart' } });
  }
  if (given.worker !== undefined && !isWorkerLike(given.worker)) {
    throw new StoreError('INVALID_ARGUMENT', `worker must be a Worker whose module calls serve() from 'agent-state-store/worker' (or leave it out for the package's own); got ${shown(given.worker)}`, {
      details: { field: 'worker' },
    });
  }
  const settings: WorkerOpenOptions = { name, vfs: vfs as VfsChoice, durability: durability as Durability, recoverOnStart };
  if (given.sync !== undefined) settings.sync = checkSyncOptions(given.sync);
  return settings;
}

/** Checks the `sync` option; returns what the worker gets (the URL, without a trailing slash). */
function checkSyncOptions(sync: unknown): WorkerSyncOptions {
  if (typeof sync !== 'object' || sync === null) {
    throw new StoreError('INVALID_ARGUMENT', 'sync must be an object { url, getToken }', { details: { field: 'sync' } });
  }
  const { url, getToken } = sync as Partial<SyncOptions>;
  const invalidUrl = (why: string, got = shown(url)) =>
    new StoreError('INVALID_ARGUMENT', `sync.url ${why}: give the store's URL on the edge router, e.g. "https://example.com/stores/alice"; got ${got}`, {
      details: { field: 'sync.url' },
    });
  if (typeof url !== 'string') throw invalidUrl('must be a string');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidUrl('must be an absolute http or https URL');
  }
  // The socket's ws(s) URL is made from it, so a ws(s) URL here is the most likely slip.
  if (parsed.protocol === 'ws:' || parsed.protocol === 'wss:') throw invalidUrl(`must be the http(s) URL (the socket's ${parsed.protocol.slice(0, -1)} URL is made from it)`);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalidUrl('must be an http or https URL');
  // The endpoints are made by appending to the path: a query or a fragment would end up in the wrong place.
  if (parsed.search !== '' || parsed.hash !== '') throw invalidUrl('must have no query or fragment');
  if (parsed.username !== '' || parsed.password !== '') {
    // Error messages end up in logs: the credentials are not repeated.
    throw invalidUrl('must not carry credentials (getToken gives them)', `a URL with credentials for ${parsed.host}`);
  }
  if (typeof getToken !== 'function') {
    throw new StoreError('INVALID_ARGUMENT', `sync.getToken must be a function that returns the token (or a promise of it), e.g. () => session.token; got ${getToken === null ? 'null' : typeof getToken}`, {
      details: { field: 'sync.getToken' },
    });
  }
  return { url: parsed.href.replace(/\/+$/, '') };
}

/**
 * The page's getToken as the worker calls it: a non-empty string, or a StoreError: the app's own
 * StoreError as it is, anything else it throws as UNAUTHORIZED (no token, no access).
 */
function tokenSource(getToken: SyncOptions['getToken']): TokenSource {
  return async () => {
    let token: unknown;
    try {
      token = await getToken();
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError('UNAUTHORIZED', `sync.getToken failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (typeof token !== 'string' || token === '') {
      throw new StoreError('INVALID_ARGUMENT', `sync.getToken must return a non-empty string; got ${token === '' ? 'an empty string' : typeof token}`, { details: { field: 'sync.getToken' } });
    }
    return token;
  };
}

/**
 * Opens a persistent store in a Web Worker and returns its typed client.
 *
 * @example
 * const store = await openStateStore({ name: 'chat' });
 * await store.upsertThread({ id: 't1', preview: '', ephemeral: false, modelProvider: 'openai',
 *   createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1.0', source: 'api' });
 * await store.appendMessage('t1', 'user', 'Hello!');
 */
export async function openStateStore(options: OpenStateStoreOptions = {}): Promise<StateStoreClient> {
  const settings = checkOptions(options);
  if (!errorsInstalled) {
    installErrorTransfer(Comlink.transferHandlers as never);
    errorsInstalled = true;
  }
  const worker = options.worker ?? defaultWorker();
  const remote = Comlink.wrap<WorkerApi>(worker);
  // A worker that fails to load never answers; surface its error instead of hanging.
  const failedToLoad = new Promise<never>((_, reject) => {
    const fail = (event: Event) => {
      const why = (event as ErrorEvent).message || 'its script did not load';
      reject(new StoreError('STORAGE', `the store's worker failed to start (${why}). ${BUNDLER_ADVICE}`, { details: { reason: 'worker-load' } }));
    };
    worker.addEventListener('error', fail, { once: true });
  });
  try {
    await waitUntilListening(remote, failedToLoad);
    // The token source stays on this page (it may read the app's session); the worker calls it over Comlink.
    const tokens = options.sync ? Comlink.proxy(tokenSource(options.sync.getToken)) : undefined;
    await Promise.race([remote.open(settings, tokens), failedToLoad]);
  } catch (error) {
    worker.terminate();
    throw error instanceof StoreError ? error : new StoreError('STORAGE', String(error), { cause: error });
  }

  let closed = false;
  const guard = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    if (closed) throw new StoreError('CLOSED', `${name}: the store is closed; open it again with openStateStore()`);
    try {
      return await fn();
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError('STORAGE', `${name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  };
  const call = async <M extends ServedMethod>(method: M, args: Parameters<StateStore[M]>, options?: CallOptions): Promise<unknown> => {
    // A write carries an id that the leader records with it, so a retry after failover applies once.
    const requestId = carriesRequestId(method) ? crypto.randomUUID() : null;
    try {
      return await remote.call(method, args, requestId, options);
    } catch (error) {
      if (!(error instanceof Error && error.name === 'DataCloneError')) throw error;
      // postMessage refused a value structured clone cannot copy. Send stand-ins instead, so that the
      // store's own validation names the field, exactly as it does in Node.
      try {
        return await remote.call(method, standInsForUncloneable(args) as Parameters<StateStore[M]>, requestId, options);
      } catch (retryError) {
        if (!(retryError instanceof Error && retryError.name === 'DataCloneError')) throw retryError;
        throw new StoreError('INVALID_ARGUMENT', `${method}: an argument cannot be sent to the worker (${retryError.message})`, { cause: retryError });
      }
    }
  };

  const onPageHide = () => void remote.flush().catch(() => {});
  globalThis.addEventListener?.('pagehide', onPageHide);
  // A worker gets no online/offline events in Chromium: this page passes its own on (sync only).
  const onOnline = () => void remote.network(true).catch(() => {});
  const onOffline = () => void remote.network(false).catch(() => {});
  if (settings.sync) {
    globalThis.addEventListener?.('online', onOnline);
    globalThis.addEventListener?.('offline', onOffline);
  }

  const client: Record<string, unknown> = {};
  for (const method of SERVED_METHODS) {
    client[method] = (...args: Parameters<StateStore[typeof method]>) => guard(method, () => call(method, args));
  }
  const typed = client as unknown as StateStoreClient;
  // A live query's re-reads leave the stream buffer alone (see CallOptions).
  const live: LiveHost = {
    getBranch: (threadId, options) => guard('getBranch', () => call('getBranch', [threadId, options], { flushDeltas: false })) as Promise<BranchMessage[]>,
    listThreads: (filters) => guard('listThreads', () => call('listThreads', [filters], { flushDeltas: false })) as Promise<ThreadMetadata[]>,
    onChange: (listener) => typed.subscribe(listener),
    schedule: nextFrame,
  };
  const channels = storeChannels(settings.name);
  const listeners = new Set<(change: StoreChange) => void>();
  let changes: BroadcastChannel | undefined;

  Object.assign(client, {
    importDatabase: (bytes: Uint8Array | Blob, options: ImportOptions = {}) =>
      guard('importDatabase', async () => {
        const { onProgress, ...rest } = options ?? {};
        if (onProgress !== undefined && typeof onProgress !== 'function') {
          throw new StoreError('INVALID_ARGUMENT', 'options.onProgress must be a function', { details: { field: 'options.onProgress' } });
        }
        const progress = onProgress ? Comlink.proxy((p: ImportProgress) => onProgress(p)) : undefined;
        try {
          return (await remote.importDatabase(bytes, rest, crypto.randomUUID(), progress)) as ImportResult;
        } catch (error) {
          if (error instanceof Error && error.name === 'DataCloneError') {
            throw new StoreError('INVALID_ARGUMENT', `importDatabase: bytes and options must be plain data (${error.message})`, { details: { field: 'bytes' }, cause: error });
          }
          throw error;
        }
      }),
    subscribe: (listener: (change: StoreChange) => void) => {
      if (closed) throw new StoreError('CLOSED', 'subscribe: the store is closed; open it again with openStateStore()');
      if (typeof listener !== 'function') throw new StoreError('INVALID_ARGUMENT', 'listener must be a function', { details: { field: 'listener' } });
      if (!changes) {
        changes = new BroadcastChannel(channels.changes);
        changes.onmessage = (event: MessageEvent<StoreChange[]>) => {
          for (const change of event.data) {
            for (const l of [...listeners]) {
              try {
                l(change);
              } catch {
                // One failing listener must not stop the others (a live query among them), as in the core.
              }
            }
          }
        };
      }
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    watchBranch: (threadId, listener, options) => watchBranch(live, threadId, listener, options),
    watchThreads: (options, listener) => watchThreads(live, options, listener),
    info: () => guard('info', () => remote.info()),
    requestPersistence: () => guard('requestPersistence', async () => (await navigator.storage?.persist?.()) ?? false),
    close: async () => {
      if (closed) return;
      closed = true;
      globalThis.removeEventListener?.('pagehide', onPageHide);
      globalThis.removeEventListener?.('online', onOnline);
      globalThis.removeEventListener?.('offline', onOffline);
      changes?.close();
      listeners.clear();
      try {
        await remote.close();
      } finally {
        remote[Comlink.releaseProxy]();
        worker.terminate();
      }
    },
  } satisfies Pick<StateStoreClient, 'importDatabase' | 'subscribe' | 'watchBranch' | 'watchThreads' | 'info' | 'requestPersistence' | 'close'>);
  return client as unknown as StateStoreClient;
}
