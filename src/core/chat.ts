import type { SqlDriver } from '../driver/port.js';
import { StoreError } from './errors.js';
import { addAsLeaf, currentLeaf, getMessageRow, setLeafRow, threadOfMessage, validateMessage, walkBranch } from './messages.js';
import { statusOf } from './streaming.js';
import { num, numOrNull } from './rows.js';
import type { SessionIndex } from './session-index.js';
import { getThreadRow, requireThread, saveThread, touchThread, upsertThreadRow, validateThread } from './threads.js';
import type { BranchMessage, ChatRole, MessageRecord, MessageStatus, ThreadMetadata } from './types.js';
import * as v from './validate.js';

/**
 * The app layer's logic: thread creation with defaults, partial updates, messages that answer a
 * chosen parent, and the current branch with what a chat UI draws. It writes the same tables through
 * the same table modules as the seed's operations, so neither layer bypasses the other's rules.
 */

export const CHAT_ROLES: readonly ChatRole[] = ['user', 'assistant', 'system', 'tool'];

// Every field upsertThread knows, so a patch with a typo is refused instead of ignored.
const THREAD_FIELDS = new Set([
  'id', 'rolloutPath', 'preview', 'ephemeral', 'modelProvider', 'createdAt', 'updatedAt', 'status', 'path', 'cwd', 'cliVersion', 'source', 'name',
  'sandboxPolicy', 'approvalMode', 'archived', 'archivedAt', 'gitSha', 'gitBranch', 'gitOriginUrl', 'memoryMode', 'title',
]);

/** Folds `title` into `name` and refuses unknown fields; `field` names the argument in errors. */
function threadFields(input: unknown, field: string, forbidden: readonly string[]): Record<string, unknown> {
  const given = v.record(input, field);
  for (const key of Object.keys(given)) {
    if (!THREAD_FIELDS.has(key) || forbidden.includes(key)) {
      throw new StoreError('INVALID_ARGUMENT', `${field}.${key} is not a field that can be set here`, { details: { field: `${field}.${key}` } });
    }
  }
  const { title: rawTitle, ...rest } = given;
  if (rawTitle !== undefined) {
    const title = v.optionalText(rawTitle, `${field}.title`);
    if (rest['name'] !== undefined && rest['name'] !== title) {
      throw new StoreError('INVALID_ARGUMENT', `${field}.title and ${field}.name differ; give one`, { details: { field: `${field}.title` } });
    }
    rest['name'] = title;
  }
  return rest;
}

/** createThread's input with every default filled in, validated as upsertThread validates. */
export function validateNewThread(input: unknown, now: number, newId: () => string) {
  const given = threadFields(input === undefined ? {} : input, 'input', ['currentLeafId']);
  const defaults = { preview: '', ephemeral: false, modelProvider: '', createdAt: now, updatedAt: now, status: 'idle', cwd: '', cliVersion: '', source: 'api' };
  return validateThread({ ...defaults, ...given, id: given['id'] ?? newId() }, 'input');
}

/** Inserts a new thread; CONFLICT when the id is taken, and then nothing is written. */
export function createThreadRow(db: SqlDriver, index: SessionIndex, t: ReturnType<typeof validateThread>): ThreadMetadata {
  if (getThreadRow(db, t.id)) throw new StoreError('CONFLICT', `thread ${t.id} already exists`, { details: { threadId: t.id } });
  saveThread(db, index, t);
  return getThreadRow(db, t.id)!;
}

/** Applies a validated patch; the name goes to the session index only when it changed. NOT_FOUND for a missing thread. */
export function updateThreadRow(db: SqlDriver, index: SessionIndex, id: string, patch: unknown): ThreadMetadata {
  const current = getThreadRow(db, id);
  if (!current) throw new StoreError('NOT_FOUND', `thread ${id} not found`, { details: { threadId: id } });
  const changes = threadFields(patch, 'patch', ['id', 'currentLeafId']);
  const { currentLeafId: _leaf, ...kept } = current;
  const next = validateThread({ ...kept, ...changes }, 'patch');
  if (next.name !== current.name) saveThread(db, index, next);
  else upsertThreadRow(db, next);
  return getThreadRow(db, id)!;
}

/** addMessage's message, validated; `parentId` stays undefined (the current leaf), null (a new root) or an id. */
export function validateChatMessage(input: unknown) {
  const m = v.record(input, 'message');
  const role = v.oneOf(m['role'], 'message.role', CHAT_ROLES);
  return { ...validateMessage(role, m['content'], m['item'], 'message.'), parentId: validateParentId(m['parentId'], 'message.parentId') };
}

