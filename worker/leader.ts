import * as Comlink from 'comlink';
import { describeChange, type StoreChange } from '../src/core/changes.js';
import { StoreError } from '../src/core/errors.js';
import { isServed, operation, type ServedMethod } from '../src/core/operations.js';
import { hasInterruptedWork } from '../src/core/recovery.js';
import { appliedResult, pruneAppliedRequests, recordApplied } from '../src/core/request-log.js';
import type { StateStore } from '../src/core/store.js';
import { atomically } from '../src/core/transaction.js';
import type { ImportProgress } from '../src/core/transfer.js';
import type { StoreInfo } from '../src/core/types.js';
import { storeChannels, type CallOptions, type TokenSource, type WorkerOpenOptions } from '../src/wire.js';
import { startStore, type OpenedDatabase } from './database.js';
import { DeltaBuffer } from './delta-buffer.js';
import { blobFile } from './blob-file.js';
import { loadEngine } from '../src/driver/engine.js';
import { GroupCommit } from './group-commit.js';
import { SyncDevice, sweepOwnWork } from '../src/sync/device.js';
import type { SyncEngine, SyncHost } from '../src/sync/engine.js';
import { startBrowserSync } from './sync.js';

// Request ids are kept a day: a retry comes within seconds of the leader change it follows.
const REQUEST_LOG_SECONDS = 24 * 60 * 60;
const PRUNE_EVERY_COMMITS = 500;

const now = (): number => Math.floor(Date.now() / 1000);

/** A served method's arguments and result, as the wire carries them. */
export type CallArgs<M extends ServedMethod> = Parameters<StateStore[M]>;
export type CallResult<M extends ServedMethod> = ReturnType<StateStore[M]>;

/** vacuum's options with the free space the browser reports (or the caller's figure, if smaller). */
async function vacuumOptions(given: unknown): Promise<unknown> {
  const options = (typeof given === 'object' && given !== null ? given : {}) as { availableBytes?: unknown };
  const estimate = await globalThis.navigator?.storage?.estimate?.().catch(() => undefined);
  if (!estimate) return options;
  const free = (estimate.quota ?? 0) - (estimate.usage ?? 0);
  return { ...options, availableBytes: typeof options.availableBytes === 'number' ? Math.min(options.availableBytes, free) : free };
}

/**
 * Test hooks; no production worker passes any. `afterCommit` runs after a write that carries a
 * request id has committed and before its reply is sent: a test can hold the reply back to stage a
 * leader that dies between its commit and its answer.
 */
export interface LeaderHooks {
  afterCommit?(method: ServedMethod, requestId: string): Promise<void>;
}

/** What the leader serves to every tab's worker, its own included. */
export interface LeaderApi {
  call<M extends ServedMethod>(method: M, args: CallArgs<M>, requestId: string | null, options?: CallOptions): Promise<CallResult<M>>;
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
  /** Resent writes answered from the request log. */
  private replayed = 0;
  /** A page's write committed since the last afterCommit: sync has something new to push. */
  private wroteLocally = false;
  /** Runs while this tab leads, when this tab's page opened the store with `sync`. */
  private sync: SyncEngine | undefined;
  /** The store's device side of sync, attached whether or not this page syncs, so that a synced database keeps recording its writes. */
  private readonly device: SyncDevice;

  private constructor(
    private readonly opened: OpenedDatabase,
    private readonly options: WorkerOpenOptions,
    readonly recovered: { jobs: number },
    private readonly hooks: LeaderHooks = {},
  ) {
    this.store = startStore(opened, options.durability);
    this.device = SyncDevice.attach(this.store);
    this.changes = new BroadcastChannel(storeChannels(options.name).changes);
    this.commits = new GroupCommit(opened.driver, (syncStep) => this.afterCommit(syncStep), options.durability);
    this.deltas = new DeltaBuffer(this.store, (run, ids) => {
      let changes: StoreChange[] = [];
      const write = () => {
        run();
        changes = ids.flatMap((id) => describeChange(opened.driver, 'appendMessageDelta', [id, ''], undefined) ?? []);
      };
      // A stream's deltas do not nudge sync: its text goes out with the next write that does (finishMessage
      // at the latest), in its state then, instead of a push every flush while it streams.
      return this.commits.submit(write, () => this.pending.push(...changes));
    });
  }

  /**
   * Opens the store on an opened database; runs the start-up sweep when `sweep` says no other tab is
   * alive. With `options.sync` and this page's `tokens`, it starts syncing.
   */
  static start(opened: OpenedDatabase, options: WorkerOpenOptions, sweep: boolean, hooks?: LeaderHooks, tokens?: TokenSource): Leader {
    const leader = new Leader(opened, options, { jobs: 0 }, hooks);
    if (sweep && hasInterruptedWork(opened.driver)) {
      // No tab is alive, so no stream or job of this device is still running: what is left lost its writer.
      // Only this device's own: what another device runs or streams is alive there (or its own sweep's).
      leader.recovered.jobs = sweepOwnWork(leader.store, leader.device, now()).jobs;
    }
    performance.mark('agent-state-store:sweep');
    // Every tab's subscribers hear of it, so a page that shows who leads need not poll info().
    leader.changes.postMessage([{ kind: 'leader', method: null, threadId: null, id: null } satisfies StoreChange]);
    if (options.sync && tokens) leader.sync = startBrowserSync(leader.syncHost(), options.sync.url, tokens);
    return leader;
  }

