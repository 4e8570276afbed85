/**
 * Opening, seeding and closing the contenders. Every database gets a name unique to the run, so
 * phases never see each other's data.
 */
import { openStateStore, type StateStoreClient } from 'agent-state-store';
import { WorkerRpc } from './rpc.js';
import type { RawOpenOptions } from './raw-worker.js';

/** A suffix unique to this page load. */
export const RUN = Math.random().toString(36).slice(2, 8);

/** A worker running the raw engine (baseline 2, the seeder and the re-read baseline). */
export function rawWorker(): WorkerRpc {
  return new WorkerRpc(new Worker(new URL('./raw-worker.ts', import.meta.url), { type: 'module', name: 'bench-raw' }));
}

/** The postMessage floor (baseline 1). */
export function pingWorker(): WorkerRpc {
  return new WorkerRpc(new Worker(new URL('./ping-worker.ts', import.meta.url), { type: 'module', name: 'bench-ping' }));
}

/** A raw-engine database of its own, in a bench pool beside (never inside) the store's directory. */
export async function openRaw(name: string, durability: 'strict' | 'relaxed', extra: Partial<RawOpenOptions> = {}): Promise<{ rpc: WorkerRpc; opened: Record<string, unknown> }> {
  const rpc = rawWorker();
  const opened = await rpc.call<Record<string, unknown>>('open', { vfsName: `bench-${name}`, directory: `/bench-raw/${name}/.pool`, durability, ...extra } satisfies RawOpenOptions);
  return { rpc, opened };
}

/** Closes a raw worker's database (releasing its pool) and ends the worker. */
export async function closeRaw(rpc: WorkerRpc): Promise<void> {
  await rpc.call('close');
  rpc.terminate();
}

/**
 * Seeds a store's database before the store opens it: a raw worker opens the store's own pool
 * directory, creates the schema with the store's migrations and inserts in bulk, then lets go.
 * Going through the API instead would turn a million-message setup into a million calls.
 */
export async function seedStore(storeName: string, seed: (seeder: WorkerRpc) => Promise<void>): Promise<void> {
  const seeder = rawWorker();
  try {
    await seeder.call('open', { vfsName: `ass-${storeName}`, directory: `/agent-state-store/${storeName}/.pool`, durability: 'relaxed' } satisfies RawOpenOptions);
    await seed(seeder);
    await seeder.call('close');
  } finally {
    seeder.terminate();
  }
}

/** Opens our store; `hostedAs` runs it in the bench's host worker so that its heap can be read. */
export function openOurs(name: string, durability: 'strict' | 'relaxed', hostedAs?: string): Promise<StateStoreClient> {
  const worker = hostedAs ? new Worker(new URL('./store-worker.ts', import.meta.url), { type: 'module', name: hostedAs }) : undefined;
  return openStateStore({ name, durability, ...(worker ? { worker } : {}) });
}

/** The wasm heap of a hosted store worker, in bytes. */
export function hostedHeap(workerName: string): Promise<number> {
  const channel = new BroadcastChannel('bench-heap');
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no heap answer from ${workerName}`)), 5000);
    channel.onmessage = (event: MessageEvent<{ answer?: string; heapBytes?: number }>) => {
      if (event.data.answer !== workerName) return;
      clearTimeout(timer);
      channel.close();
      resolve(event.data.heapBytes ?? 0);
    };
    channel.postMessage({ ask: workerName });
  });
}

/** Writes a whole text file into OPFS (from the page, with a writable stream). */
export async function writeOpfsFile(path: string[], file: string, chunks: Iterable<string>): Promise<void> {
  let dir = await navigator.storage.getDirectory();
  for (const part of path) dir = await dir.getDirectoryHandle(part, { create: true });
  const writable = await (await dir.getFileHandle(file, { create: true })).createWritable();
  let buffer = '';
  for (const chunk of chunks) {
    buffer += chunk;
    if (buffer.length > 1 << 20) {
      await writable.write(buffer);
      buffer = '';
    }
  }
  await writable.write(buffer);
  await writable.close();
}