/** A parentId as the app layer takes it: undefined (the current leaf), null (a new root) or a message id. */
export function validateParentId(value: unknown, field: string): number | null | undefined {
  return value === undefined ? undefined : value === null ? null : v.messageId(value, field);
}

/**
 * The parent a new message answers: the current leaf when `parentId` is undefined, else `parentId`
 * itself, which must be null or a message of the thread (INVALID_ARGUMENT for another thread's,
 * NOT_FOUND for a missing one). NOT_FOUND when the thread does not exist.
 */
export function resolveParent(db: SqlDriver, threadId: string, parentId: number | null | undefined, field: string): number | null {
  requireThread(db, threadId);
  if (parentId === undefined) return currentLeaf(db, threadId);
  if (parentId !== null && threadOfMessage(db, parentId) !== threadId) {
    throw new StoreError('INVALID_ARGUMENT', `message ${parentId} is not in thread ${threadId}`, { details: { field, threadId } });
  }
  return parentId;
}

/**
 * Adds a message under the given parent (or the current leaf), makes it the leaf and moves the
 * thread's updatedAt to `now`, all in the caller's transaction. A parent of another thread is
 * INVALID_ARGUMENT, a missing one NOT_FOUND; either way nothing is written.
 */
export function addChatMessage(db: SqlDriver, index: SessionIndex, threadId: string, m: ReturnType<typeof validateChatMessage>, now: number): MessageRecord {
  const parentEntryId = resolveParent(db, threadId, m.parentId, 'message.parentId');
  const { role, content, itemJson } = m;
  const id = addAsLeaf(db, index, { threadId, role, content, itemJson, createdAt: now, parentEntryId });
  touchThread(db, threadId, now);
  return { id, threadId, role, content, item: v.parseStoredJson(itemJson), createdAt: now, parentEntryId };
}

/** updateMessage's patch, validated as addMessage validates content and item; an unknown field is refused. */
export function validateMessagePatch(input: unknown): { content?: string; itemJson?: string | null } {
  const patch = v.record(input, 'patch');
  for (const key of Object.keys(patch)) {
    if (key !== 'content' && key !== 'item') {
      throw new StoreError('INVALID_ARGUMENT', `patch.${key} is not a field that can be changed (content, item)`, { details: { field: `patch.${key}` } });
    }
  }
  return {
    ...(patch['content'] !== undefined ? { content: v.text(patch['content'], 'patch.content') } : {}),
    ...('item' in patch && patch['item'] !== undefined ? { itemJson: v.optionalJson(patch['item'], 'patch.item') } : {}),
  };
}

/**
 * Changes a message's content and/or item in place (no fork: its id, parent, role and place in the
 * tree stay) and moves its thread's updatedAt to `now`. NOT_FOUND for a missing message; CONFLICT
 * while it is streaming, because its writer's next delta would land on top of the new text.
 */
export function updateChatMessage(db: SqlDriver, messageId: number, patch: ReturnType<typeof validateMessagePatch>, now: number): MessageRecord {
  const { status, threadId } = statusOf(db, messageId);
  if (status === 'streaming') {
    throw new StoreError('CONFLICT', `message ${messageId} is still streaming; finish it before updating it`, { details: { messageId, status } });
  }
  if (patch.content !== undefined) db.run('UPDATE messages SET content = ?2 WHERE id = ?1 AND content IS NOT ?2', [messageId, patch.content]);
  if (patch.itemJson !== undefined) db.run('UPDATE messages SET item_json = ?2 WHERE id = ?1 AND item_json IS NOT ?2', [messageId, patch.itemJson]);
  touchThread(db, threadId, now);
  return getMessageRow(db, messageId)!;
}

/**
 * The current branch, oldest first, each message with its status and its place among its siblings:
 * one statement gives the branch with each message's status and siblings (of the same thread, ids
 * ascending). Where the walk fell back to the seed's query, two more queries give them.
 */
