/**
 * Evaluated before the store's worker module (imports run in order): counts calls to
 * FileSystemSyncAccessHandle.prototype.flush, which is what the opfs-sahpool VFS does in xSync (and
 * what the session index does after an append). The page asks for the count over
 * BroadcastChannel('test-flushes'), naming the worker (its `name`), so only that worker answers.
 */

/** What the page sends: which worker, and an id for the answer. */
export interface FlushQuery {
  flushQuery: string;
  worker: string;
}

/** What the worker answers: the flushes of OPFS sync access handles so far. */
export interface FlushCount {
  flushAck: string;
  flushes: number;
}

let flushes = 0;

const proto = (globalThis as { FileSystemSyncAccessHandle?: { prototype: Record<string, unknown> } }).FileSystemSyncAccessHandle?.prototype;
if (proto) {
  const original = proto['flush'] as (...args: unknown[]) => unknown;
  proto['flush'] = function (this: unknown, ...args: unknown[]) {
    flushes++;
    return original.apply(this, args);
  };
}

const channel = new BroadcastChannel('test-flushes');
channel.onmessage = (event: MessageEvent<FlushQuery | FlushCount>) => {
  const data = event.data;
  if (!('flushQuery' in data) || data.worker !== (globalThis as { name?: string }).name) return;
  channel.postMessage({ flushAck: data.flushQuery, flushes } satisfies FlushCount);
};
