import { createHash } from 'node:crypto';
import { readUIMessageStream, validateUIMessages, type UIMessage, type UIMessageChunk } from 'ai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadChat, saveChat, UI_MESSAGE_FORMAT, type ChatStore, type StreamingChatStore, type VersionsChatStore } from '../../src/ai-sdk/index.js';
import type { StateStoreClient } from '../../src/client/open.js';
import { createMemoryStore, StoreError, type MemoryStore } from '../../src/core.js';

// agent-state-store/ai-sdk against the real engine (createMemoryStore), with UIMessages typed by
// the `ai` package itself: every part type, every tool state, metadata.

type Meta = { model: string; createdAt: number; usage?: { inputTokens: number; outputTokens: number } };
type Data = { weather: { city: string; status: 'loading' | 'done' }; notice: string };
type Tools = { getWeather: { input: { city: string; unit?: 'C' | 'F' }; output: { tempC: number; sky: string } } };
type Msg = UIMessage<Meta, Data, Tools>;
type Part = Msg['parts'][number];

// The browser client fits the store parameter as well as the core does (checked by tsc).
const _clientFits: (client: StateStoreClient) => ChatStore = (client) => client;
const _coreFits: (store: MemoryStore) => ChatStore = (store) => store;
// So do they for streaming and versions.
const _clientStreams: (client: StateStoreClient) => StreamingChatStore & VersionsChatStore = (client) => client;
const _coreStreams: (store: MemoryStore) => StreamingChatStore & VersionsChatStore = (store) => store;

const weather = { type: 'tool-getWeather', toolCallId: 'call-1', title: 'Weather', toolMetadata: { cost: 1 } } as const;
const search = { type: 'dynamic-tool', toolName: 'search_docs', toolCallId: 'call-2' } as const;
const approval = { id: 'approval-1', requestReason: 'calls a paid API', isAutomatic: false, signature: 'sig', inputSchemaInput: { city: 'Lisbon' } };
const providerMetadata = { openai: { itemId: 'item_1', nested: { list: [1, 'two', null, true] } } };

