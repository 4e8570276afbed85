/**
 * The page the Playwright tests drive. It exposes the package's public API and the contract
 * suite on `window`, so each test runs real code in the page through page.evaluate().
 */
import { openStateStore, StoreError, type StateStoreClient } from 'agent-state-store';
import { contractCases } from '../../contract/index.js';
import type { ContractStore } from '../../contract/harness.js';

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

/** The package's own worker, created here so a test can terminate it abruptly. */
function ownWorker(): Worker {
  return new Worker(new URL('./plain-worker.ts', import.meta.url), { type: 'module' });
}

/** A worker whose OPFS writes can be made to fail with QuotaExceededError (see quota-hook.ts and setQuotaExceeded). */
function quotaWorker(): Worker {
  return new Worker(new URL('./quota-worker.ts', import.meta.url), { type: 'module' });
}

/**
 * Makes the named sync access handle methods of every quota worker throw QuotaExceededError (an
 * empty list heals them). Resolves once a worker has it in force, with how many calls it failed so far.
 */
function setQuotaExceeded(fail: string[]): Promise<number> {
  const channel = new BroadcastChannel('test-quota');
  const id = crypto.randomUUID();
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      channel.close();
      reject(new Error('no quota worker answered'));
    }, 10_000);
    channel.onmessage = (event: MessageEvent<{ ack?: string; thrown?: number }>) => {
      if (event.data.ack !== id) return;
      clearTimeout(timer);
      channel.close();
      resolve(event.data.thrown ?? 0);
    };
    channel.postMessage({ id, fail });
  });
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

Object.assign(window, { openStateStore, StoreError, runContractCase, workerWithoutOpfs, ownWorker, readStoreFile, quotaWorker, setQuotaExceeded });
document.getElementById('status')!.textContent = 'ready';
