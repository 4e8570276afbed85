import * as Comlink from 'comlink';
import { StoreError } from '../src/core/errors.js';
import { failInterruptedJobs } from '../src/core/recovery.js';
import { appliedResult, pruneAppliedRequests, recordApplied } from '../src/core/request-log.js';
import { StateStore } from '../src/core/store.js';
import { atomically } from '../src/core/transaction.js';
import type { ImportProgress } from '../src/core/transfer.js';
import { isReadMethod, storeChannels, type StoreChange, type StoreInfo, type WorkerOpenOptions } from '../src/protocol.js';
import { describeChanges } from './changes.js';
import type { OpenedDatabase } from './database.js';
import { DeltaBuffer } from './delta-buffer.js';
import { GroupCommit } from './group-commit.js';

/** The store methods a page may call: StateStore's own, less the ones the worker runs itself. */
export const SERVED_METHODS: ReadonlySet<string> = new Set(
  Object.getOwnPropertyNames(StateStore.prototype).filter((name) => !['constructor', 'close', 'info'].includes(name)),
);

/** Methods that run alone, outside the group transaction: they replace or copy the whole database. */
const EXCLUSIVE = new Set(['importDatabase', 'exportDatabase', 'exportSessionIndex', 'vacuum']);

// Request ids are kept a day: a retry comes within seconds of the leader change it follows.
const REQUEST_LOG_SECONDS = 24 * 60 * 60;
const PRUNE_EVERY_COMMITS = 500;

const now = (): number => Math.floor(Date.now() / 1000);

/** vacuum's options with the free space the browser reports (or the caller's figure, if smaller). */
async function vacuumOptions(given: unknown): Promise<unknown> {
  const options = (typeof given === 'object' && given !== null ? given : {}) as { availableBytes?: unknown };
  const estimate = await globalThis.navigator?.storage?.estimate?.().catch(() => undefined);
  if (!estimate) return options;
  const free = (estimate.quota ?? 0) - (estimate.usage ?? 0);
  return { ...options, availableBytes: typeof options.availableBytes === 'number' ? Math.min(options.availableBytes, free) : free };
}

/** What the leader serves to every tab's worker, its own included. */
export interface LeaderApi {
  call(method: string, args: unknown[], requestId: string | null): Promise<unknown>;
  info(): Promise<StoreInfo>;
}

/**
 * The one worker that owns the database. It runs every tab's calls through the group commit,
 * records request ids for exactly-once writes, and broadcasts what each commit changed.
 */
export class Leader implements LeaderApi {
  private readonly store: StateStore;
  private readonly commits: GroupCommit;
  private readonly deltas: DeltaBuffer;
  private readonly changes: BroadcastChannel;
  private readonly served = new Map<string, BroadcastChannel>();
  private pending: StoreChange[] = [];
  private closed = false;
  /** The commit count at the last pruning of the request log. */
  private prunedAt = 0;

  private constructor(
    private readonly opened: OpenedDatabase,
    private readonly options: WorkerOpenOptions,
    readonly recovered: { jobs: number },
  ) {
    // On OPFS the leader is the only connection, so it can hold the lock for good; that is also
    // what lets WAL work without shared memory (the OPFS VFSes have none). It must be in force
    // before the first read, so that a WAL file left by a crash is recovered.
    if (opened.vfs !== 'memory') opened.driver.exec('PRAGMA locking_mode = EXCLUSIVE');
    this.store = StateStore.open({ db: opened.driver, sessionIndex: opened.sessionIndex, dbPath: opened.dbPath });
    // journal_mode is set after the version check in StateStore.open, so a database refused as too
    // new is not touched. WAL writes a commit as one append (plus one sync in strict mode) instead of
    // a journal and the pages; measured about 3.5x faster for sequential strict appends.
    // synchronous decides whether a commit waits for the flush.
    opened.driver.exec(`PRAGMA journal_mode = ${opened.vfs === 'memory' ? 'MEMORY' : 'WAL'}`);
    opened.driver.exec(`PRAGMA synchronous = ${options.durability === 'strict' ? 'FULL' : 'OFF'}`);
    this.changes = new BroadcastChannel(storeChannels(options.name).changes);
    this.commits = new GroupCommit(opened.driver, () => this.afterCommit());
    this.deltas = new DeltaBuffer(this.store, (run, ids) => {
      let changes: StoreChange[] = [];
      const write = () => {
        run();
        changes = ids.flatMap((id) => describeChanges(opened.driver, 'appendMessageDelta', [id], undefined));
      };
      return this.commits.submit(write, () => this.pending.push(...changes));
    });
  }

  /** Opens the store on an opened database; runs the start-up sweep when `sweep` says no other tab is alive. */
  static start(opened: OpenedDatabase, options: WorkerOpenOptions, sweep: boolean): Leader {
    const leader = new Leader(opened, options, { jobs: 0 });
    if (sweep) {
      leader.recovered.jobs = failInterruptedJobs(opened.driver, now());
      // No tab is alive, so no stream is still being written: what is left streaming lost its writer.
      leader.store.recoverInterruptedMessages();
    }
    return leader;
  }

  private afterCommit(): void {
    this.opened.afterCommit();
    if (this.pending.length > 0) {
      this.changes.postMessage(this.pending);
      this.pending = [];
    }
    if (this.commits.commits - this.prunedAt >= PRUNE_EVERY_COMMITS) {
      this.prunedAt = this.commits.commits;
      this.commits.submit(() => pruneAppliedRequests(this.opened.driver, now() - REQUEST_LOG_SECONDS)).catch(() => {});
    }
  }

