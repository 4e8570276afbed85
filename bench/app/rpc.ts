/**
 * Request/response over postMessage for the baseline workers (the raw engine and the ping-pong),
 * kept as thin as a hand-written app would make it: one message each way, no proxies.
 */

/** A request a baseline worker answers. */
export interface RpcRequest {
  id: number;
  op: string;
  args: unknown[];
}

/** The answer to one request. */
export type RpcResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** The page's end of a baseline worker. */
export class WorkerRpc {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(readonly worker: Worker) {
    worker.onmessage = (event: MessageEvent<RpcResponse>) => {
      const reply = event.data;
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(new Error(reply.error));
    };
    worker.onerror = (event) => {
      const where = event.filename ? ` at ${event.filename}:${event.lineno}` : ' (the worker failed to load or crashed)';
      for (const waiter of this.pending.values()) waiter.reject(new Error(`worker ${worker.constructor.name} error: ${event.message ?? 'no message'}${where}`));
      this.pending.clear();
    };
  }

  /** Sends one request and waits for its answer. */
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, op, args } satisfies RpcRequest);
    });
  }

  /** Ends the worker. */
  terminate(): void {
    this.worker.terminate();
  }
}

/** Serves `ops` on the worker's own port: one reply per request, errors as text. */
export function serve(ops: Record<string, (...args: never[]) => unknown>): void {
  self.onmessage = async (event: MessageEvent<RpcRequest>) => {
    const { id, op, args } = event.data;
    try {
      const fn = ops[op] as ((...a: unknown[]) => unknown) | undefined;
      if (!fn) throw new Error(`unknown op ${op}`);
      const value = await fn(...args);
      self.postMessage({ id, ok: true, value } satisfies RpcResponse);
    } catch (error) {
      self.postMessage({ id, ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) } satisfies RpcResponse);
    }
  };
}
