import type { JsonValue, StateStoreClient } from 'agent-state-store';

/**
 * How a streamed reply reaches the store, through its streaming API: beginMessage stores an empty
 * "streaming" message at once, appendMessageDelta adds text, finishMessage ends it. Tokens arrive
 * every few tens of milliseconds, so the page still buffers them and sends at most one delta per
 * FLUSH_INTERVAL_MS (the worker coalesces again before it commits). A reply cut off by a crash keeps
 * what was written: the worker marks it "interrupted" the next time the store opens.
 */

/** At most one delta sent to the store per this many milliseconds. */
export const FLUSH_INTERVAL_MS = 250;

/** A reply being written: push text as it streams, then end it once. */
export interface ReplyWriter {
  /** The stored message's id. */
  readonly messageId: number;
  /** Adds streamed text; it is sent with the next flush, never immediately. */
  push(delta: string): void;
  /** Sends the rest and ends the message (`complete`, or `cancelled` when stopped) with its item. */
  finish(item: JsonValue, status?: 'complete' | 'cancelled'): Promise<void>;
  /** Ends the message as `failed`, keeping the text so far; never throws. */
  fail(): Promise<void>;
}

/** Options of startReply. */
export interface ReplyOptions {
  /** The message to reply to; the reply becomes its child (a fork when it already has one). */
  parentId: number | null;
  /** Called on every flush with the text sent since the previous one (for usage accounting). */
  onFlush?: (delta: string) => Promise<unknown>;
  /** Called when a background flush fails; the reply goes on. */
  onError?: (error: unknown) => void;
}

/** Stores an empty streaming assistant message in `threadId` and returns the writer that fills it. */
export async function startReply(store: StateStoreClient, threadId: string, options: ReplyOptions): Promise<ReplyWriter> {
  // beginMessage appends after the current leaf, so a fork or a regenerate first moves the leaf to the parent.
  if (options.parentId !== null) await store.setCurrentLeafId(threadId, options.parentId);
  const messageId = await store.beginMessage(threadId, 'assistant', { type: 'assistant_turn', model: 'simulated' });
  let text = '';
  let sentLength = 0;
  let lastFlushAt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing: Promise<unknown> = Promise.resolve();

  const send = (): Promise<unknown> => {
    const delta = text.slice(sentLength);
    sentLength = text.length;
    if (!delta) return Promise.resolve();
    // The delta and the usage are sent together, so the worker commits them in one group commit.
    return Promise.all([store.appendMessageDelta(messageId, delta), options.onFlush?.(delta)]);
  };

  const flush = (): void => {
    timer = undefined;
    lastFlushAt = performance.now();
    writing = writing.then(send).catch((error: unknown) => options.onError?.(error));
  };

  const settle = async (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    await writing;
  };

  return {
    messageId,
    push(delta) {
      text += delta;
      timer ??= setTimeout(flush, Math.max(0, lastFlushAt + FLUSH_INTERVAL_MS - performance.now()));
    },
    async finish(item, status = 'complete') {
      await settle();
      await send();
      await store.finishMessage(messageId, { status, item });
    },
    async fail() {
      await settle();
      await send().catch(() => {});
      await store.finishMessage(messageId, { status: 'failed' }).catch(() => {});
    },
  };
}
