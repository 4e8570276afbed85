/**
 * `agent-state-store/ai-sdk`: keep the Vercel AI SDK's `UIMessage` lists in the store.
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
 *
 * Nothing here imports `ai` at run time; it only uses its types.
 *
 * @module agent-state-store/ai-sdk
 */
import type { UIMessage } from 'ai';
import { StoreError } from '../core/errors.js';
import type { BranchMessage, BranchOptions, MessageRecord, NewChatMessage } from '../core/types.js';
import * as v from '../core/validate.js';

type Awaitable<T> = T | PromiseLike<T>;

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
 * held nothing new). `replacedId` is the store id of the message the new branch stands beside (the
 * answer that was regenerated, the user message that was edited), or null when it only appended.
 *
 * @example
 * const { added, replacedId } = await saveChat(store, threadId, messages);
 * if (replacedId !== null) console.log(`kept message ${replacedId} as another branch`);
 */
export interface SaveChatResult {
  added: MessageRecord[];
  replacedId: number | null;
}

const UI_ROLES = ['system', 'user', 'assistant'] as const;
type UIRole = (typeof UI_ROLES)[number];
// The whole branch, however long: saveChat must see every stored message to compare the list with it.
const WHOLE_BRANCH = { limit: Number.MAX_SAFE_INTEGER };
// Deeper than the core's limit (127) is refused by the core's check; this only stops runaway recursion first.
const MAX_DEPTH = 127;
const TEXT_SEPARATOR = '\n\n';

type JsonObject = { [key: string]: unknown };

/** A message ready to write: its UIMessage as stored (without undefined keys) and the row's columns. */
interface Prepared {
  ui: JsonObject & { id: string; role: UIRole };
  row: { role: UIRole; content: string; item: { format: string; message: JsonObject } };
}

/** A message of the current branch as the AI SDK sees it, with its store record. */
interface Stored {
  ui: JsonObject & { id: string };
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
function plainText(parts: unknown[]): string {
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
function prepare(messages: unknown): Prepared[] {
  const list = v.list(messages, 'messages');
  const seen = new Set<string>();
  return list.map((message, i) => {
    const field = `messages[${i}]`;
    const m = v.record(message, field);
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

/** A stored message as a UIMessage, or null for a role the AI SDK has no name for. */
function toUIMessage(record: MessageRecord): (JsonObject & { id: string }) | null {
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

async function readBranch(store: ChatStore, threadId: string): Promise<{ stored: Stored[]; leaf: number | null }> {
  const branch = await store.getBranch(threadId, WHOLE_BRANCH);
  const stored: Stored[] = [];
  for (const record of branch) {
    const ui = toUIMessage(record);
    if (ui) stored.push({ ui, record });
  }
  return { stored, leaf: branch.at(-1)?.id ?? null };
}

// One queue per store and thread, so that two saveChat calls (or a loadChat behind a saveChat) on
// the same thread run one after the other: each sees what the one before it wrote.
const queues = new WeakMap<object, Map<string, Promise<unknown>>>();

function serialized<T>(store: ChatStore, threadId: string, task: () => Promise<T>): Promise<T> {
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
 * UIMessage id and content:
 * - the same messages, or fewer (a prefix of the branch): nothing is written;
 * - the branch and then new messages: the new ones are appended;
 * - the branch up to some message, then a message that replaces the stored one there (a
 *   regenerated answer has a new id; an edited message keeps its id with new content) and then only
 *   new messages: the replacement is added beside the stored one, as a sibling branch that becomes
 *   the current one, and the rest follow it. The old branch stays and setCurrentLeafId brings it back.
 *
 * Anything else (an unknown message in the middle, messages in another order, a stored message
 * missing from the middle, a stored message changed while later ones are kept) is refused with
 * INVALID_ARGUMENT, as is a message that is not plain JSON; the whole list is checked before the
 * first write, so a refused call writes nothing. Each message is written atomically; a failure of
 * the store itself midway (a full disk) keeps the messages written so far, and calling saveChat again
 * with the same list writes the rest. Calls on one store and thread run one after the other.
 *
 * @example
 * useChat({ id: threadId, messages: initial, onFinish: ({ messages }) => saveChat(store, threadId, messages) });
 */
export async function saveChat<M extends UIMessage = UIMessage>(store: ChatStore, threadId: string, messages: readonly M[]): Promise<SaveChatResult> {
  v.nonEmpty(threadId, 'threadId');
  // Checked and copied now: useChat goes on changing its messages after onFinish returns.
  const given = prepare(messages);
  return serialized(store, threadId, async () => {
    const { stored, leaf } = await readBranch(store, threadId);
    let i = 0;
    while (i < given.length && i < stored.length && jsonEqual(given[i]!.ui, stored[i]!.ui)) i++;
    if (i === given.length) return { added: [], replacedId: null };

    const replaced = i < stored.length ? stored[i]!.record : null;
    const position = new Map(stored.map((s, k) => [s.ui.id, k]));
    for (let k = i; k < given.length; k++) {
      const at = position.get(given[k]!.ui.id);
      if (at === undefined || (k === i && at === i)) continue;
      throw invalid(
        `messages[${k}]`,
        `is stored message ${JSON.stringify(given[k]!.ui.id)}, but the list does not follow the stored branch there ` +
          `(a message unknown, missing, moved or changed before it); load the chat again with loadChat`,
      );
    }

    let parentId: number | null = replaced ? replaced.parentEntryId : leaf;
    const added: MessageRecord[] = [];
    for (const { row } of given.slice(i)) {
      const record = await store.addMessage(threadId, { ...row, parentId });
      added.push(record);
      parentId = record.id;
    }
    return { added, replacedId: replaced?.id ?? null };
  });
}
