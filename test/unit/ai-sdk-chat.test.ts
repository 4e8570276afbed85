import type { LanguageModelV4StreamPart } from '@ai-sdk/provider';
import {
  AbstractChat, convertToModelMessages, createUIMessageStreamResponse, DefaultChatTransport, jsonSchema, lastAssistantMessageIsCompleteWithApprovalResponses,
  lastAssistantMessageIsCompleteWithToolCalls, stepCountIs, streamText, tool, type ChatInit, type ChatState, type ChatStatus, type ChatTransport, type UIMessage,
} from 'ai';
import { convertArrayToReadableStream, MockLanguageModelV4 } from 'ai/test';
import { describe, expect, it } from 'vitest';
import { durableTransport, listMessageVersions, loadChat, persistUIMessageStream, saveChat, switchMessageVersion } from '../../src/ai-sdk/index.js';
import { createMemoryStore, StoreError, type MemoryStore } from '../../src/core.js';

/**
 * The AI SDK bridge driven by `ai`'s own Chat (AbstractChat, what useChat runs) against a route
 * handler built as the AI SDK's docs build one (streamText + toUIMessageStreamResponse) over a mock
 * model from `ai/test`. Every flow ends with loadChat deep-equal to what the UI holds, and the
 * branch count checked. Nothing here waits for time: each wait is for a condition.
 */

type Meta = { createdAt: number; status?: string };
type Msg = UIMessage<Meta>;

/** The in-memory state a framework binding gives AbstractChat (as @ai-sdk/react's does, without React). */
class PlainState implements ChatState<Msg> {
  status: ChatStatus = 'ready';
  error: Error | undefined = undefined;
  constructor(public messages: Msg[]) {}
  pushMessage = (message: Msg) => void (this.messages = [...this.messages, message]);
  popMessage = () => void (this.messages = this.messages.slice(0, -1));
  replaceMessage = (index: number, message: Msg) => void (this.messages = this.messages.map((m, i) => (i === index ? message : m)));
  snapshot = <T,>(thing: T): T => structuredClone(thing);
}

class Chat extends AbstractChat<Msg> {
  constructor(init: ChatInit<Msg>) {
    super({ ...init, state: new PlainState(init.messages ?? []) });
  }
}

const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
const text = (t: string): LanguageModelV4StreamPart[] => [
  { type: 'stream-start', warnings: [] },
  { type: 'text-start', id: 't' },
  { type: 'text-delta', id: 't', delta: t },
  { type: 'text-end', id: 't' },
  { type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage },
];
const toolCall = (toolName: string, input: object, toolCallId = 'call-1'): LanguageModelV4StreamPart[] => [
  { type: 'stream-start', warnings: [] },
  { type: 'tool-call', toolCallId, toolName, input: JSON.stringify(input) },
  { type: 'finish', finishReason: { unified: 'tool-calls', raw: 'tool_calls' }, usage },
];

/** A mock model that answers each call with the next scripted response. */
function scripted(...responses: (LanguageModelV4StreamPart[] | ReadableStream<LanguageModelV4StreamPart>)[]) {
  let call = 0;
  const model = new MockLanguageModelV4({
    doStream: async () => {
      const next = responses[call++];
      if (!next) throw new Error(`the model was called ${call} times, scripted for ${responses.length}`);
      return { stream: Array.isArray(next) ? convertArrayToReadableStream(next) : next };
    },
  });
  return { model, calls: () => call };
}

const tools = {
  // Client-side: no execute; the page answers with addToolOutput.
  getLocation: tool({ description: 'Where the user is.', inputSchema: jsonSchema<Record<string, never>>({ type: 'object', properties: {} }) }),
  // Server-side, after the user approves.
  getWeather: tool({
    description: 'The weather in a city.',
    inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
    needsApproval: true,
    execute: async ({ city }) => ({ city, tempC: 21 }),
  }),
};

let clock = 1_700_000_000_000;
const now = () => ++clock;