  /** The sync engine's way into the store: the device's steps in the group commit, and the changes channel. */
  private syncHost(): SyncHost {
    const device = this.device;
    const closing = () => new StoreError('CLOSED', 'sync: the leading tab is closing');
    return {
      write: (run, notices) => {
        if (this.closed) return Promise.reject(closing());
        let result: ReturnType<typeof run>;
        // Each device step is atomic itself, and flushed whatever the durability. Pulled changes are
        // published like a page's: after their commit, on the same channel.
        return this.commits.submitDurable(() => (result = run(device)), notices && (() => this.pending.push(...notices(result))));
      },
      read: (run) => (this.closed ? Promise.reject(closing()) : this.commits.read(() => run(device))),
      announce: (state) => {
        if (!this.closed) this.changes.postMessage([{ kind: 'sync', method: null, threadId: null, id: null, sync: state } satisfies StoreChange]);
      },
    };
  }

  /** Marks a page's write, so that the commit it joins nudges sync; `then` runs as its own committed callback. */
  private local(then?: () => void): () => void {
    return () => {
      this.wroteLocally = true;
      then?.();
    };
  }

  /**
   * After every commit; returns the promise of its persistence when the commit's calls must wait for it
   * (memory mode under strict, or a sync step under any durability).
   */
  private afterCommit(syncStep: boolean): Promise<void> | undefined {
    const durable = this.opened.afterCommit(syncStep);
    if (this.pending.length > 0) {
      this.changes.postMessage(this.pending);
      this.pending = [];
    }
    // Only a page's writes: sync's own commits (an acknowledged push, pulled rows) have nothing to push.
    if (this.wroteLocally) {
      this.wroteLocally = false;
      this.sync?.nudge();
    }
    if (this.commits.commits - this.prunedAt >= PRUNE_EVERY_COMMITS) {
      this.prunedAt = this.commits.commits;
      this.commits.submit(() => pruneAppliedRequests(this.opened.driver, now() - REQUEST_LOG_SECONDS)).catch(() => {});
    }
    return durable;
  }

  /** Runs one store method as the operation table says; a write with a request id is applied at most once. */
  async call<M extends ServedMethod>(method: M, args: CallArgs<M>, requestId: string | null, options?: CallOptions): Promise<CallResult<M>> {
    // Another tab's call that reaches a leader on its way out is sent again to the next one.
    if (this.closed) throw new StoreError('BUSY', `${method}: the leading tab is closing`, { details: { resigned: true } });
    if (!isServed(method)) throw new StoreError('INVALID_ARGUMENT', `${String(method)} is not a store method`, { details: { field: 'method' } });
    if (!Array.isArray(args)) throw new StoreError('INVALID_ARGUMENT', 'args must be an array', { details: { field: 'args' } });
    const spec = operation(method);
    // Deltas are buffered and written together (not through the request log: that would be a row per token).
    if (spec.mode === 'buffered') return this.deltas.append(args) as Promise<CallResult<M>>;
    // Every call but a read that says it need not sees the buffered deltas written first.
    if (spec.mode !== 'read' || options?.flushDeltas !== false) this.deltas.beforeCall(spec.endsStream?.(args));
    const hosted = this.hosted[method] as ((args: CallArgs<M>) => Promise<CallResult<M>>) | undefined;
    if (hosted) return hosted(args);
    const run = () => (this.store[method] as (...a: CallArgs<M>) => CallResult<M>).apply(this.store, args);
    if (spec.mode === 'read') return this.commits.read(run);
    if (spec.mode === 'exclusive') {
      await this.roomForFiles();
      return this.commits.exclusive(run, this.local(this.noting(method, args))).finally(() => this.keepSpareFiles());
    }
    const db = this.opened.driver;
    let change: StoreChange | null = null;
    const publish = this.local(() => {
      if (change) this.pending.push(change);
    });
    const apply = (): CallResult<M> => {
      if (requestId !== null) {
        const prior = appliedResult(db, requestId);
        if (prior) {
          this.replayed++;
          return prior.value as CallResult<M>;
        }
      }
      const result = run();
      if (requestId !== null) recordApplied(db, requestId, method, result, now());
      change = describeChange(db, method, args, result);
      return result;
    };
    if (requestId === null) return this.commits.submit(apply, publish);
    // With a request id, the write and its log row commit or roll back together.
    const result = await this.commits.submit(() => atomically(db, apply), publish);
    await this.hooks.afterCommit?.(method, requestId);
    return result;
  }

