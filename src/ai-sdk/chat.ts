/**
 * loadChat and saveChat: the Vercel AI SDK's `UIMessage` lists in a thread (`agent-state-store/ai-sdk`).
 *
 * How the two worlds map:
 * - A UIMessage is one store message. `role` goes to the role column, `content` holds the plain text
 *   (its text parts joined by a blank line, so search finds it), and `item` holds everything else:
 *   `{ format: 'ai-sdk/ui-message@1', message: { id, parts, metadata?, …any other key } }`.
 * - The UIMessage's own `id` (a string) is kept in the item and is what loadChat returns. saveChat
 *   recognises a message as already stored by that id, position by position along the current
 *   branch; the store's integer ids never leak into the AI SDK.
 * - A message the store holds without such an item (written by addMessage or the seed's
 *   operations) loads as a text message with the id `store-<message id>`; one whose role the AI SDK
 *   has no name for (`tool`) is left out, and saveChat skips it the same way.
 * - JSON has no `undefined`: an object key whose value is undefined (`metadata: undefined`, as
 *   useChat writes it) is stored as absent, and such a message counts as equal to its stored form.
 * - The store follows useChat's own model: the same assistant id at the same place with new content
 *   (a tool output, an approval, the continuation after them) is the same message, updated in place;
 *   a new id under the same parent (regenerate), or an edited message with answers after it, is a
 *   sibling branch.
 *
 * Nothing here imports `ai` at run time; it only uses its types.
 */
import type { UIMessage } from 'ai';
import { StoreError } from '../core/errors.js';
import type { BranchMessage, BranchOptions, FinishMessageOptions, MessagePatch, MessageRecord, NewChatMessage } from '../core/types.js';
import * as v from '../core/validate.js';

export type Awaitable<T> = T | PromiseLike<T>;

/**
 * What loadChat and saveChat need of a store: the core `StateStore` (synchronous), a
 * `createMemoryStore()` store and the browser client from `openStateStore()` (Promises) all fit.
 *
 * @example
 * const store: ChatStore = await openStateStore({ name: 'chat' }); // or await createMemoryStore()
 * const messages = await loadChat(store, threadId);
 */
export interface ChatStore {
  getBranch(threadId: string, options?: BranchOptions): Awaitable<BranchMessage[]>;
  addMessage(threadId: string, message: NewChatMessage): Awaitable<MessageRecord>;
  updateMessage(messageId: number, patch: MessagePatch): Awaitable<MessageRecord>;
  /** Used, where the store has it, to end a message still streaming that saveChat is given in its final form. */
  finishMessage?(messageId: number, options?: FinishMessageOptions): Awaitable<MessageRecord>;
}

/**
 * The `format` tag of the item saveChat writes; loadChat reads only items that carry it.
 *
 * @example
 * const mine = store.listThreadMessages(threadId).filter((m) => (m.item as { format?: string } | null)?.format === UI_MESSAGE_FORMAT);
 */
export const UI_MESSAGE_FORMAT = 'ai-sdk/ui-message@1';

/**
 * What saveChat did. `added` holds the store records it wrote, oldest first (empty when the list
 * held nothing new). `updated` holds the record it changed in place (the last message, which
 * useChat changed under the same id: a tool output, an approval, a continuation), or null.
 * `replacedId` is the store id of the message a new branch stands beside (the answer that was
 * regenerated, the user message that was edited), or null when it appended or updated.
 *
 * @example
 * const { added, updated, replacedId } = await saveChat(store, threadId, messages);
 * if (replacedId !== null) console.log(`kept message ${replacedId} as another branch`);
 */
export interface SaveChatResult {
  added: MessageRecord[];
  updated: MessageRecord | null;
  replacedId: number | null;
}

const UI_ROLES = ['system', 'user', 'assistant'] as const;
type UIRole = (typeof UI_ROLES)[number];
// The whole branch, however long: saveChat must see every stored message to compare the list with it.
const WHOLE_BRANCH = { limit: Number.MAX_SAFE_INTEGER };
// Deeper than the core's limit (127) is refused by the core's check; this only stops runaway recursion first.
const MAX_DEPTH = 127;
const TEXT_SEPARATOR = '\n\n';

export type JsonObject = { [key: string]: unknown };

