import type { JsonValue, StateStoreClient } from 'agent-state-store';
import { hasCode } from './app.js';

/**
 * How a streamed reply reaches the store, through its streaming API: beginMessage stores an empty
 * "streaming" message at once (with its item, so every tab shows the tool calls while the text
 * streams), appendMessageDelta adds text, finishMessage ends it. Tokens arrive every few tens of
 * milliseconds, so the page buffers them and sends at most one delta per FLUSH_INTERVAL_MS (the
 * worker coalesces again before it commits). A reply cut off by a crash keeps what was written: the
 * worker marks it "interrupted" the next time the store opens.
 *
 * The first failed write stops the writer: nothing more is sent, `error` holds the failure, and
 * finish() throws it. A stream whose message is gone (NOT_FOUND: its thread was deleted) or whose
 * database was replaced by an import (REPLACED) would fail every later delta the same way.
 */

/** At most one delta sent to the store per this many milliseconds. */
export const FLUSH_INTERVAL_MS = 250;

/** A reply being written: push text as it streams, then end it once. */
export interface ReplyWriter {
  /** The stored message's id. */
  readonly messageId: number;
  /** The first write that failed; once set, the writer sends nothing more. */
  readonly error: unknown;
  /** Adds streamed text; it is sent with the next flush, never immediately. */
  push(delta: string): void;
  /** Sends the rest and ends the message (`complete`, or `cancelled` when stopped) with its item; throws the first failure. */
  finish(item: JsonValue, status?: 'complete' | 'cancelled'): Promise<void>;
  /** Ends the message as `failed`, keeping the text so far, where that message still exists; never throws. */
  fail(): Promise<void>;
}

/** Options of startReply. */
export interface ReplyOptions {
  /** The message to reply to; the reply becomes its child (a new branch when it already has one). */
  parentId: number | null;
  /** Stored with the message from the start (the planned tool calls), and replaced by finish(). */
  item: JsonValue;
  /** Called on every flush with the text sent since the previous one (for usage accounting). */
  onFlush?: (delta: string) => Promise<unknown>;
}

/** Stores an empty streaming assistant message in `threadId` and returns the writer that fills it. */
export async function startReply(store: StateStoreClient, threadId: string, options: ReplyOptions): Promise<ReplyWriter> {
  // A regenerate answers the question itself, in one atomic call: a sibling of the earlier answers.
  const messageId = await store.beginMessage(threadId, 'assistant', options.item, options.parentId === null ? {} : { parentId: options.parentId });
  let text = '';
  let sentLength = 0;
  let lastFlushAt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing: Promise<unknown> = Promise.resolve();
  let failure: { error: unknown } | null = null;

  const send = async (): Promise<void> => {
    if (failure) return;
    const delta = text.slice(sentLength);
    sentLength = text.length;
    if (!delta) return;
    // The delta and the usage are sent together, so the worker commits them in one group commit.
    await Promise.all([store.appendMessageDelta(messageId, delta), options.onFlush?.(delta)]);
  };

  const flush = (): void => {
    timer = undefined;
    lastFlushAt = performance.now();
    writing = writing.then(send).catch((error: unknown) => {
      failure ??= { error };
    });
  };

  const settle = async (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    await writing;
  };

  return {
    messageId,
    get error() {
      return failure?.error;
    },
    push(delta) {
      if (failure) return;
      text += delta;
      timer ??= setTimeout(flush, Math.max(0, lastFlushAt + FLUSH_INTERVAL_MS - performance.now()));
    },
    async finish(item, status = 'complete') {
      await settle();
      if (failure) throw failure.error;
      await send();
      await store.finishMessage(messageId, { status, item });
    },
    async fail() {
      await settle();
      if (failure && hasCode(failure.error, 'NOT_FOUND', 'REPLACED')) return;
      await send().catch(() => {});
      await store.finishMessage(messageId, { status: 'failed' }).catch(() => {});
    },
  };
}