/** One example of every part type and of every tool state, each with its optional fields set. */
const PARTS: [string, Part][] = [
  ['text', { type: 'text', text: 'Lisbon: 21 °C, clear — «ótimo» 🌞', state: 'done', providerMetadata }],
  ['text while streaming', { type: 'text', text: 'Lisb', state: 'streaming' }],
  [
    'text with citations',
    {
      type: 'text', text: 'Trams run late.',
      citations: [
        { source: { type: 'source', sourceType: 'url', id: 'src-1', url: 'https://carris.pt', title: 'Carris' }, startIndex: 0, endIndex: 5, citedText: 'Trams' },
        { source: { type: 'source', sourceType: 'document', id: 'doc-1', mediaType: 'application/pdf', title: 'Timetable', filename: 'tt.pdf' } },
      ],
    },
  ],
  ['reasoning', { type: 'reasoning', id: 'r-1', text: 'The user wants weather.', state: 'done', providerMetadata: { anthropic: { signature: 'abc' } } }],
  ['tool-<name> input-streaming', { ...weather, state: 'input-streaming', input: { city: 'Lis' }, rawInput: '{"city":"Lis', inputEncoding: 'json' }],
  ['tool-<name> input-available', { ...weather, state: 'input-available', input: { city: 'Lisbon', unit: 'C' }, providerExecuted: false, callProviderMetadata: providerMetadata }],
  ['tool-<name> approval-requested', { ...weather, state: 'approval-requested', input: { city: 'Lisbon' }, approval }],
  ['tool-<name> approval-responded', { ...weather, state: 'approval-responded', input: { city: 'Lisbon' }, approval: { ...approval, approved: true, reason: 'fine' } }],
  [
    'tool-<name> output-available',
    {
      ...weather, state: 'output-available', input: { city: 'Lisbon' }, output: { tempC: 21, sky: 'clear' }, preliminary: false,
      resultProviderMetadata: providerMetadata, approval: { id: 'approval-1', approved: true },
    },
  ],
  ['tool-<name> output-error', { ...weather, state: 'output-error', input: { city: 'Atlantis' }, errorText: 'no such city', approval: { id: 'approval-2', approved: true } }],
  ['tool-<name> output-denied', { ...weather, state: 'output-denied', input: { city: 'Lisbon' }, approval: { id: 'approval-3', approved: false, reason: 'too costly' } }],
  ['dynamic-tool input-streaming', { ...search, state: 'input-streaming', input: { q: 'op' }, rawInput: 'op', inputEncoding: 'text' }],
  ['dynamic-tool input-available', { ...search, state: 'input-available', input: { q: 'opfs' }, dynamic: false, providerExecuted: true }],
  ['dynamic-tool approval-requested', { ...search, state: 'approval-requested', input: { q: 'opfs' }, approval: { id: 'approval-4' } }],
  ['dynamic-tool approval-responded', { ...search, state: 'approval-responded', input: { q: 'opfs' }, approval: { id: 'approval-4', approved: false } }],
  ['dynamic-tool output-available', { ...search, state: 'output-available', input: { q: 'opfs' }, output: { hits: [{ title: 'OPFS', score: 0.5 }] }, preliminary: true }],
  ['dynamic-tool output-error', { ...search, state: 'output-error', input: { q: 'opfs' }, errorText: 'index offline' }],
  ['dynamic-tool output-denied', { ...search, state: 'output-denied', input: { q: 'opfs' }, approval: { id: 'approval-5', approved: false } }],
  ['file (a URL)', { type: 'file', mediaType: 'image/png', filename: 'chart.png', url: 'https://example.com/chart.png', providerReference: { openai: 'file-123' }, providerMetadata }],
  ['reasoning-file', { type: 'reasoning-file', mediaType: 'image/png', url: 'https://example.com/sketch.png' }],
  ['source-url', { type: 'source-url', sourceId: 'src-1', url: 'https://www.ipma.pt', title: 'IPMA', providerMetadata }],
  ['source-document', { type: 'source-document', sourceId: 'doc-1', mediaType: 'application/pdf', title: 'Climate report', filename: 'report.pdf' }],
  ['step-start', { type: 'step-start' }],
  ['data-<name> with an id', { type: 'data-weather', id: 'w-1', data: { city: 'Lisbon', status: 'done' } }],
  ['data-<name> without an id', { type: 'data-notice', data: 'rate limit soon' }],
  ['custom', { type: 'custom', kind: 'openai.web-search-preview', providerMetadata }],
  ['steering-message', { type: 'steering-message', id: 'steer-1', parts: [{ type: 'text', text: 'and Porto?' }] }],
];

const META: Meta = { model: 'gpt-x', createdAt: 1_700_000_000_123, usage: { inputTokens: 12, outputTokens: 34 } };

// Every message carries metadata.createdAt, as the AI SDK's docs have a route send it: loadChat then gives it back unchanged.
function user(id: string, text: string): Msg {
  return { id, role: 'user', parts: [{ type: 'text', text }], metadata: META };
}

function assistant(id: string, text: string): Msg {
  return { id, role: 'assistant', parts: [{ type: 'step-start' }, { type: 'text', text, state: 'done' }], metadata: META };
}

// One store for the file (its prepared statements stay warm), a fresh thread for every test.
let store: MemoryStore;
let threadId: string;

beforeAll(async () => {
  store = await createMemoryStore();
});

afterAll(() => store.close());

beforeEach(() => {
  threadId = store.createThread({ title: 'AI SDK' }).id;
});

/** What a refused call must leave untouched: the whole database file (its SHA-256, to compare fast). */
function bytes(): string {
  return createHash('sha256').update(store.exportBytes()).digest('hex');
}

