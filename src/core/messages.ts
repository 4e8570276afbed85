import type { SqlDriver, SqlRow } from '../driver/port.js';
import { StoreError } from './errors.js';
import { num, numOrNull, str } from './rows.js';
import type { SessionIndex } from './session-index.js';
import { nameUntitledThread } from './titles.js';
import type { MessageRecord } from './types.js';
import * as v from './validate.js';
import { parseStoredJson } from './validate.js';

/** The `messages` table: a tree per thread, linked by parent_entry_id, walked from current_leaf_id. */

export const MESSAGE_COLUMNS = 'id, thread_id, role, content, item_json, created_at, parent_entry_id';

/** Maps a `messages` row. */
export function toMessage(row: SqlRow): MessageRecord {
  return {
    id: num(row['id']),
    threadId: str(row['thread_id']),
    role: str(row['role']),
    content: str(row['content']),
    item: parseStoredJson(row['item_json']),
    createdAt: num(row['created_at']),
    parentEntryId: numOrNull(row['parent_entry_id']),
  };
}

/** What a new message carries; the item is already serialized. */
export interface NewMessage {
  threadId: string;
  role: string;
  content: string;
  itemJson: string | null;
  createdAt: number;
  parentEntryId: number | null;
}

/** A new message's role and content checked, its item serialized; `prefix` names the object they came in (`message.`). */
export function validateMessage(role: unknown, content: unknown, item: unknown, prefix = ''): Pick<NewMessage, 'role' | 'content' | 'itemJson'> {
  return { role: v.nonEmpty(role, `${prefix}role`), content: v.text(content, `${prefix}content`), itemJson: v.optionalJson(item, `${prefix}item`) };
}

/** Inserts a message and makes it the thread's current leaf; the seed's two statements. Returns its id. */
export function insertAsLeaf(db: SqlDriver, m: NewMessage): number {
  const row = db.all(
    `INSERT INTO messages(thread_id, role, content, item_json, created_at, parent_entry_id)
     SELECT ?1, ?2, ?3, ?4, ?5, ?6
     RETURNING id`,
    [m.threadId, m.role, m.content, m.itemJson, m.createdAt, m.parentEntryId],
  )[0];
  const id = num(row?.['id']);
  db.run('UPDATE threads SET current_leaf_id = ?1 WHERE id = ?2', [id, m.threadId]);
  return id;
}

/** The thread's current leaf; NOT_FOUND when the thread does not exist. */
export function currentLeaf(db: SqlDriver, threadId: string): number | null {
  const row = db.all('SELECT current_leaf_id FROM threads WHERE id = ?1', [threadId])[0];
  if (!row) throw new StoreError('NOT_FOUND', `thread ${threadId} not found`, { details: { threadId } });
  return numOrNull(row['current_leaf_id']);
}

/** Moves the thread's leaf to a message of its own; NOT_FOUND for a message of another thread. */
export function setLeafRow(db: SqlDriver, threadId: string, messageId: number): void {
  if (threadOfMessage(db, messageId) !== threadId) {
    throw new StoreError('NOT_FOUND', `message ${messageId} is not in thread ${threadId}`, { details: { threadId, messageId } });
  }
  db.run('UPDATE threads SET current_leaf_id = ?1 WHERE id = ?2', [messageId, threadId]);
}

/** One message, or null. */
export function getMessageRow(db: SqlDriver, messageId: number): MessageRecord | null {
  const row = db.all(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = ?1`, [messageId])[0];
  return row ? toMessage(row) : null;
}

/** Replaces a message's item (already serialized). */
export function setItemRow(db: SqlDriver, messageId: number, itemJson: string | null): void {
  db.run('UPDATE messages SET item_json = ?2 WHERE id = ?1', [messageId, itemJson]);
}

/** The thread a message belongs to; NOT_FOUND when the message does not exist. */
export function threadOfMessage(db: SqlDriver, messageId: number): string {
  const row = db.all('SELECT thread_id FROM messages WHERE id = ?1', [messageId])[0];
  if (!row) throw new StoreError('NOT_FOUND', `message ${messageId} not found`, { details: { messageId } });
  return str(row['thread_id']);
}

/**
 * The current branch, oldest first: the seed's recursive walk from current_leaf_id up through
 * parent_entry_id, at most `limit` messages (the ones nearest the leaf).
 */
export function listBranch(db: SqlDriver, threadId: string, limit: number): MessageRecord[] {
  return db
    .all(
      `WITH RECURSIVE
         leaf_id AS (SELECT current_leaf_id FROM threads WHERE id = ?1),
         ancestors AS (
           SELECT ${MESSAGE_COLUMNS}, 0 AS depth
           FROM messages
           WHERE id = (SELECT current_leaf_id FROM leaf_id)
           UNION ALL
           SELECT m.id, m.thread_id, m.role, m.content, m.item_json, m.created_at, m.parent_entry_id, a.depth + 1
           FROM messages m
           JOIN ancestors a ON m.id = a.parent_entry_id
           WHERE a.depth < ?2
         )
       SELECT ${MESSAGE_COLUMNS} FROM ancestors ORDER BY depth DESC`,
      [threadId, limit - 1],
    )
    .map(toMessage);
}

/** Every message of a thread, every branch, in id order (parents before children): the whole tree for a UI. */
export function listAllMessages(db: SqlDriver, threadId: string, limit: number): MessageRecord[] {
  return db.all(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE thread_id = ?1 ORDER BY id LIMIT ?2`, [threadId, limit]).map(toMessage);
}

/** Messages no other message names as its parent, in id order (the seed leaves the order open). */
export function listLeaves(db: SqlDriver, threadId: string): MessageRecord[] {
  return db
    .all(
      `SELECT m1.id, m1.thread_id, m1.role, m1.content, m1.item_json, m1.created_at, m1.parent_entry_id
       FROM messages m1
       LEFT JOIN messages m2 ON m1.id = m2.parent_entry_id
       WHERE m1.thread_id = ?1 AND m2.id IS NULL
       ORDER BY m1.id`,
      [threadId],
    )
    .map(toMessage);
}

/** Deletes a thread's messages and resets its leaf; returns how many were deleted. */
export function clearThreadMessages(db: SqlDriver, threadId: string): number {
  db.run('UPDATE threads SET current_leaf_id = NULL WHERE id = ?1', [threadId]);
  return db.run('DELETE FROM messages WHERE thread_id = ?1', [threadId]).changes;
}

/** Adds a message as the thread's new leaf; a user message names a thread that has no name yet. */
export function addAsLeaf(db: SqlDriver, index: SessionIndex, m: NewMessage): number {
  const id = insertAsLeaf(db, m);
  nameUntitledThread(db, index, m.threadId, m.role);
  return id;
}
