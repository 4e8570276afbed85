import type { StateStore } from '../src/core/store.js';
import * as v from '../src/core/validate.js';

/**
 * Coalesces streamed deltas, so that a token stream costs a few commits rather than one per token.
 * appendMessageDelta calls are buffered per message and written as one call per message, all in one
 * group-commit submission, every FLUSH_INTERVAL_MS, before any other store call (so every other call
 * sees the text, and finishMessage lands after it in the same transaction), and at close.
 *
 * A delta's promise resolves once it is buffered, not once it is durable: finishMessage is the
 * durable point. The first delta of a run is still checked against the database at once, so a wrong
 * id or a finished message fails its own call. A write that fails later (storage full) is reported by
 * the next delta or finishMessage of that message.
 */

const FLUSH_INTERVAL_MS = 200;

/** Queues `run` in the group commit; `messageIds` are the messages it writes (for change notices). */
type Submit = (run: () => void, messageIds: number[]) => Promise<void>;

export class DeltaBuffer {
  private pending = new Map<number, string[]>();
  private readonly failed = new Map<number, unknown>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly store: StateStore,
    private readonly submit: Submit,
  ) {}

  /** Buffers appendMessageDelta(messageId, delta); resolves when buffered. */
  async append(args: unknown[]): Promise<void> {
    const id = v.messageId(args[0], 'messageId');
    const text = v.text(args[1], 'delta');
    this.throwFailure(id);
    let parts = this.pending.get(id);
    if (!parts) {
      // An empty delta runs every check of the real call (exists, streaming, open) and writes nothing.
      this.store.appendMessageDelta(id, '');
      this.pending.set(id, (parts = []));
    }
    parts.push(text);
    this.timer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  /**
   * Call before any other store call: writes what is buffered ahead of it. A call that ends a stream
   * names its message, and a failed write of that message's deltas is reported to it.
   */
  beforeCall(endsStream?: unknown): void {
    this.flush();
    if (typeof endsStream === 'number') this.throwFailure(endsStream);
  }

  /** Queues one submission that writes every buffered delta, one appendMessageDelta per message. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.submit(() => {
      for (const [id, parts] of batch) {
        try {
          this.store.appendMessageDelta(id, parts.join(''));
        } catch (error) {
          this.failed.set(id, error);
        }
      }
    }, [...batch.keys()]).catch((error: unknown) => {
      for (const id of batch.keys()) this.failed.set(id, error);
    });
  }

  /** Stops the timer; call after the last flush. */
  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private throwFailure(id: number): void {
    const error = this.failed.get(id);
    if (error === undefined) return;
    this.failed.delete(id);
    throw error;
  }
}