  /** Runs one store method; a write with a request id is applied at most once. */
  async call(method: string, args: unknown[], requestId: string | null): Promise<unknown> {
    // Another tab's call that reaches a leader on its way out is sent again to the next one.
    if (this.closed) throw new StoreError('BUSY', `${method}: the leading tab is closing`, { details: { resigned: true } });
    if (!SERVED_METHODS.has(method)) throw new StoreError('INVALID_ARGUMENT', `${method} is not a store method`, { details: { field: 'method' } });
    if (!Array.isArray(args)) throw new StoreError('INVALID_ARGUMENT', 'args must be an array', { details: { field: 'args' } });
    // Deltas are buffered and written together (not through the request log: that would be a row per token).
    if (method === 'appendMessageDelta') return this.deltas.append(args);
    this.deltas.beforeCall(method, args);
    if (method === 'vacuum') args = [await vacuumOptions(args[0])];
    const fn = (this.store as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!;
    const db = this.opened.driver;

    if (method === 'importDatabase') {
      // Another tab's import: its worker listens for progress on a channel named by the id it sent.
      const { progressId, ...given } = (typeof args[1] === 'object' && args[1] !== null ? args[1] : {}) as { progressId?: unknown };
      const progress = typeof progressId === 'string' ? new BroadcastChannel(storeChannels(this.options.name).progress(progressId)) : null;
      try {
        return await this.importDatabase(args[0], given, progress ? (p) => progress.postMessage(p) : undefined);
      } finally {
        progress?.close();
      }
    }
    if (EXCLUSIVE.has(method)) return this.commits.exclusive(() => fn.apply(this.store, args));
    if (isReadMethod(method)) return this.commits.read(() => fn.apply(this.store, args));
    if (requestId === null) {
      let changes: StoreChange[] = [];
      return this.commits.submit(
        () => {
          const result = fn.apply(this.store, args);
          changes = describeChanges(db, method, args, result);
          return result;
        },
        () => this.pending.push(...changes),
      );
    }
    let changes: StoreChange[] = [];
    return this.commits.submit(
      () =>
        atomically(db, () => {
          const prior = appliedResult(db, requestId);
          if (prior) return prior.value;
          const result = fn.apply(this.store, args);
          recordApplied(db, requestId, method, result, now());
          changes = describeChanges(db, method, args, result);
          return result;
        }),
      () => this.pending.push(...changes),
    );
  }

  /** Replaces the database (StateStore.importDatabase), alone between transactions; progress goes to `onProgress`. */
  async importDatabase(bytes: unknown, given: unknown, onProgress?: (progress: ImportProgress) => unknown): Promise<unknown> {
    if (this.closed) throw new StoreError('BUSY', 'importDatabase: the leading tab is closing', { details: { resigned: true } });
    const options = {
      ...(typeof given === 'object' && given !== null ? given : {}),
      onProgress: (p: ImportProgress) => {
        try {
          void onProgress?.(p);
        } catch {
          // A progress listener that throws must not abort the import.
        }
      },
    };
    const changes: StoreChange[] = [{ kind: 'database', method: 'importDatabase', threadId: null, id: null }];
    return this.commits.exclusive(() => this.store.importDatabase(bytes as Uint8Array, options), () => this.pending.push(...changes));
  }

  /** What the store runs on and how it is doing. */
  async info(): Promise<StoreInfo> {
    const core = await this.commits.read(() => this.store.info());
    const size = await this.commits.read(() => this.opened.driver.all('SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()')[0]);
    const storage = (globalThis.navigator as Navigator | undefined)?.storage;
    const estimate = await storage?.estimate?.().catch(() => undefined);
    const persisted = await storage?.persisted?.().catch(() => undefined);
    return {
      ...core,
      name: this.options.name,
      vfs: this.opened.vfs,
      fallbackReason: this.opened.fallbackReason,
      durability: this.options.durability,
      databaseSizeBytes: Number(size?.['bytes'] ?? 0),
      commits: this.commits.commits,
      storageEstimate: estimate ? { usage: estimate.usage ?? 0, quota: estimate.quota ?? 0 } : null,
      persisted: persisted ?? null,
      leader: true,
      recoveredJobs: this.recovered.jobs,
    };
  }

  /** Serves another tab's worker over its own channel. */
  serveTab(tabId: string): void {
    if (this.closed || this.served.has(tabId)) return;
    const channel = new BroadcastChannel(storeChannels(this.options.name).rpc(tabId));
    Comlink.expose({ call: this.call.bind(this), info: this.info.bind(this) } satisfies LeaderApi, channel);
    this.served.set(tabId, channel);
  }

  /** Stops serving a tab that closed. */
  forgetTab(tabId: string): void {
    this.served.get(tabId)?.close();
    this.served.delete(tabId);
  }

  /** Writes a pending memory-mode snapshot (the page asks on pagehide). */
  async flush(): Promise<void> {
    this.deltas.flush();
    this.commits.flush();
    await this.opened.flush();
  }

  /** Commits what is queued, closes the database and releases OPFS. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deltas.flush();
    this.deltas.dispose();
    this.commits.flush();
    this.commits.dispose();
    await this.opened.flush();
    this.store.close();
    await this.opened.release();
    for (const channel of this.served.values()) channel.close();
    this.changes.close();
  }
}