export function branchWithSiblings(db: SqlDriver, threadId: string, limit: number): BranchMessage[] {
  requireThread(db, threadId);
  const walked = walkBranch(db, threadId, limit, true);
  const { branch } = walked;
  if (branch.length === 0) return [];
  const children = walked.siblings ?? siblingsByQuery(db, threadId, branch);
  for (const ids of children) if (ids.length > 1) ids.sort((a, b) => a - b);
  const statuses = walked.statuses ?? statusesByQuery(db, branch);
  return branch.map((m, i): BranchMessage => {
    const ids = children[i]!.length > 0 ? children[i]! : [m.id];
    // A literal of one fixed shape: spreading `m` into a wider object cost more than the branch's SQL.
    return {
      id: m.id,
      threadId: m.threadId,
      role: m.role,
      content: m.content,
      item: m.item,
      createdAt: m.createdAt,
      parentEntryId: m.parentEntryId,
      status: (statuses[i] ?? 'complete') as MessageStatus,
      siblings: { index: ids.indexOf(m.id), count: ids.length, ids },
    };
  });
}

/**
 * Where a switch to `messageId` lands: of the messages at or below it in its thread that have no
 * children (the ends of the branches through it), the one written last: the newest `created_at`, and
 * on a tie the larger id (one device hands out ids in order; `created_at` also orders messages that
 * another device wrote, whose ids come from another site). A message with nothing below it is its own
 * leaf. The walk follows parent links within the thread by idx_messages_thread_parent; UNION drops a
 * message seen twice, so a loop in rows another program wrote ends it, and a loop with no end below
 * leaves the message itself.
 */
export function newestLeafUnder(db: SqlDriver, threadId: string, messageId: number): number {
  const row = db.all(
    `WITH RECURSIVE below(id) AS (
       SELECT ?2
       UNION
       SELECT m.id FROM below b JOIN messages m ON m.thread_id = ?1 AND m.parent_entry_id = b.id
     )
     SELECT m.id FROM below b JOIN messages m ON m.id = b.id
     WHERE NOT EXISTS (SELECT 1 FROM messages c WHERE c.thread_id = ?1 AND c.parent_entry_id = b.id)
     ORDER BY m.created_at DESC, m.id DESC
     LIMIT 1`,
    [threadId, messageId],
  )[0];
  return row ? num(row['id']) : messageId;
}

/**
 * Makes the newest leaf under `messageId` the thread's current leaf (see newestLeafUnder) and returns
 * the new branch as getBranch gives it. NOT_FOUND for a missing thread, or a message that is not one
 * of the thread's (as setCurrentLeafId).
 */
export function switchToBranch(db: SqlDriver, threadId: string, messageId: number, limit: number): BranchMessage[] {
  requireThread(db, threadId);
  if (threadOfMessage(db, messageId) !== threadId) {
    throw new StoreError('NOT_FOUND', `message ${messageId} is not in thread ${threadId}`, { details: { threadId, messageId } });
  }
  setLeafRow(db, threadId, newestLeafUnder(db, threadId, messageId));
  return branchWithSiblings(db, threadId, limit);
}

/** Each branch message's message_status value, null where it has none: for a branch the walk could not read. */
function statusesByQuery(db: SqlDriver, branch: readonly MessageRecord[]): unknown[] {
  const statuses = new Map<number, unknown>();
  for (const row of db.all('SELECT message_id, status FROM message_status WHERE message_id IN (SELECT value FROM json_each(?1))', [
    JSON.stringify(branch.map((m) => m.id)),
  ])) {
    statuses.set(num(row['message_id']), row['status']);
  }
  return branch.map((m) => statuses.get(m.id) ?? null);
}

/** Each branch message's siblings in the thread (its parent's children), from its rows: for a branch the walk could not read. */
function siblingsByQuery(db: SqlDriver, threadId: string, branch: readonly MessageRecord[]): number[][] {
  const parents = JSON.stringify([...new Set(branch.flatMap((m) => (m.parentEntryId === null ? [] : [m.parentEntryId])))]);
  const hasRoot = branch[0]!.parentEntryId === null ? 1 : 0;
  const children = new Map<number | null, number[]>();
  for (const row of db.all(
    `SELECT id, parent_entry_id FROM messages
     WHERE thread_id = ?1 AND (parent_entry_id IN (SELECT value FROM json_each(?2)) OR (?3 AND parent_entry_id IS NULL))
     ORDER BY id`,
    [threadId, parents, hasRoot],
  )) {
    const parent = numOrNull(row['parent_entry_id']);
    const list = children.get(parent) ?? [];
    list.push(num(row['id']));
    children.set(parent, list);
  }
  return branch.map((m) => children.get(m.parentEntryId) ?? []);
}
