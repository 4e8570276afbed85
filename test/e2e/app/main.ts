/**
 * The page the Playwright tests drive. It exposes the package's public API and the contract
 * suite on `window`, so each test runs real code in the page through page.evaluate().
 */
import { openStateStore, StoreError, type StateStoreClient } from 'agent-state-store';
import { contractCases } from '../../contract/index.js';
import type { ContractStore } from '../../contract/harness.js';
import type { LocalMethod } from '../../../src/core/operations.js';

// The client's local methods (subscribe, the live queries) take and return what the core's do, so the
// contract calls them the same way on both hosts.
type ClientLocalMethodsMatchTheCore = StateStoreClient extends Pick<ContractStore, LocalMethod> ? true : never;
const clientLocalMethodsMatchTheCore: ClientLocalMethodsMatchTheCore = true;
void clientLocalMethodsMatchTheCore;

/** Runs one contract case against fresh stores opened through the worker on OPFS. */
async function runContractCase(name: string): Promise<void> {
  const found = contractCases.find((c) => `${c.group} › ${c.name}` === name);
  if (!found) throw new Error(`no contract case named ${name}`);
  const opened: StateStoreClient[] = [];
  try {
    await found.run({
      makeStore: async () => {
        const store = await openStateStore({ name: `contract-${crypto.randomUUID()}` });
        opened.push(store);
        return store as unknown as ContractStore;
      },
    });
  } finally {
    await Promise.allSettled(opened.map((s) => s.close()));
  }
}

/** A worker whose OPFS entry point is gone, as in a private window: `auto` must fall back to memory. */
function workerWithoutOpfs(): Worker {
  return new Worker(new URL('./no-opfs-worker.ts', import.meta.url), { type: 'module' });
}

/** The package's worker claiming a Mobile Safari user agent: the store must pick its storage by features alone. */
function workerWithSafariUserAgent(): Worker {
  return new Worker(new URL('./fake-user-agent-worker.ts', import.meta.url), { type: 'module' });
}

/** A worker with neither OPFS nor Web Locks: every tab leads alone on the same IndexedDB data. */
function workerWithoutOpfsOrLocks(): Worker {
  return new Worker(new URL('./no-opfs-no-locks-worker.ts', import.meta.url), { type: 'module' });
}

/**
 * The commits of a memory-mode store that IndexedDB holds (its page store's `meta.version`), read
 * straight from IndexedDB: 0 when nothing was persisted yet.
 */
async function storedCommits(storeName: string): Promise<number> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const open = indexedDB.open(`agent-state-store:${storeName}`);
    open.onupgradeneeded = () => {
      open.transaction?.abort();
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  }).catch(() => null);
  if (!db) return 0;
  try {
    if (!db.objectStoreNames.contains('meta')) return 0;
    const meta = await new Promise<{ version?: number } | undefined>((resolve, reject) => {
      const get = db.transaction('meta', 'readonly').objectStore('meta').get('meta');
      get.onsuccess = () => resolve(get.result as { version?: number } | undefined);
      get.onerror = () => reject(get.error);
    });
    return meta?.version ?? 0;
  } finally {
    db.close();
  }
}

/** The package's own worker, created here so a test can terminate it abruptly. */
function ownWorker(): Worker {
  return new Worker(new URL('./plain-worker.ts', import.meta.url), { type: 'module' });
}

/** A worker whose OPFS writes can be made to fail with QuotaExceededError (see quota-hook.ts and setQuotaExceeded). */
function quotaWorker(): Worker {
  return new Worker(new URL('./quota-worker.ts', import.meta.url), { type: 'module' });
}

/**
 * Posts `send` (if given) on a test BroadcastChannel and resolves with the first answer `pick`
 * accepts: how the page talks to the hooked test workers.
 */
function askTestWorkers<T>(name: string, pick: (data: Record<string, unknown>) => T | undefined, send?: unknown, timeoutMs = 10_000): Promise<T> {
  const channel = new BroadcastChannel(name);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      channel.close();
      reject(new Error(`no worker answered on ${name}`));
    }, timeoutMs);
    channel.onmessage = (event: MessageEvent<Record<string, unknown>>) => {
      const found = pick(event.data);
      if (found === undefined) return;
      clearTimeout(timer);
      channel.close();
      resolve(found);
    };
    if (send !== undefined) channel.postMessage(send);
  });
}

/**
 * Makes the named sync access handle methods of every quota worker throw QuotaExceededError (an
 * empty list heals them). Resolves once a worker has it in force, with how many calls it failed so far.
 */
function setQuotaExceeded(fail: string[]): Promise<number> {
  const id = crypto.randomUUID();
  return askTestWorkers('test-quota', (data) => (data['ack'] === id ? Number(data['thrown'] ?? 0) : undefined), { id, fail });
}

const flushWorkerNames = new WeakMap<Worker, string>();

/** A worker that counts the flushes of its OPFS sync access handles (see flush-hook.ts and syncFlushes). */
function flushCountingWorker(): Worker {
  const name = `flush-${crypto.randomUUID()}`;
  const worker = new Worker(new URL('./flush-worker.ts', import.meta.url), { type: 'module', name });
  flushWorkerNames.set(worker, name);
  return worker;
}

/** How many times a flush-counting worker has flushed an OPFS sync access handle so far. */
function syncFlushes(worker: Worker): Promise<number> {
  const name = flushWorkerNames.get(worker);
  if (!name) return Promise.reject(new Error('not a flush-counting worker'));
  const id = crypto.randomUUID();
  return askTestWorkers('test-flushes', (data) => (data['flushAck'] === id ? Number(data['flushes'] ?? 0) : undefined), { flushQuery: id, worker: name });
}

/** A worker whose leader can be made to commit another tab's write and never answer it (see failover-worker.ts). */
function failoverWorker(): Worker {
  return new Worker(new URL('./failover-worker.ts', import.meta.url), { type: 'module' });
}

/** Arms the failover worker: the next write another tab sends it is committed and never answered. */
async function armFailover(): Promise<void> {
  const id = crypto.randomUUID();
  await askTestWorkers('test-failover', (data) => (data['armed'] === id ? true : undefined), { arm: id }, 20_000);
}

/** Resolves when the armed failover worker has committed a write and is holding back its answer. */
function nextHungCommit(): Promise<{ method: string; requestId: string }> {
  return askTestWorkers('test-failover', (data) => data['hung'] as { method: string; requestId: string } | undefined, undefined, 20_000);
}

/** Reads a file of a store's OPFS directory (the store must be closed: an open sync handle locks it). */
async function readStoreFile(storeName: string, file: string): Promise<string | null> {
  try {
    const root = await navigator.storage.getDirectory();
    const dir = await (await root.getDirectoryHandle('agent-state-store')).getDirectoryHandle(storeName);
    return await (await (await dir.getFileHandle(file)).getFile()).text();
  } catch {
    return null;
  }
}

Object.assign(window, { openStateStore, StoreError, runContractCase, workerWithoutOpfs, workerWithoutOpfsOrLocks, workerWithSafariUserAgent, storedCommits, ownWorker, readStoreFile, quotaWorker, setQuotaExceeded, flushCountingWorker, syncFlushes, failoverWorker, armFailover, nextHungCommit });
document.getElementById('status')!.textContent = 'ready';
