import * as Comlink from 'comlink';
import { StoreError } from '../src/core/errors.js';
import type { ServedMethod } from '../src/core/operations.js';
import type { ImportProgress } from '../src/core/transfer.js';
import type { StoreInfo } from '../src/core/types.js';
import { loadEngine } from '../src/driver/engine.js';
import { storeChannels, type CallOptions, type TokenSource, type WorkerOpenOptions } from '../src/wire.js';
import type { ControlMessage } from './control.js';
import { openDatabase } from './database.js';
import { Leader, type CallArgs, type CallResult, type LeaderApi, type LeaderHooks } from './leader.js';
import { LeaderLink } from './leader-link.js';

// How long a relayed import waits for its last progress event after the reply.
const PROGRESS_GRACE_MS = 2_000;

/** Holds a Web Lock until `release()` (which also withdraws a request still waiting); `granted` resolves once held. */
function holdLock(name: string, mode: LockMode, onGranted: () => Promise<void>): { granted: Promise<void>; release(): void; done: Promise<unknown> } {
  const withdraw = new AbortController();
  let letGo = () => {};
  const held = new Promise<void>((resolve) => {
    letGo = resolve;
  });
  const release = () => {
    withdraw.abort();
    letGo();
  };
  let markGranted = () => {};
  const granted = new Promise<void>((resolve) => {
    markGranted = resolve;
  });
  const done = navigator.locks.request(name, { mode, signal: withdraw.signal }, async () => {
    markGranted();
    await onGranted();
    await held;
  });
  done.catch(() => {});
  return { granted, release, done };
}

/**
 * The object each tab's worker exposes to its page through Comlink. Every tab's worker runs for the
 * election (a Web Lock); the winner opens the database and leads, the others forward their page's
 * calls to it over a BroadcastChannel. When the leader's tab goes away, the next worker in line
 * takes the lock, opens the database and announces itself, and the others resend what was in flight.
 */
