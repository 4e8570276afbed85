import { StoreError } from '../core/errors.js';

/**
 * How edgeStore() reaches its Durable Object: one stub at a time, renewed after it breaks, calls
 * pipelined on it in order, and calls retried where that is safe.
 *
 * Cloudflare documents three things this follows (developers.cloudflare.com/durable-objects/api/stub/
 * and …/best-practices/error-handling/):
 * - calls on one stub are delivered in the order they were made (E-order); we measured otherwise in
 *   workerd, so calls still go one at a time unless `pipeline` is set (see ChannelOptions.pipeline);
 * - once a stub has thrown, every call in flight on it and every later call fails: a new stub must be
 *   made (namespace.get again), and there is no order between calls on different stubs;
 * - an error marked `overloaded` must not be retried; others may be, with backoff, when the call is
 *   idempotent.
 * So after a break the channel waits until every call of the broken stub has settled, makes a new
 * stub, and resends the calls that failed, in their first order, ahead of any newer call. A read is
 * always safe to resend; a write carries a request id and the object applies it at most once (its
 * request log answers a resent one with the first result).
 */

/** How a call may be retried after its stub broke. */
export type RetryKind = 'read' | 'write' | 'never';

/** Options of the channel (and of edgeStore). */
export interface ChannelOptions {
  /** Attempts per call, the first included, while its stub keeps breaking. Default 4. */
  attempts?: number;
  /** The first wait before a resend, in ms; it doubles per attempt, up to 2 s. Default 50. */
  backoffMs?: number;
  /**
   * Send a call before the one ahead of it has been answered. Default false: Cloudflare documents that
   * calls on one stub arrive in order (E-order), but in workerd (1.20260426.1, the edge tests' runtime)
   * 30 appendMessage calls sent that way on one stub ran out of order (see test/edge/client-reset.test.ts),
   * and workerd#6561 reports calls of two kinds reordered in production; one call at a time is exact.
   */
  pipeline?: boolean;
}

interface Op<S> {
  seq: number;
  label: string;
  retry: RetryKind;
  run: (stub: S, requestId: string | undefined) => Promise<unknown>;
  /** Calls with one hold key are never in flight together: a later one waits, so it can still be joined. */
  holdKey: string | undefined;
  requestId: string | undefined;
  attempts: number;
  generation: number;
  sent: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** A call queued on a channel, for the caller to join into while it has not been sent. */
export interface QueuedCall {
  readonly sent: boolean;
}

/** RPC refused to send or deliver the call: a value it cannot copy is the caller's, anything else the platform's. */
export function transportError(method: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (isCloneError(error)) return new StoreError('INVALID_ARGUMENT', `${method}: an argument cannot be sent over RPC (${message})`, { cause: error });
  const overloaded = (error as { overloaded?: unknown } | null)?.overloaded === true;
  return new StoreError(overloaded ? 'BUSY' : 'STORAGE', `${method}: ${message}`, { cause: error });
}

function isCloneError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return error instanceof Error && (error.name === 'DataCloneError' || /could not be cloned|serialize/i.test(message));
}

/** A channel to one Durable Object; `connect` makes a new stub (namespace.get(namespace.idFromName(name))). */
export function stubChannel<S>(connect: () => S, options: ChannelOptions = {}) {
  const maxAttempts = Math.max(1, Math.trunc(options.attempts ?? 4));
  const backoffMs = Math.max(0, options.backoffMs ?? 50);
  const maxInFlight = options.pipeline === true ? Infinity : 1;
  let stub: S | undefined;
  let generation = 0;
  let seq = 0;
  /** Calls not yet sent (or to be sent again), in first order. */
  const outbox: Array<Op<S>> = [];
  const inFlight = new Set<Op<S>>();
  let recovering = false;
  /** How many stubs were made; for tests and info. */
  let stubsMade = 0;

  const current = (): S => {
    if (stub === undefined) {
      stub = connect();
      stubsMade++;
    }
    return stub;
  };

  const held = (op: Op<S>): boolean => op.holdKey !== undefined && [...inFlight].some((other) => other.holdKey === op.holdKey);

  const flush = (): void => {
    while (!recovering && outbox.length > 0 && inFlight.size < maxInFlight && !held(outbox[0]!)) dispatch(outbox.shift()!);
  };

  const dispatch = (op: Op<S>): void => {
    op.sent = true;
    op.attempts++;
    op.generation = generation;
    if (op.retry === 'write') op.requestId ??= crypto.randomUUID();
    inFlight.add(op);
    let sending: Promise<unknown>;
    try {
      sending = op.run(current(), op.requestId);
    } catch (error) {
      sending = Promise.reject(error);
    }
    sending.then(
      (value) => {
        inFlight.delete(op);
        op.resolve(value);
        flush();
      },
      (error: unknown) => {
        inFlight.delete(op);
        failed(op, error);
        flush();
      },
    );
  };

  const retriable = (op: Op<S>, error: unknown): boolean =>
    op.retry !== 'never' && op.attempts < maxAttempts && !isCloneError(error) && !(error instanceof StoreError) && (error as { overloaded?: unknown } | null)?.overloaded !== true;

  const failed = (op: Op<S>, error: unknown): void => {
    // The stub that threw is broken for good: the next call makes a new one.
    if (op.generation === generation) {
      generation++;
      stub = undefined;
    }
    if (!retriable(op, error)) {
      op.reject(transportError(op.label, error));
      return;
    }
    op.sent = false;
    // Back in its first place, ahead of every newer call.
    const at = outbox.findIndex((other) => other.seq > op.seq);
    outbox.splice(at === -1 ? outbox.length : at, 0, op);
    recover(op.attempts);
  };

  /** Holds the outbox until every call of a broken stub has settled, then after a backoff sends it again. */
  const recover = (attempts: number): void => {
    if (recovering) return;
    recovering = true;
    const settled = (): Promise<void> =>
      [...inFlight].some((op) => op.generation < generation) ? new Promise((resolve) => setTimeout(resolve, 5)).then(settled) : Promise.resolve();
    void settled()
      .then(() => new Promise((resolve) => setTimeout(resolve, Math.min(backoffMs * 2 ** (attempts - 1), 2000))))
      .then(() => {
        recovering = false;
        flush();
      });
  };

  return {
    /** Queues a call; it is sent as soon as every call before it has been (pipelined, not waited for). */
    send<T>(label: string, retry: RetryKind, run: (stub: S, requestId: string | undefined) => Promise<T>, holdKey?: string): { result: Promise<T>; call: QueuedCall } {
      let resolve!: (value: unknown) => void;
      let reject!: (error: unknown) => void;
      const result = new Promise<T>((res, rej) => {
        resolve = res as (value: unknown) => void;
        reject = rej;
      });
      const op: Op<S> = { seq: seq++, label, retry, run: run as Op<S>['run'], holdKey, requestId: undefined, attempts: 0, generation, sent: false, resolve, reject };
      outbox.push(op);
      flush();
      return { result, call: op };
    },
    /** Whether every queued call has been answered. */
    idle: (): boolean => outbox.length === 0 && inFlight.size === 0,
    /** How many stubs this channel has made (1 until the first break). */
    stubsMade: (): number => stubsMade,
  };
}