  /** The pool's growth started after a call that opened files, if any is under way. */
  private growing: Promise<void> | undefined;

  /**
   * Grows the OPFS pool in the background after an exclusive call, if the files it left open (an
   * import's journal) left too few spare. Adding files never disturbs a running statement.
   */
  private keepSpareFiles(): void {
    const growing = this.opened.prepareExclusive?.();
    if (!growing) return;
    const tracked: Promise<void> = growing.catch(() => {}).finally(() => {
      if (this.growing === tracked) this.growing = undefined;
    });
    this.growing = tracked;
  }

  /** Grows the OPFS pool before an exclusive call when it has too few spare files (rarely: the background growth leaves enough). */
  private async roomForFiles(): Promise<void> {
    await this.growing;
    const growing = this.opened.prepareExclusive?.();
    if (growing) await growing;
  }

  /** The change an exclusive call makes, published once it is done. */
  private noting(method: ServedMethod, args: readonly unknown[]): (() => void) | undefined {
    if (!operation(method).change) return undefined;
    return () => {
      const change = describeChange(this.opened.driver, method, args, undefined);
      if (change) this.pending.push(change);
    };
  }

  /** Methods the browser host completes itself before (or instead of) handing them to the core. */
  private readonly hosted: { [M in ServedMethod]?: (args: CallArgs<M>) => Promise<CallResult<M>> } = {
    vacuum: async ([options]) => {
      const completed = (await vacuumOptions(options)) as CallArgs<'vacuum'>[0];
      await this.roomForFiles();
      return this.commits.exclusive(() => this.store.vacuum(completed)).finally(() => this.keepSpareFiles());
    },
    importDatabase: async ([bytes, given]) => {
      // Another tab's import: its worker listens for progress on a channel named by the id it sent.
      const { progressId, ...rest } = (typeof given === 'object' && given !== null ? given : {}) as { progressId?: unknown };
      const progress = typeof progressId === 'string' ? new BroadcastChannel(storeChannels(this.options.name).progress(progressId)) : null;
      try {
        return await this.importDatabase(bytes, rest, progress ? (p) => progress.postMessage(p) : undefined);
      } finally {
        progress?.close();
      }
    },
  };

  /** Replaces the database (StateStore.importDatabase), alone between transactions; progress goes to `onProgress`. */
  async importDatabase(bytes: unknown, given: unknown, onProgress?: (progress: ImportProgress) => unknown): Promise<CallResult<'importDatabase'>> {
    if (this.closed) throw new StoreError('BUSY', 'importDatabase: the leading tab is closing', { details: { resigned: true } });
    // Deltas already accepted belong to the database they were sent to: written before it is replaced,
    // so that the import leaves none buffered and the stream's next delta meets the REPLACED check.
    this.deltas.beforeCall();
    await this.roomForFiles();
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
    // A Blob (a File the page picked) is read a block at a time where it is, never whole (see blobFile).
    const input = typeof Blob !== 'undefined' && bytes instanceof Blob ? blobFile(await loadEngine(), bytes) : bytes;
    const noted = this.noting('importDatabase', [bytes]);
    return this.commits
      .exclusive(
        () => this.store.importDatabase(input as Uint8Array, options),
        this.local(() => {
          noted?.();
          // The import gave a synced store a new identity: the session on the old one must end before it pushes.
          this.sync?.reconnect();
        }),
      )
      .finally(() => this.keepSpareFiles());
  }

  /** What the store runs on and how it is doing. */
  async info(): Promise<StoreInfo> {
    const core = await this.commits.read(() => this.store.info());
    const storage = (globalThis.navigator as Navigator | undefined)?.storage;
    const estimate = await storage?.estimate?.().catch(() => undefined);
    const persisted = await storage?.persisted?.().catch(() => undefined);
    await this.growing;
    const pool = await this.opened.storage?.();
    return {
      ...core,
      name: this.options.name,
      vfs: this.opened.vfs,
      persistence: this.opened.persistence,
      fallbackReason: this.opened.fallbackReason,
      durability: this.options.durability,
      commits: this.commits.commits,
      storageEstimate: estimate ? { usage: estimate.usage ?? 0, quota: estimate.quota ?? 0 } : null,
      ...pool,
      persisted: persisted ?? null,
      leader: true,
      recoveredJobs: this.recovered.jobs,
      replayedRequests: this.replayed,
      sync: this.sync ? await this.sync.current() : null,
    };
  }

  /** The page's `online` / `offline` event, passed on to sync. */
  network(online: boolean): void {
    this.sync?.network(online);
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

  /** Stops syncing, commits what is queued, closes the database and releases OPFS. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // A push in flight stays recorded in the database: the next leader sends it again, and the server applies it once.
    this.sync?.stop();
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
