import { StateStore } from '../src/core/store.js';
import { StoreError } from '../src/core/errors.js';
import type { OpenResult, StoreInfo, WorkerOpenOptions } from '../src/protocol.js';
import { loadEngine, openDatabase, type OpenedDatabase } from './database.js';
import { GroupCommit } from './group-commit.js';

/** The store methods the page may call: StateStore's own, less the ones the worker runs itself. */
const SERVED = new Set(Object.getOwnPropertyNames(StateStore.prototype).filter((name) => !['constructor', 'close', 'info'].includes(name)));

interface Open {
  opened: OpenedDatabase;
  store: StateStore;
  commits: GroupCommit;
  options: WorkerOpenOptions;
}

async function storageFacts(): Promise<Pick<StoreInfo, 'storageEstimate' | 'persisted'>> {
  const storage = (globalThis.navigator as Navigator | undefined)?.storage;
  const estimate = await storage?.estimate?.().catch(() => undefined);
  const persisted = await storage?.persisted?.().catch(() => undefined);
  return {
    storageEstimate: estimate ? { usage: estimate.usage ?? 0, quota: estimate.quota ?? 0 } : null,
    persisted: persisted ?? null,
  };
}

/**
 * The object the worker exposes through Comlink. The page's client is typed from it and from
 * StateStore, never from a second hand-written interface.
 */
export function makeWorkerApi() {
  let current: Open | undefined;
  let closed = false;

  function require(): Open {
    if (closed) throw new StoreError('CLOSED', 'the store is closed');
    if (!current) throw new StoreError('CLOSED', 'the store is not open');
    return current;
  }

  async function info(): Promise<StoreInfo> {
    const { store, opened, commits, options } = require();
    const core = await commits.submit(() => store.info());
    const size = await commits.submit(() => opened.driver.all('SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()')[0]);
    return {
      ...core,
      name: options.name,
      vfs: opened.vfs,
      fallbackReason: opened.fallbackReason,
      durability: options.durability,
      databaseSizeBytes: Number(size?.['bytes'] ?? 0),
      commits: commits.commits,
      ...(await storageFacts()),
    };
  }

  return {
    /** Answers as soon as the worker listens; the client waits for it before opening. */
    async ping(): Promise<true> {
      return true;
    },

    /** Opens the store; a worker opens one store once. */
    async open(options: WorkerOpenOptions): Promise<OpenResult> {
      if (current || closed) throw new StoreError('CONFLICT', 'this worker has already opened a store');
      const sqlite3 = await loadEngine();
      const opened = await openDatabase(sqlite3, options);
      try {
        // journal_mode is set after the version check in StateStore.open, so a database that is
        // refused as too new is not touched; synchronous decides whether a commit waits for flush.
        const store = StateStore.open({ db: opened.driver, sessionIndex: opened.sessionIndex, dbPath: opened.dbPath });
        opened.driver.exec(`PRAGMA journal_mode = ${opened.vfs === 'memory' ? 'MEMORY' : 'TRUNCATE'}`);
        opened.driver.exec(`PRAGMA synchronous = ${options.durability === 'strict' ? 'FULL' : 'OFF'}`);
        const commits = new GroupCommit(opened.driver, () => opened.afterCommit());
        current = { opened, store, commits, options };
        return { methods: [...SERVED], info: await info() };
      } catch (error) {
        opened.driver.close();
        await opened.release().catch(() => {});
        throw error;
      }
    },

    /** Runs one store method inside the group commit. */
    async call(method: string, args: unknown[]): Promise<unknown> {
      const { store, commits } = require();
      if (!SERVED.has(method)) throw new StoreError('INVALID_ARGUMENT', `${method} is not a store method`, { details: { field: 'method' } });
      if (!Array.isArray(args)) throw new StoreError('INVALID_ARGUMENT', 'args must be an array', { details: { field: 'args' } });
      const fn = (store as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!;
      return commits.submit(() => fn.apply(store, args));
    },

    /** What the store runs on, and how it is doing. */
    info,

    /** Writes a pending memory-mode snapshot to IndexedDB now (the page calls this on pagehide). */
    async flush(): Promise<void> {
      if (!current || closed) return;
      current.commits.flush();
      await current.opened.flush();
    },

    /** Commits what is queued, closes the database and releases OPFS. Later calls fail with CLOSED. */
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (!current) return;
      const { store, opened, commits } = current;
      current = undefined;
      commits.flush();
      commits.dispose();
      await opened.flush();
      store.close();
      await opened.release();
    },
  };
}

/** The worker's API as the page sees it. */
export type WorkerApi = ReturnType<typeof makeWorkerApi>;