/**
 * The route handler of the recipe (README, AI SDK): the messages the page sends, streamText, and
 * toUIMessageStreamResponse with originalMessages, generateMessageId and onFinish → saveChat. With
 * `durable`, the stream is also piped through persistUIMessageStream, so the user's message and the
 * answer are saved as they stream.
 */
function route(store: MemoryStore, model: MockLanguageModelV4, options: { generateMessageId?: boolean; durable?: boolean; errors?: unknown[] } = {}) {
  let n = 0;
  return async (request: Request): Promise<Response> => {
    const { id, messages } = (await request.json()) as { id: string; messages: Msg[] };
    const result = streamText({ model, messages: await convertToModelMessages(messages, { tools }), tools, stopWhen: stepCountIs(5) });
    const stream = result.toUIMessageStream<Msg>({
      originalMessages: messages,
      ...(options.generateMessageId === false ? {} : { generateMessageId: () => `srv-${++n}` }),
      messageMetadata: ({ part }) => (part.type === 'start' ? { createdAt: now() } : undefined),
      onFinish: async ({ messages: all }) => {
        try {
          await saveChat(store, id, all);
        } catch (error) {
          options.errors?.push(error);
        }
      },
    });
    return createUIMessageStreamResponse({ stream: options.durable ? stream.pipeThrough(persistUIMessageStream(store, id, { originalMessages: messages })) : stream });
  };
}

/** The page's transport to the route, through fetch, as DefaultChatTransport sends it. */
function transportTo(handler: (request: Request) => Promise<Response>): ChatTransport<Msg> {
  return new DefaultChatTransport<Msg>({ api: 'http://app.test/api/chat', fetch: async (url, init) => handler(new Request(String(url), init)) });
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`never happened: ${what}`);
}

/** The UI's settled list: after the chat is ready and the saves queued behind its last answer have run. */
async function settled(chat: Chat, store: MemoryStore, threadId: string): Promise<Msg[]> {
  await until(() => chat.status === 'ready' || chat.status === 'error', 'the chat is ready');
  expect(chat.error).toBeUndefined();
  // A load queues behind every save of the thread, so it sees them all.
  await loadChat(store, threadId);
  return chat.messages;
}

const counts = (store: MemoryStore, threadId: string) => store.getBranch(threadId).map((m) => m.siblings.count);

async function setup() {
  const store = await createMemoryStore();
  const threadId = store.createThread({ title: 'AI SDK flows' }).id;
  return { store, threadId };
}

