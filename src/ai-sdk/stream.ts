import type { ChatTransport, UIMessage, UIMessageChunk } from 'ai';
import { StoreError } from '../core/errors.js';
import type { MessageRecord, FinishMessageOptions } from '../core/types.js';
import * as v from '../core/validate.js';
import { prepare, readBranch, saveBranch, serialized, UI_MESSAGE_FORMAT, type Awaitable, type ChatStore } from './chat.js';

/**
 * What persistUIMessageStream needs of a store: ChatStore and the store's streaming methods. The
 * core StateStore, createMemoryStore(), the browser client and edgeStore() all fit.
 */
export interface StreamingChatStore extends ChatStore {
  beginMessage(threadId: string, role: string, item?: unknown, options?: { parentId?: number | null }): Awaitable<number>;
  appendMessageDelta(messageId: number, delta: string): Awaitable<void>;
  finishMessage(messageId: number, options?: FinishMessageOptions): Awaitable<MessageRecord>;
}

/** Options of persistUIMessageStream and durableTransport. */
export interface PersistStreamOptions<M extends UIMessage = UIMessage> {
  /** The messages the response answers, as sent (useChat's list): saved at once, the user's new message included. */
  originalMessages: readonly M[];
  /**
   * Makes the id of a response whose `start` chunk has none (a route without `generateMessageId`):
   * the id is put in the chunk, so the UI and the store agree on it. Default: crypto.randomUUID().
   */
  generateMessageId?: () => string;
  /** Hears a write that failed (a full disk, a closed store); the stream goes on, unsaved from there. */
  onError?: (error: unknown) => void;
}

const SEPARATOR = '\n\n';

/**
 * A TransformStream for a response's UIMessageChunks that saves the conversation as it streams:
 * the messages it answers at once (the user's new message, a tool output given in place), then the
 * assistant's message as a streaming message (beginMessage) whose text grows with every text delta,
 * finished when the stream ends (`complete`, or `cancelled` / `failed` after an abort or an error).
 * A reload mid-answer finds the answer `interrupted` (the browser worker's start-up sweep marks it),
 * with its text so far: loadChat gives it with `metadata.status` and that text. Chunks pass through
 * unchanged, except a `start` chunk without a messageId, which gets one. saveChat from `onFinish`
 * then stores the final message (tool parts and all) in place. A continuation (the response goes
 * on in the last assistant message, after a tool output or an approval) is saved by that saveChat.
 *
 * @example
 * // A route: save the user's message at once and the answer as it streams.
 * const stream = result.toUIMessageStream({ originalMessages: messages, generateMessageId, onFinish: ({ messages }) => saveChat(store, id, messages) });
 * return createUIMessageStreamResponse({ stream: stream.pipeThrough(persistUIMessageStream(store, id, { originalMessages: messages })) });
 */
export function persistUIMessageStream<M extends UIMessage = UIMessage>(
  store: StreamingChatStore,
  threadId: string,
  options: PersistStreamOptions<M>,
): TransformStream<UIMessageChunk, UIMessageChunk> {
  v.nonEmpty(threadId, 'threadId');
  const given = prepare(options.originalMessages);
  const newId = options.generateMessageId ?? (() => crypto.randomUUID());
  let stopped = false;
  let last: Promise<unknown> = Promise.resolve();
  /** Queues a write on the thread's queue (saveChat's), in order; the first failure stops the rest. */
  const write = (fn: () => Promise<unknown> | unknown): Promise<unknown> =>
    (last = serialized(store, threadId, async () => {
      if (stopped) return;
      try {
        await fn();
      } catch (error) {
        stopped = true;
        // CONFLICT: saveChat already stored the final message and ended the stream; nothing is lost.
        if (!(error instanceof StoreError && error.code === 'CONFLICT')) options.onError?.(error);
      }
    }));

  write(() => saveBranch(store, threadId, given));
  let messageId: number | null = null;
  let wroteText = false;
  let separate = false;
  let ending: FinishMessageOptions['status'] = 'complete';

  return new TransformStream<UIMessageChunk, UIMessageChunk>({
    transform(chunk, controller) {
      switch (chunk.type) {
        case 'start': {
          const id = chunk.messageId || newId();
          if (!chunk.messageId) chunk = { ...chunk, messageId: id };
          const continues = given.at(-1)?.ui.role === 'assistant' && given.at(-1)?.ui.id === id;
          if (!continues) {
            const metadata = chunk.messageMetadata;
            write(async () => {
              // The parent is the last message sent (after a regenerate, not the leaf: the old answer).
              const { stored } = await readBranch(store, threadId);
              const parent = given.length === 0 ? null : (stored[given.length - 1]?.record.id ?? null);
              const item = { format: UI_MESSAGE_FORMAT, message: { id, parts: [], ...(metadata !== undefined ? { metadata } : {}) } };
              messageId = await store.beginMessage(threadId, 'assistant', item, { parentId: parent });
            });
          }
          break;
        }
        case 'text-start':
          separate = wroteText;
          break;
        case 'text-delta': {
          const delta = (separate ? SEPARATOR : '') + chunk.delta;
          separate = false;
          wroteText = true;
          write(() => (messageId === null ? undefined : store.appendMessageDelta(messageId, delta)));
          break;
        }
        case 'abort':
          ending = 'cancelled';
          break;
        case 'error':
          ending = 'failed';
          break;
      }
      controller.enqueue(chunk);
    },
    async flush() {
      write(() => (messageId === null ? undefined : store.finishMessage(messageId, { status: ending })));
      await last;
    },
  });
}

/**
 * A ChatTransport (useChat's `transport`) that saves what it sends and receives as it streams,
 * through persistUIMessageStream: for a store in the page, where the route does not save.
 *
 * @example
 * const store = await openStateStore({ name: 'chat' });
 * useChat({ id: threadId, messages: await loadChat(store, threadId), transport: durableTransport(store, threadId, new DefaultChatTransport()),
 *   onFinish: ({ messages }) => void saveChat(store, threadId, messages) });
 */
export function durableTransport<M extends UIMessage>(
  store: StreamingChatStore,
  threadId: string,
  transport: ChatTransport<M>,
  options: Omit<PersistStreamOptions<M>, 'originalMessages'> = {},
): ChatTransport<M> {
  return {
    async sendMessages(request) {
      const stream = await transport.sendMessages(request);
      return stream.pipeThrough(persistUIMessageStream(store, threadId, { ...options, originalMessages: request.messages }));
    },
    reconnectToStream: (request) => transport.reconnectToStream(request),
  };
}