/** A message ready to write: its UIMessage as stored (without undefined keys) and the row's columns. */
export interface Prepared {
  ui: JsonObject & { id: string; role: UIRole };
  row: { role: UIRole; content: string; item: { format: string; message: JsonObject } };
}

/**
 * A message of the current branch as the AI SDK sees it (as loadChat gives it), with the form it was
 * saved in (without what loadChat adds) and its store record.
 */
export interface Stored {
  ui: JsonObject & { id: string };
  saved: JsonObject & { id: string };
  record: BranchMessage;
}

function invalid(field: string, problem: string): StoreError {
  return new StoreError('INVALID_ARGUMENT', `${field} ${problem}`, { details: { field } });
}

function isPlainObject(value: object): value is JsonObject {
  if (Array.isArray(value) || typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  return Object.prototype.toString.call(value) === '[object Object]';
}

/**
 * A copy of `value` without the object keys whose value is undefined (JSON has none), refusing
 * cycles. Anything that is not plain data (a Date, a Map, a function) is passed through untouched, so
 * that the core's JSON check refuses it with its path.
 */
function withoutUndefined(value: unknown, path: string, ancestors: Set<object>, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (ancestors.has(value)) throw invalid(path, 'contains a cycle');
  if (depth > MAX_DEPTH) throw invalid(path, `nests deeper than ${MAX_DEPTH} levels`);
  if (!Array.isArray(value) && !isPlainObject(value)) return value;
  ancestors.add(value);
  let copy: unknown;
  if (Array.isArray(value)) {
    // A hole stays a hole (undefined), which the JSON check refuses: JSON would turn it into null.
    copy = Array.from(value, (item, i) => withoutUndefined(item, `${path}[${i}]`, ancestors, depth + 1));
  } else {
    const out: JsonObject = {};
    for (const key of Object.keys(value)) {
      const item = value[key];
      if (item !== undefined) out[key] = withoutUndefined(item, `${path}.${key}`, ancestors, depth + 1);
    }
    copy = out;
  }
  ancestors.delete(value);
  return copy;
}

/** The plain text of a message: its text parts, joined by a blank line. */
export function plainText(parts: unknown[]): string {
  const texts: string[] = [];
  for (const part of parts) {
    const p = part as { type?: unknown; text?: unknown };
    if (p.type === 'text' && typeof p.text === 'string') texts.push(p.text);
  }
  return texts.join(TEXT_SEPARATOR);
}

/**
 * Checks and copies the whole list before anything is written: every message must be an object with
 * a non-empty string id (unique in the list), a role the AI SDK knows and an array of parts, each an
 * object with a type; the whole message must be JSON (no cycles, functions, NaN, Dates, BigInts, …).
 */
export function prepare(messages: unknown): Prepared[] {
  const list = v.list(messages, 'messages');
  const seen = new Set<string>();
  return list.map((message, i) => {
    const field = `messages[${i}]`;
    const m = v.record(message, field);
    if (m['id'] === '') {
      throw invalid(
        `${field}.id`,
        'is empty: the AI SDK gives a streamed answer an id only when the route passes generateMessageId to toUIMessageStream(Response) ' +
          '(or pipes the stream through persistUIMessageStream, which gives it one)',
      );
    }
    const id = v.nonEmpty(m['id'], `${field}.id`);
    if (seen.has(id)) throw invalid(`${field}.id`, `repeats the id ${JSON.stringify(id)} of an earlier message in the list`);
    seen.add(id);
    const role = v.oneOf(m['role'], `${field}.role`, UI_ROLES);
    const parts = v.list(m['parts'], `${field}.parts`);
    parts.forEach((part, j) => v.nonEmpty(v.record(part, `${field}.parts[${j}]`)['type'], `${field}.parts[${j}].type`));
    const ui = withoutUndefined(m, field, new Set(), 0) as Prepared['ui'];
    v.json(ui, field);
    const { role: _role, ...rest } = ui;
    const item = { format: UI_MESSAGE_FORMAT, message: rest };
    // The item nests the message one level deeper; the core checks it again as it is stored.
    v.json(item, `${field} (as stored)`);
    return { ui, row: { role, content: plainText(parts), item } };
  });
}

/** The message as saved (its item), or as a plain text message for one written without the AI SDK; null for a role the AI SDK has no name for. */
export function savedForm(record: MessageRecord): (JsonObject & { id: string }) | null {
  if (!(UI_ROLES as readonly string[]).includes(record.role)) return null;
  const item = record.item as { format?: unknown; message?: unknown } | null;
  if (item !== null && typeof item === 'object' && item.format === UI_MESSAGE_FORMAT) {
    const message = item.message as JsonObject | null;
    if (message !== null && typeof message === 'object' && typeof message['id'] === 'string' && Array.isArray(message['parts'])) {
      const { id, ...rest } = message as JsonObject & { id: string };
      return { id, role: record.role, ...rest };
    }
  }
  return { id: `store-${record.id}`, role: record.role, parts: record.content === '' ? [] : [{ type: 'text', text: record.content }] };
}

/**
 * A stored message as loadChat gives it: as saved, with `metadata.createdAt` (milliseconds, from the
 * store) when the message has none, and for a message that did not complete (`interrupted` after a
 * reload mid-stream, `streaming`, `failed`, `cancelled`) `metadata.status` and the text streamed so
 * far as a text part.
 */
export function toUIMessage(record: BranchMessage, saved: JsonObject & { id: string }): JsonObject & { id: string } {
  const metadata = typeof saved['metadata'] === 'object' && saved['metadata'] !== null && !Array.isArray(saved['metadata']) ? (saved['metadata'] as JsonObject) : {};
  const ui: JsonObject & { id: string } = { ...saved, metadata: { ...metadata, ...(metadata['createdAt'] === undefined ? { createdAt: record.createdAt * 1000 } : {}) } };
  if (record.status !== 'complete') {
    const parts = saved['parts'] as unknown[];
    const known = plainText(parts);
    const more = record.content.startsWith(known) ? record.content.slice(known.length).replace(/^\n\n/, '') : record.content;
    ui['parts'] = more === '' || record.content === known ? parts : [...parts, { type: 'text', text: more }];
    (ui['metadata'] as JsonObject)['status'] = record.status;
  }
  return ui;
}

/** Equality of two JSON values; the order of object keys does not matter. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bs = b as unknown[];
    return a.length === bs.length && a.every((x, i) => jsonEqual(x, bs[i]));
  }
  const ak = Object.keys(a);
  const bo = b as JsonObject;
  return ak.length === Object.keys(bo).length && ak.every((k) => Object.hasOwn(bo, k) && jsonEqual((a as JsonObject)[k], bo[k]));
}

export async function readBranch(store: ChatStore, threadId: string): Promise<{ stored: Stored[]; leaf: number | null }> {
  const branch = await store.getBranch(threadId, WHOLE_BRANCH);
  const stored: Stored[] = [];
  for (const record of branch) {
    const saved = savedForm(record);
    if (saved) stored.push({ ui: toUIMessage(record, saved), saved, record });
  }
  return { stored, leaf: branch.at(-1)?.id ?? null };
}

// One queue per store and thread, so that two saveChat calls (or a loadChat behind a saveChat) on
// the same thread run one after the other: each sees what the one before it wrote.
const queues = new WeakMap<object, Map<string, Promise<unknown>>>();

export function serialized<T>(store: ChatStore, threadId: string, task: () => Promise<T>): Promise<T> {
  let threads = queues.get(store);
  if (!threads) queues.set(store, (threads = new Map()));
  const previous = threads.get(threadId) ?? Promise.resolve();
  const run = previous.then(task, task);
  const settled = run.catch(() => undefined);
  threads.set(threadId, settled);
  void settled.then(() => {
    if (threads.get(threadId) === settled) threads.delete(threadId);
  });
  return run;
}

/**
 * The current branch of a thread as AI SDK `UIMessage`s, oldest first: exactly the messages
 * saveChat stored (every part, metadata and the UIMessage id). Messages written without the AI SDK
 * load as text messages with the id `store-<message id>`; `tool`-role messages are left out.
 * NOT_FOUND if the thread does not exist.
 *
 * @example
 * const messages = await loadChat(store, threadId);
 * const { sendMessage } = useChat({ id: threadId, messages });
 */
export async function loadChat<M extends UIMessage = UIMessage>(store: ChatStore, threadId: string): Promise<M[]> {
  v.nonEmpty(threadId, 'threadId');
  return serialized(store, threadId, async () => (await readBranch(store, threadId)).stored.map((s) => s.ui as unknown as M));
}

/**
 * Stores what is new in `messages`, the whole list as useChat holds it, so it can be called from
 * `onFinish` every time. The list is compared with the current branch, message by message, by
 * UIMessage id and content (a message equals its stored form as saved or as loadChat gives it):
 * - the same messages, or fewer (a prefix of the branch): nothing is written;
 * - the branch and then new messages: the new ones are appended;
 * - the branch's last message with the same id and new content (useChat's tool outputs, approvals
 *   and the continuation after them change the last assistant message in place): it is updated in
 *   place (updateMessage), no branch is made, and new messages after it are appended;
 * - the branch up to some message, then a message that replaces the stored one there and then only
 *   new messages (a regenerated answer has a new id; an edited message keeps its id, with new content,
 *   and the answers after it are dropped): the replacement is added beside the stored one, as a
 *   sibling branch that becomes the current one, and `replacedId` names the one it replaces. The old
 *   branch stays, and setCurrentLeafId (or switchMessageVersion) brings it back.
 *
 * Anything else (an unknown message in the middle, messages in another order, a stored message
 * missing from the middle) is refused with INVALID_ARGUMENT, as is a message that is not plain JSON
 * or has no id (the AI SDK leaves a streamed answer's id empty unless the route passes
 * `generateMessageId`); the whole list is checked before the first write, so a refused call writes
 * nothing. Each message is written atomically; a failure of the store itself midway (a full disk)
 * keeps the messages written so far, and calling saveChat again with the same list writes the rest.
 * Calls on one store and thread run one after the other.
 *
 * @example
 * useChat({ id: threadId, messages: initial, onFinish: ({ messages }) => saveChat(store, threadId, messages) });
 */
export async function saveChat<M extends UIMessage = UIMessage>(store: ChatStore, threadId: string, messages: readonly M[]): Promise<SaveChatResult> {
  v.nonEmpty(threadId, 'threadId');
  // Checked and copied now: useChat goes on changing its messages after onFinish returns.
  const given = prepare(messages);
  return serialized(store, threadId, () => saveBranch(store, threadId, given));
}

/** Whether a given message is the stored one, unchanged: as it was saved, or as loadChat gave it back. */
const unchanged = (given: Prepared, stored: Stored): boolean => jsonEqual(given.ui, stored.saved) || jsonEqual(given.ui, stored.ui);

/** saveChat's work, inside the thread's queue. */
export async function saveBranch(store: ChatStore, threadId: string, given: Prepared[]): Promise<SaveChatResult> {
  const { stored, leaf } = await readBranch(store, threadId);
  let i = 0;
  while (i < given.length && i < stored.length && unchanged(given[i]!, stored[i]!)) i++;
  if (i === given.length) return { added: [], updated: null, replacedId: null };

  const at = stored[i];
  // useChat's in-place change: the last stored message, same id, new content.
  const inPlace = at !== undefined && i === stored.length - 1 && given[i]!.ui.id === at.saved.id;
  const position = new Map(stored.map((s, k) => [s.saved.id, k]));
  for (let k = i; k < given.length; k++) {
    const found = position.get(given[k]!.ui.id);
    if (found === undefined || (k === i && found === i)) continue;
    throw invalid(
      `messages[${k}]`,
      `is stored message ${JSON.stringify(given[k]!.ui.id)}, but the list does not follow the stored branch there ` +
        `(a message unknown, missing, moved or changed before it); load the chat again with loadChat`,
    );
  }

  let parentId: number | null = at ? at.record.parentEntryId : leaf;
  let updated: MessageRecord | null = null;
  let rest = given.slice(i);
  if (inPlace) {
    const { content, item } = given[i]!.row;
    // The stream that saved it as it came (persistUIMessageStream) may not have finished it yet: this is its final form.
    if (at.record.status === 'streaming' && store.finishMessage) await store.finishMessage(at.record.id, {});
    updated = await store.updateMessage(at.record.id, { content, item });
    parentId = updated.id;
    rest = rest.slice(1);
  }
  const added: MessageRecord[] = [];
  for (const { row } of rest) {
    const record = await store.addMessage(threadId, { ...row, parentId });
    added.push(record);
    parentId = record.id;
  }
  return { added, updated, replacedId: at && !inPlace ? at.record.id : null };
}
