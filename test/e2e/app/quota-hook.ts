/**
 * Evaluated before the store's worker module (imports run in order): makes the sync access handle
 * methods named over BroadcastChannel('test-quota') throw the DOMException a full origin quota
 * gives, so the tests can run out of storage on demand. Installed first, so the store's own
 * wrapper (worker/storage-errors.ts) wraps this one and sees what it throws.
 */

/** What the page sends: the methods that must fail from now on (empty: none). */
export interface QuotaCommand {
  id: string;
  fail: string[];
}

/** What the worker answers once the command is in force: how many calls it has failed so far. */
export interface QuotaAck {
  ack: string;
  thrown: number;
}

const METHODS = ['write', 'flush', 'truncate'];
let failing = new Set<string>();
let thrown = 0;

const proto = (globalThis as { FileSystemSyncAccessHandle?: { prototype: Record<string, unknown> } }).FileSystemSyncAccessHandle?.prototype;
if (proto) {
  for (const name of METHODS) {
    const original = proto[name] as (...args: unknown[]) => unknown;
    proto[name] = function (this: unknown, ...args: unknown[]) {
      if (failing.has(name)) {
        thrown++;
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      }
      return original.apply(this, args);
    };
  }
}

const channel = new BroadcastChannel('test-quota');
channel.onmessage = (event: MessageEvent<QuotaCommand | QuotaAck>) => {
  const data = event.data;
  if (!('fail' in data)) return;
  failing = new Set(data.fail);
  channel.postMessage({ ack: data.id, thrown } satisfies QuotaAck);
};