async function refusal(messages: unknown): Promise<StoreError> {
  const error = await saveChat(store, threadId, messages as Msg[]).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

describe('round trips', () => {
  it.each(PARTS)('a %s part comes back exactly', async (_name, part) => {
    const message: Msg = { id: 'm-1', role: 'assistant', parts: [part], metadata: META };
    await saveChat(store, threadId, [message]);
    expect(await loadChat<Msg>(store, threadId)).toStrictEqual([message]);
  });

  it('metadata comes back exactly', async () => {
    const message: Msg = { id: 'm-1', role: 'assistant', parts: [], metadata: { ...META, usage: { inputTokens: 0, outputTokens: -1 } } };
    await saveChat(store, threadId, [message]);
    expect(await loadChat<Msg>(store, threadId)).toStrictEqual([message]);
  });

  it.each(['system', 'user', 'assistant'] as const)('the %s role comes back and is the role column', async (role) => {
    const message: Msg = { id: 'm-1', role, parts: [{ type: 'text', text: 'x' }], metadata: META };
    const { added } = await saveChat(store, threadId, [message]);
    expect(added[0]!.role).toBe(role);
    expect(await loadChat<Msg>(store, threadId)).toStrictEqual([message]);
  });

  it('a conversation with every part type comes back exactly, in order', async () => {
    const messages: Msg[] = [
      { id: 'sys', role: 'system', parts: [{ type: 'text', text: 'Be brief.' }], metadata: META },
      { id: 'u-1', role: 'user', parts: [PARTS.find(([n]) => n.startsWith('file'))![1], { type: 'text', text: 'Weather?' }], metadata: META },
      { id: 'a-1', role: 'assistant', parts: PARTS.map(([, p]) => p), metadata: META },
    ];
    await saveChat(store, threadId, messages);
    expect(await loadChat<Msg>(store, threadId)).toStrictEqual(messages);
  });

  it('the fixtures are valid UIMessages by the AI SDK’s own validator', async () => {
    const messages: Msg[] = [{ id: 'a-1', role: 'assistant', parts: PARTS.map(([, p]) => p), metadata: META }];
    await expect(validateUIMessages({ messages })).resolves.toHaveLength(1);
  });

  it('a message built by the AI SDK’s stream reader comes back as JSON keeps it (its undefined keys absent)', async () => {
    const message = await streamedMessage();
    await saveChat(store, threadId, [message]);
    const [loaded] = await loadChat<Msg>(store, threadId);
    expect(loaded).toEqual(message);
    expect(loaded).toStrictEqual(JSON.parse(JSON.stringify(message)));
  });

  it('content holds the text parts joined by a blank line, so search finds the message', async () => {
    const message: Msg = { id: 'a-1', role: 'assistant', parts: [{ type: 'text', text: 'Pastéis first.' }, PARTS[5]![1], { type: 'text', text: 'Then Belém.' }] };
    const { added } = await saveChat(store, threadId, [message]);
    expect(added[0]!.content).toBe('Pastéis first.\n\nThen Belém.');
    expect(store.searchMessages('Belém').map((hit) => hit.messageId)).toEqual([added[0]!.id]);
  });

  it('item holds the UIMessage without its role, tagged with its format', async () => {
    const message: Msg = { id: 'u-1', role: 'user', parts: [{ type: 'text', text: 'hi' }], metadata: META };
    const { added } = await saveChat(store, threadId, [message]);
    expect(added[0]!.item).toStrictEqual({ format: UI_MESSAGE_FORMAT, message: { id: 'u-1', parts: message.parts, metadata: META } });
  });

  it('loads a message written without the AI SDK as a text message with the id store-<id>, and its createdAt in metadata', async () => {
    const record = store.addMessage(threadId, { role: 'user', content: 'typed elsewhere' });
    expect(await loadChat(store, threadId)).toStrictEqual([
      { id: `store-${record.id}`, role: 'user', parts: [{ type: 'text', text: 'typed elsewhere' }], metadata: { createdAt: record.createdAt * 1000 } },
    ]);
  });

  it('adds metadata.createdAt (milliseconds, from the store) to a message that has none, and keeps the message\'s own', async () => {
    const { added } = await saveChat(store, threadId, [{ id: 'u-1', role: 'user', parts: [{ type: 'text', text: 'hi' }] }, { ...user('u-2', 'again'), metadata: { ...META, createdAt: 5 } }]);
    const loaded = await loadChat<Msg>(store, threadId);
    expect(loaded.map((m) => m.metadata)).toStrictEqual([{ createdAt: added[0]!.createdAt * 1000 }, { ...META, createdAt: 5 }]);
    // Saving the loaded list back writes nothing.
    const before = bytes();
    expect(await saveChat(store, threadId, loaded)).toEqual({ added: [], updated: null, replacedId: null });
    expect(bytes()).toEqual(before);
  });

  it('leaves out tool-role messages, which UIMessage has no role for', async () => {
    store.addMessage(threadId, { role: 'user', content: 'q' });
    store.addMessage(threadId, { role: 'tool', content: '{"ok":true}' });
    expect((await loadChat(store, threadId)).map((m) => m.role)).toEqual(['user']);
  });

  it('loads an empty thread as an empty list', async () => {
    expect(await loadChat(store, threadId)).toEqual([]);
  });
});

describe('saveChat appends only what is new', () => {
  it('adds nothing when called twice with the same list', async () => {
    const messages = [user('u-1', 'hi'), assistant('a-1', 'hello')];
    await saveChat(store, threadId, messages);
    const before = bytes();
    expect(await saveChat(store, threadId, messages)).toEqual({ added: [], updated: null, replacedId: null });
    expect(bytes()).toEqual(before);
  });

  it('appends the new messages at the end of the branch, each answering the one before', async () => {
    const first = await saveChat(store, threadId, [user('u-1', 'hi'), assistant('a-1', 'hello')]);
    const second = await saveChat(store, threadId, [user('u-1', 'hi'), assistant('a-1', 'hello'), user('u-2', 'more'), assistant('a-2', 'sure')]);
    expect(second.added.map((r) => r.parentEntryId)).toEqual([first.added[1]!.id, second.added[0]!.id]);
    expect(store.listThreadMessages(threadId)).toHaveLength(4);
  });

  it('recognises a message from the AI SDK’s stream reader again, undefined keys and all', async () => {
    const messages = [user('u-1', 'weather?'), await streamedMessage()];
    await saveChat(store, threadId, messages);
    expect((await saveChat(store, threadId, messages)).added).toEqual([]);
  });

  it('recognises a message useChat gave metadata: undefined as the one it stored', async () => {
    const sent = { ...user('u-1', 'hi'), metadata: { ...META, note: undefined } };
    await saveChat(store, threadId, [sent]);
    expect((await saveChat(store, threadId, [sent, assistant('a-1', 'hello')])).added).toHaveLength(1);
  });

  it('adds nothing and moves nothing for a list shorter than the branch (a regenerate that failed)', async () => {
    await saveChat(store, threadId, [user('u-1', 'hi'), assistant('a-1', 'hello')]);
    const before = bytes();
    expect((await saveChat(store, threadId, [user('u-1', 'hi')])).added).toEqual([]);
    expect(bytes()).toEqual(before);
  });

  it('appends after messages written without the AI SDK, recognising them by their store-<id>', async () => {
    store.addMessage(threadId, { role: 'user', content: 'typed elsewhere' });
    const loaded = await loadChat(store, threadId);
    const { added } = await saveChat(store, threadId, [...loaded, assistant('a-1', 'answer')]);
    expect(added).toHaveLength(1);
    expect(store.listThreadMessages(threadId)).toHaveLength(2);
  });

  it('appends after a tool-role leaf that loadChat left out', async () => {
    store.addMessage(threadId, { role: 'user', content: 'q' });
    const tool = store.addMessage(threadId, { role: 'tool', content: 'result' });
    const { added } = await saveChat(store, threadId, [...(await loadChat(store, threadId)), assistant('a-1', 'answer')]);
    expect(added[0]!.parentEntryId).toBe(tool.id);
  });

  it('copies the list when called: changing it afterwards changes nothing stored', async () => {
    const message = user('u-1', 'original');
    const saving = saveChat(store, threadId, [message]);
    (message.parts[0] as { text: string }).text = 'changed';
    await saving;
    expect(store.listThreadMessages(threadId)[0]!.content).toBe('original');
  });

  it('runs two calls on one thread one after the other, so neither duplicates the other', async () => {
    const messages = [user('u-1', 'hi'), assistant('a-1', 'hello')];
    await Promise.all([saveChat(store, threadId, messages), saveChat(store, threadId, messages)]);
    expect(store.listThreadMessages(threadId)).toHaveLength(2);
  });

  it('works the same with a store whose methods return Promises, as the browser client’s do', async () => {
    const client: ChatStore = {
      getBranch: async (...a) => store.getBranch(...a),
      addMessage: async (...a) => store.addMessage(...a),
      updateMessage: async (...a) => store.updateMessage(...a),
    };
    await saveChat(client, threadId, [user('u-1', 'hi'), assistant('a-1', 'hello')]);
    await saveChat(client, threadId, [user('u-1', 'hi'), assistant('a-2', 'hey')]);
    expect(await loadChat(client, threadId)).toStrictEqual([user('u-1', 'hi'), assistant('a-2', 'hey')]);
  });

  it('keeps what it wrote when the store fails midway, and the same call again writes the rest once', async () => {
    let calls = 0;
    const failing: ChatStore = {
      getBranch: (...a) => store.getBranch(...a),
      updateMessage: (...a) => store.updateMessage(...a),
      addMessage: (...a) => {
        if (++calls === 2) throw new StoreError('QUOTA_EXCEEDED', 'disk full');
        return store.addMessage(...a);
      },
    };
    const messages = [user('u-1', 'hi'), assistant('a-1', 'hello'), user('u-2', 'more')];
    await expect(saveChat(failing, threadId, messages)).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(store.listThreadMessages(threadId)).toHaveLength(1);
    await saveChat(failing, threadId, messages);
    expect(await loadChat<Msg>(store, threadId)).toStrictEqual(messages);
  });
});

describe('regenerate and edit become branches', () => {
  async function regenerated() {
    const first = await saveChat(store, threadId, [user('u-1', 'Three days in Lisbon?'), assistant('a-1', 'Day 1: Alfama')]);
    const second = await saveChat(store, threadId, [user('u-1', 'Three days in Lisbon?'), assistant('a-2', 'Try Belém first')]);
    return { old: first.added[1]!, fresh: second.added[0]!, second };
  }

  it('stores a regenerated answer as a sibling of the answer it replaces', async () => {
    const { old, fresh, second } = await regenerated();
    expect(second.replacedId).toBe(old.id);
    expect(fresh.parentEntryId).toBe(old.parentEntryId);
    expect(store.getBranch(threadId).at(-1)!.siblings).toEqual({ index: 1, count: 2, ids: [old.id, fresh.id] });
  });

  it('loads the regenerated answer after a regenerate', async () => {
    await regenerated();
    expect(await loadChat<Msg>(store, threadId)).toStrictEqual([user('u-1', 'Three days in Lisbon?'), assistant('a-2', 'Try Belém first')]);
  });

  it('loads the old answer again after setCurrentLeafId moves back to it', async () => {
    const { old } = await regenerated();
    store.setCurrentLeafId(threadId, old.id);
    expect(await loadChat<Msg>(store, threadId)).toStrictEqual([user('u-1', 'Three days in Lisbon?'), assistant('a-1', 'Day 1: Alfama')]);
  });

  it('branches a regenerated earlier answer from where it stood, keeping what followed it', async () => {
    const first = await saveChat(store, threadId, [user('u-1', 'q1'), assistant('a-1', 'r1'), user('u-2', 'q2'), assistant('a-2', 'r2')]);
    const { added } = await saveChat(store, threadId, [user('u-1', 'q1'), assistant('a-1b', 'r1 again')]);
    expect(added[0]!.parentEntryId).toBe(first.added[0]!.id);
    store.setCurrentLeafId(threadId, first.added[3]!.id);
    expect(await loadChat(store, threadId)).toHaveLength(4);
  });

  it('stores an edited first message (same id, new text) as a new root beside the old one', async () => {
    const first = await saveChat(store, threadId, [user('u-1', 'Lisbon?'), assistant('a-1', 'Yes')]);
    const edited = await saveChat(store, threadId, [user('u-1', 'Porto?'), assistant('a-2', 'Also yes')]);
    expect(edited.replacedId).toBe(first.added[0]!.id);
    expect(store.getBranch(threadId)[0]!.siblings).toEqual({ index: 1, count: 2, ids: [first.added[0]!.id, edited.added[0]!.id] });
    expect(await loadChat<Msg>(store, threadId)).toStrictEqual([user('u-1', 'Porto?'), assistant('a-2', 'Also yes')]);
  });

  it('updates an answer useChat changed in place (an approval given, then its continuation) in place: no sibling, no replacedId', async () => {
    const asked: Msg = { id: 'a-1', role: 'assistant', parts: [{ ...weather, state: 'approval-requested', input: { city: 'Lisbon' }, approval }], metadata: META };
    const answered: Msg = { ...asked, parts: [{ ...weather, state: 'approval-responded', input: { city: 'Lisbon' }, approval: { ...approval, approved: true } }] };
    const continued: Msg = { ...answered, parts: [...answered.parts, { type: 'text', text: 'Sunny, 21 °C.' }] };
    const first = await saveChat(store, threadId, [user('u-1', 'weather?'), asked]);
    const second = await saveChat(store, threadId, [user('u-1', 'weather?'), answered]);
    expect([second.added, second.updated?.id, second.replacedId]).toEqual([[], first.added[1]!.id, null]);
    const third = await saveChat(store, threadId, [user('u-1', 'weather?'), continued, user('u-2', 'thanks')]);
    expect([third.updated?.content, third.added.map((r) => r.parentEntryId), third.replacedId]).toEqual(['Sunny, 21 °C.', [first.added[1]!.id], null]);
    expect(store.getBranch(threadId).map((m) => m.siblings.count)).toEqual([1, 1, 1]);
    expect(store.listThreadMessages(threadId)).toHaveLength(3);
    expect(store.searchMessages('Sunny', { threadId }).map((h) => h.messageId)).toEqual([first.added[1]!.id]);
    expect(await loadChat<Msg>(store, threadId)).toStrictEqual([user('u-1', 'weather?'), continued, user('u-2', 'thanks')]);
  });

  it('stores an edited last user message with no answer yet in place, and one with answers after it as a sibling', async () => {
    const first = await saveChat(store, threadId, [user('u-1', 'Lisbon?')]);
    const inPlace = await saveChat(store, threadId, [user('u-1', 'Lisbon in May?')]);
    expect([inPlace.updated?.id, inPlace.replacedId]).toEqual([first.added[0]!.id, null]);
    await saveChat(store, threadId, [user('u-1', 'Lisbon in May?'), assistant('a-1', 'Yes')]);
    const edited = await saveChat(store, threadId, [user('u-1', 'Porto in May?')]);
    expect([edited.updated, edited.replacedId, edited.added[0]!.parentEntryId]).toEqual([null, first.added[0]!.id, null]);
  });

  it('stores an edited later message as a sibling under the same parent, the old branch kept', async () => {
    const first = await saveChat(store, threadId, [user('u-1', 'q1'), assistant('a-1', 'r1'), user('u-2', 'q2'), assistant('a-2', 'r2')]);
    const edited = await saveChat(store, threadId, [user('u-1', 'q1'), assistant('a-1', 'r1'), user('u-2', 'q2, edited'), assistant('a-3', 'r3')]);
    expect(edited.added[0]!.parentEntryId).toBe(first.added[1]!.id);
    store.setCurrentLeafId(threadId, first.added[3]!.id);
    expect(await loadChat<Msg>(store, threadId)).toStrictEqual([user('u-1', 'q1'), assistant('a-1', 'r1'), user('u-2', 'q2'), assistant('a-2', 'r2')]);
  });
});

describe('refusals change nothing', () => {
  const stored = [user('u-1', 'q1'), assistant('a-1', 'r1'), user('u-2', 'q2'), assistant('a-2', 'r2')];
  const [u1, a1, u2, a2] = stored as [Msg, Msg, Msg, Msg];

  beforeEach(async () => {
    await saveChat(store, threadId, stored);
  });

  it.each<[string, Msg[]]>([
    ['an unknown message in the middle', [u1, user('x', 'inserted'), a1, u2, a2]],
    ['messages in another order', [u1, u2, a1, a2]],
    ['a stored message missing from the middle', [u1, u2, a2, user('u-3', 'q3')]],
    ['a stored message changed while later ones are kept', [u1, assistant('a-1', 'r1, rewritten'), u2, a2]],
    ['a regenerated answer followed by a stored message', [u1, assistant('a-1b', 'again'), u2]],
  ])('refuses %s with INVALID_ARGUMENT', async (_name, messages) => {
    const before = bytes();
    expect((await refusal(messages)).code).toBe('INVALID_ARGUMENT');
    expect(bytes()).toEqual(before);
  });

  const cycle: Record<string, unknown> = { a: 1 };
  cycle['self'] = cycle;
  const hole: unknown[] = [1, , 3];
  it.each<[string, unknown, string]>([
    ['a function', () => 1, 'messages[6].parts[0].output'],
    ['a Date', new Date(0), 'messages[6].parts[0].output'],
    ['a Map', new Map(), 'messages[6].parts[0].output'],
    ['a BigInt', 10n, 'messages[6].parts[0].output'],
    ['NaN', Number.NaN, 'messages[6].parts[0].output'],
    ['Infinity', Number.POSITIVE_INFINITY, 'messages[6].parts[0].output'],
    ['a symbol', Symbol('s'), 'messages[6].parts[0].output'],
    ['a hole in an array', hole, 'messages[6].parts[0].output[1]'],
    ['a lone surrogate', 'bad \ud800', 'messages[6].parts[0].output'],
    ['a cycle', cycle, 'messages[6].parts[0].output.self'],
  ])('refuses %s in the parts of the last new message, before writing the new ones before it', async (_name, value, field) => {
    const bad = { id: 'a-4', role: 'assistant', parts: [{ ...weather, state: 'output-available', input: { city: 'x' }, output: value }] };
    const before = bytes();
    const error = await refusal([...stored, user('u-3', 'q3'), assistant('a-3', 'r3'), bad]);
    expect([error.code, error.details?.['field']]).toEqual(['INVALID_ARGUMENT', field]);
    expect(bytes()).toEqual(before);
  });

  it('refuses a cycle in metadata', async () => {
    const before = bytes();
    const error = await refusal([...stored, { ...user('u-3', 'q3'), metadata: cycle }]);
    expect([error.code, error.details?.['field']]).toEqual(['INVALID_ARGUMENT', 'messages[4].metadata.self']);
    expect(bytes()).toEqual(before);
  });

  it.each<[string, unknown, string]>([
    ['a list that is not an array', { 0: u1 }, 'messages'],
    ['a message that is not an object', [u1, 'hi'], 'messages[1]'],
    ['a message without an id', [...stored, { role: 'user', parts: [] }], 'messages[4].id'],
    ['an empty id', [...stored, { id: '', role: 'user', parts: [] }], 'messages[4].id'],
    ['an id given twice', [...stored, user('u-3', 'a'), user('u-3', 'b')], 'messages[5].id'],
    ['a role UIMessage does not have', [...stored, { id: 't', role: 'tool', parts: [] }], 'messages[4].role'],
    ['parts that are not an array', [...stored, { id: 'u-3', role: 'user', parts: 'hi' }], 'messages[4].parts'],
    ['a part without a type', [...stored, { id: 'u-3', role: 'user', parts: [{ text: 'hi' }] }], 'messages[4].parts[0].type'],
  ])('refuses %s', async (_name, messages, field) => {
    const before = bytes();
    const error = await refusal(messages);
    expect([error.code, error.details?.['field']]).toEqual(['INVALID_ARGUMENT', field]);
    expect(bytes()).toEqual(before);
  });

  it('refuses a thread that does not exist with NOT_FOUND', async () => {
    const before = bytes();
    await expect(saveChat(store, 'nope', [u1])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(bytes()).toEqual(before);
  });
});

/** An assistant message as useChat builds it from a server's UI message stream. */
async function streamedMessage(): Promise<Msg> {
  const chunks: UIMessageChunk[] = [
    { type: 'start', messageId: 'srv-1', messageMetadata: { model: 'gpt-x', createdAt: 1 } },
    { type: 'start-step' },
    { type: 'reasoning-start', id: 'r-1' },
    { type: 'reasoning-delta', id: 'r-1', delta: 'Weather needs a tool.' },
    { type: 'reasoning-end', id: 'r-1' },
    { type: 'tool-input-start', toolCallId: 'call-1', toolName: 'getWeather' },
    { type: 'tool-input-delta', toolCallId: 'call-1', inputTextDelta: '{"city":"Lisbon"}' },
    { type: 'tool-input-available', toolCallId: 'call-1', toolName: 'getWeather', input: { city: 'Lisbon' } },
    { type: 'tool-output-available', toolCallId: 'call-1', output: { tempC: 21, sky: 'clear' } },
    { type: 'tool-input-start', toolCallId: 'call-2', toolName: 'search_docs', dynamic: true },
    { type: 'tool-input-available', toolCallId: 'call-2', toolName: 'search_docs', input: { q: 'trams' }, dynamic: true },
    { type: 'tool-output-error', toolCallId: 'call-2', errorText: 'index offline', dynamic: true },
    { type: 'finish-step' },
    { type: 'start-step' },
    { type: 'source-url', sourceId: 'src-1', url: 'https://www.ipma.pt', title: 'IPMA' },
    { type: 'data-weather', id: 'w-1', data: { city: 'Lisbon', status: 'done' } },
    { type: 'text-start', id: 't-1' },
    { type: 'text-delta', id: 't-1', delta: 'Sunny, ' },
    { type: 'text-delta', id: 't-1', delta: '21 °C.' },
    { type: 'text-end', id: 't-1' },
    { type: 'file', url: 'https://example.com/map.png', mediaType: 'image/png' },
    { type: 'finish-step' },
    { type: 'finish', messageMetadata: { model: 'gpt-x', createdAt: 1, usage: { inputTokens: 3, outputTokens: 4 } } },
  ];
  const stream = new ReadableStream<UIMessageChunk>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  let last: Msg | undefined;
  for await (const message of readUIMessageStream<Msg>({ stream, onError: (e) => { throw e; } })) last = message;
  return structuredClone(last!);
}