export function makeWorkerApi(hooks?: LeaderHooks) {
  const tabId = crypto.randomUUID();
  let options: WorkerOpenOptions | undefined;
  /** This page's getToken (a Comlink proxy), when it opened the store with `sync`. */
  let tokens: (TokenSource & Partial<Comlink.ProxyMethods>) | undefined;
  let leader: Leader | undefined;
  let link: LeaderLink | undefined;
  let control: BroadcastChannel | undefined;
  let alive: ReturnType<typeof holdLock> | undefined;
  let leadership: ReturnType<typeof holdLock> | undefined;
  let closed = false;
  // The sweep belongs to opening the store; a tab that takes over later must not fail jobs that a
  // tab still open may be running.
  let opening = true;

  const isLeader = () => leader !== undefined;

  async function othersAlive(name: string): Promise<boolean> {
    const state = await navigator.locks.query();
    return (state.held ?? []).filter((lock) => lock.name === storeChannels(name).aliveLock).length > 1;
  }

  async function lead(opts: WorkerOpenOptions): Promise<void> {
    link?.drop();
    performance.mark('agent-state-store:lead');
    const sqlite3 = await loadEngine();
    performance.mark('agent-state-store:engine');
    const opened = await openDatabase(sqlite3, opts);
    try {
      const sweep = opening && opts.recoverOnStart && !(typeof navigator.locks?.query === 'function' && (await othersAlive(opts.name)));
      // This tab's own sync options count while it leads; the tab that leads next syncs with its own.
      leader = Leader.start(opened, opts, sweep, hooks, tokens);
      performance.mark('agent-state-store:leader');
      // Calls of this tab that were waiting for (or in flight to) another leader now run here.
      link?.drop();
    } catch (error) {
      opened.driver.close();
      await opened.release().catch(() => {});
      throw error;
    }
    control?.postMessage({ type: 'leader', leaderId: tabId } satisfies ControlMessage);
  }

  function onControl(message: ControlMessage): void {
    if (leader) {
      if (message.type === 'who-leads') control!.postMessage({ type: 'leader', leaderId: tabId } satisfies ControlMessage);
      if (message.type === 'hello') {
        leader.serveTab(message.tabId);
        control!.postMessage({ type: 'welcome', tabId: message.tabId, leaderId: tabId } satisfies ControlMessage);
      }
      if (message.type === 'bye') leader.forgetTab(message.tabId);
      return;
    }
    link?.onControl(message);
  }

  /**
   * Runs `fn` against the leader: this worker's own, or the one it reaches over the channel.
   * `retried` is false only when this worker led from the start, so the call cannot have reached
   * another leader before.
   */
  async function onLeader<T>(fn: (api: LeaderApi | Comlink.Remote<LeaderApi>, retried: boolean) => Promise<T>): Promise<T> {
    if (closed) throw new StoreError('CLOSED', 'the store is closed; open it again with openStateStore()');
    // Only a page that talks to a worker it hosts itself, past openStateStore(), gets here.
    if (!options) throw new StoreError('CLOSED', 'the store is not open yet: await openStateStore({ worker }) and call the client it resolves to');
    if (leader) return fn(leader, false);
    for (;;) {
      if (leader) return fn(leader, true);
      const sent = await link!.send((remote) => fn(remote, true));
      if ('value' in sent) return sent.value;
    }
  }

  async function info(): Promise<StoreInfo> {
    const found = await onLeader((api) => api.info());
    return { ...found, leader: isLeader() };
  }

  return {
    /** Answers as soon as the worker listens; the client waits for it before opening. */
    async ping(): Promise<true> {
      return true;
    },

    /**
     * Joins the store: leads it if no tab does, else connects to the tab that does. Resolves once a
     * leader answers. `getToken` is the page's token source (a Comlink proxy) when `opts.sync` is set.
     */
    async open(opts: WorkerOpenOptions, getToken?: TokenSource): Promise<void> {
      if (options || closed) {
        throw new StoreError('CONFLICT', 'this worker already serves a store: give each openStateStore({ worker }) a new Worker, or use the client the first call returned');
      }
      if (opts.sync && typeof getToken !== 'function') {
        throw new StoreError('INVALID_ARGUMENT', 'sync needs a getToken function', { details: { field: 'sync.getToken' } });
      }
      options = opts;
      tokens = opts.sync ? getToken : undefined;
      performance.mark('agent-state-store:open');
      if (typeof navigator.locks?.request !== 'function') {
        // No Web Locks (a very old browser): one tab, no coordination.
        await lead(opts);
        opening = false;
        return;
      }
      const names = storeChannels(opts.name);
      control = new BroadcastChannel(names.control);
      control.onmessage = (event: MessageEvent<ControlMessage>) => onControl(event.data);
      link = new LeaderLink(opts.name, tabId, control, isLeader);
      alive = holdLock(names.aliveLock, 'shared', async () => {});
      await alive.granted;

      let failed: (error: unknown) => void = () => {};
      const leadFailed = new Promise<never>((_, reject) => {
        failed = reject;
      });
      leadership = holdLock(names.leaderLock, 'exclusive', async () => {
        if (closed) return;
        try {
          await lead(opts);
        } catch (error) {
          failed(error);
          // Give the lock up so that another tab can try; this one reports the error to its page.
          leadership?.release();
        }
      });
      control.postMessage({ type: 'who-leads' } satisfies ControlMessage);
      try {
        // The lightest call that proves a leader serves this tab (info() would also ask the browser for
        // its storage estimate, which the page does not need to open).
        const served = onLeader(async (api) => {
          await (api as LeaderApi).call('dbPath', [], null);
        });
        await Promise.race([served, leadFailed]);
        performance.mark('agent-state-store:opened');
        opening = false;
      } catch (error) {
        await this.close();
        throw error;
      }
    },

    /** Runs one store method on the leader. Writes carry a request id so a retry applies once. */
    async call<M extends ServedMethod>(method: M, args: CallArgs<M>, requestId: string | null = null, callOptions?: CallOptions): Promise<CallResult<M>> {
      // The request log is for calls that may reach a second leader; this tab's own leader skips it.
      const result = await onLeader((api, retried) => (api as LeaderApi).call(method, args, retried ? requestId : null, callOptions));
      return result instanceof Uint8Array ? Comlink.transfer(result, [result.buffer]) : result;
    },

    /**
     * importDatabase with progress. On the leader the page's callback (a Comlink proxy) is called
     * directly; from another tab, progress comes back over a BroadcastChannel and is passed on.
     */
    async importDatabase(bytes: unknown, importOptions: unknown, requestId: string, onProgress?: (progress: ImportProgress) => unknown): Promise<unknown> {
      return onLeader(async (api) => {
        if (api instanceof Leader) return api.importDatabase(bytes, importOptions, onProgress);
        const relay = onProgress ? new BroadcastChannel(storeChannels(options!.name).progress(requestId)) : undefined;
        let sawDone = () => {};
        const done = new Promise<void>((resolve) => {
          sawDone = resolve;
        });
        if (relay) {
          relay.onmessage = (event: MessageEvent<ImportProgress>) => {
            void onProgress?.(event.data);
            if (event.data.phase === 'done') sawDone();
          };
        }
        try {
          const given = typeof importOptions === 'object' && importOptions !== null ? importOptions : {};
          const result = await api.call('importDatabase', [bytes as Uint8Array, { ...given, progressId: requestId } as CallArgs<'importDatabase'>[1]], requestId);
          // A BroadcastChannel can deliver after the reply: give the last event a moment.
          if (relay) await Promise.race([done, new Promise((r) => setTimeout(r, PROGRESS_GRACE_MS))]);
          return result;
        } finally {
          relay?.close();
        }
      });
    },

    /** What the store runs on, and how it is doing. */
    info,

    /**
     * The page's `online` / `offline` event. Chromium fires neither in a worker, and a socket can stall
     * without closing when the network goes, so the page tells its worker; a leader passes it to sync.
     */
    async network(online: boolean): Promise<void> {
      leader?.network(online === true);
    },

    /** Writes a pending memory-mode snapshot to IndexedDB now (the page calls this on pagehide). */
    async flush(): Promise<void> {
      await leader?.flush();
    },

    /** Leaves the store: a leader commits, closes and hands over; a follower says goodbye. */
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      link?.close();
      if (leader) {
        const current = leader;
        leader = undefined;
        control?.postMessage({ type: 'resign', leaderId: tabId } satisfies ControlMessage);
        await current.close();
      } else {
        control?.postMessage({ type: 'bye', tabId } satisfies ControlMessage);
      }
      leadership?.release();
      alive?.release();
      control?.close();
      tokens?.[Comlink.releaseProxy]?.();
    },
  };
}

/** The worker's API as the page sees it. */
export type WorkerApi = ReturnType<typeof makeWorkerApi>;