describe("ai's Chat against the recipe's route, with a mock model", () => {
  it('a client-side tool: the call, addToolOutput, the automatic continuation — one assistant message, updated in place, ‹ 1/1 ›', async () => {
    const { store, threadId } = await setup();
    const { model, calls } = scripted(toolCall('getLocation', {}), text('It is sunny in Lisbon.'));
    const chat: Chat = new Chat({
      id: threadId,
      transport: transportTo(route(store, model, { durable: true })),
      sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithToolCalls,
      onToolCall: ({ toolCall: call }) => void chat.addToolOutput({ tool: 'getLocation', toolCallId: call.toolCallId, output: 'Lisbon' }),
    });
    await chat.sendMessage({ text: 'Weather where I am?', metadata: { createdAt: now() } });
    await until(() => calls() === 2 && chat.status === 'ready', 'the continuation ran');
    const ui = await settled(chat, store, threadId);
    expect(ui.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(ui[1]!.parts.map((p) => p.type)).toEqual(['step-start', 'tool-getLocation', 'step-start', 'text']);
    expect(await loadChat<Msg>(store, threadId)).toEqual(ui);
    expect(counts(store, threadId)).toEqual([1, 1]);
    expect(store.listThreadMessages(threadId)).toHaveLength(2);
    expect(store.searchMessages('sunny', { threadId })).toHaveLength(1);
    store.close();
  });

  it('an approval: approval-requested, addToolApprovalResponse, the tool runs and the answer continues in the same message, ‹ 1/1 ›', async () => {
    const { store, threadId } = await setup();
    const { model, calls } = scripted(toolCall('getWeather', { city: 'Lisbon' }), text('21 °C in Lisbon.'));
    const chat = new Chat({ id: threadId, transport: transportTo(route(store, model, { durable: true })), sendAutomaticallyWhen: lastAssistantMessageIsCompleteWithApprovalResponses });
    await chat.sendMessage({ text: 'Weather in Lisbon?', metadata: { createdAt: now() } });
    await settled(chat, store, threadId);
    const part = chat.messages[1]!.parts.find((p) => p.type === 'tool-getWeather') as { state: string; approval: { id: string } };
    expect(part.state).toBe('approval-requested');
    expect(await loadChat<Msg>(store, threadId)).toEqual(chat.messages);
    await chat.addToolApprovalResponse({ id: part.approval.id, approved: true });
    await until(() => calls() === 2 && chat.status === 'ready', 'the approved call ran');
    const ui = await settled(chat, store, threadId);
    const done = ui[1]!.parts.find((p) => p.type === 'tool-getWeather') as { state: string; output: unknown };
    expect([done.state, done.output]).toEqual(['output-available', { city: 'Lisbon', tempC: 21 }]);
    expect(await loadChat<Msg>(store, threadId)).toEqual(ui);
    expect(counts(store, threadId)).toEqual([1, 1]);
    expect(store.listThreadMessages(threadId)).toHaveLength(2);
    store.close();
  });

  it('regenerate makes a sibling answer (‹ 2/2 ›); an edit makes a sibling question; the versions switch back in UIMessage terms', async () => {
    const { store, threadId } = await setup();
    const { model } = scripted(text('Day 1: Alfama.'), text('Try Belém first.'), text('Porto: the Ribeira.'));
    const chat = new Chat({ id: threadId, transport: transportTo(route(store, model)) });
    await chat.sendMessage({ text: 'Three days in Lisbon?', metadata: { createdAt: now() } });
    await settled(chat, store, threadId);
    const first = chat.messages[1]!;
    await chat.regenerate();
    let ui = await settled(chat, store, threadId);
    expect(ui[1]!.id).not.toBe(first.id);
    expect(await loadChat<Msg>(store, threadId)).toEqual(ui);
    expect(counts(store, threadId)).toEqual([1, 2]);

    const versions = await listMessageVersions<Msg>(store, threadId, ui[1]!.id);
    expect(versions.map((x) => [x.index, x.current, x.message.parts.at(-1)])).toEqual([
      [0, false, { type: 'text', text: 'Day 1: Alfama.', state: 'done' }],
      [1, true, { type: 'text', text: 'Try Belém first.', state: 'done' }],
    ]);
    expect(await switchMessageVersion<Msg>(store, threadId, versions[0]!)).toEqual([chat.messages[0], first]);
    chat.messages = await switchMessageVersion<Msg>(store, threadId, versions[1]!);

    // An edit keeps the question's id, drops what followed it, and the route stores it as a sibling.
    await chat.sendMessage({ text: 'Three days in Porto?', messageId: ui[0]!.id, metadata: { createdAt: now() } });
    ui = await settled(chat, store, threadId);
    expect(ui.map((m) => (m.parts.at(-1) as { text: string }).text)).toEqual(['Three days in Porto?', 'Porto: the Ribeira.']);
    expect(await loadChat<Msg>(store, threadId)).toEqual(ui);
    expect(counts(store, threadId)).toEqual([2, 1]);
    const questions = await listMessageVersions<Msg>(store, threadId, ui[0]!.id);
    expect(questions.map((q) => (q.message.parts[0] as { text: string }).text)).toEqual(['Three days in Lisbon?', 'Three days in Porto?']);
    const back = await switchMessageVersion<Msg>(store, threadId, questions[0]!);
    expect(back.map((m) => (m.parts.at(-1) as { text: string }).text)).toEqual(['Three days in Lisbon?', 'Try Belém first.']);
    store.close();
  });

  it('a reload mid-stream: the question was saved at once, the answer comes back interrupted with its text so far, and a regenerate branches beside it', async () => {
    const { store, threadId } = await setup();
    // The model stops mid-answer and never finishes: the page is closed meanwhile.
    let hang!: ReadableStreamDefaultController<LanguageModelV4StreamPart>;
    const halted = new ReadableStream<LanguageModelV4StreamPart>({
      start(controller) {
        hang = controller;
        for (const part of [{ type: 'stream-start', warnings: [] }, { type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'Day 1: ' }, { type: 'text-delta', id: 't', delta: 'Alfama and' }] as const) {
          controller.enqueue(part as LanguageModelV4StreamPart);
        }
      },
    });
    const { model } = scripted(halted);
    // The page saves through durableTransport; the route saves nothing (its onFinish never comes).
    const page = new Chat({ id: threadId, transport: durableTransport(store, threadId, transportTo(route(store, model, { generateMessageId: false }))) });
    void page.sendMessage({ text: 'Three days in Lisbon?', metadata: { createdAt: now() } });
    await until(() => store.getBranch(threadId).at(-1)?.content === 'Day 1: Alfama and', 'the partial answer is in the store');

    // The reload: the same file opened again; the worker's start-up sweep marks what was streaming.
    const reopened = await createMemoryStore({ bytes: store.exportBytes() });
    expect(reopened.recoverInterruptedMessages()).toHaveLength(1);
    const loaded = await loadChat<Msg>(reopened, threadId);
    expect(loaded.map((m) => [m.role, m.parts.filter((p) => p.type === 'text').map((p) => (p as { text: string }).text), m.metadata?.status])).toEqual([
      ['user', ['Three days in Lisbon?'], undefined],
      ['assistant', ['Day 1: Alfama and'], 'interrupted'],
    ]);
    expect(loaded[1]!.id).toBe(page.messages[1]!.id);

    const { model: again } = scripted(text('Day 1: Belém.'));
    const chat = new Chat({ id: threadId, messages: loaded, transport: durableTransport(reopened, threadId, transportTo(route(reopened, again))) });
    await chat.regenerate();
    const ui = await settled(chat, reopened, threadId);
    expect(await loadChat<Msg>(reopened, threadId)).toEqual(ui);
    expect(counts(reopened, threadId)).toEqual([1, 2]);
    expect(reopened.getBranch(threadId).map((m) => m.status)).toEqual(['complete', 'complete']);
    hang.close();
    await page.stop();
    store.close();
    reopened.close();
  });

  it('a route with generateMessageId stores each answer under the id the page holds; without it saveChat says what to pass', async () => {
    const { store, threadId } = await setup();
    const { model } = scripted(text('Hello!'), text('Again.'));
    const chat = new Chat({ id: threadId, transport: transportTo(route(store, model)) });
    await chat.sendMessage({ text: 'Hi', metadata: { createdAt: now() } });
    const ui = await settled(chat, store, threadId);
    expect(ui[1]!.id).toBe('srv-1');
    expect(await loadChat<Msg>(store, threadId)).toEqual(ui);

    const errors: unknown[] = [];
    const { store: other, threadId: otherThread } = await setup();
    const bare = new Chat({ id: otherThread, transport: transportTo(route(other, model, { generateMessageId: false, errors })) });
    await bare.sendMessage({ text: 'Hi', metadata: { createdAt: now() } });
    await settled(bare, other, otherThread);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(StoreError);
    expect([(errors[0] as StoreError).code, (errors[0] as StoreError).details?.['field']]).toEqual(['INVALID_ARGUMENT', 'messages[1].id']);
    expect((errors[0] as StoreError).message).toMatch(/generateMessageId/);
    store.close();
    other.close();
  });
});
