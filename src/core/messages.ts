import type { SqlDriver, SqlRow, SqlValue } from '../driver/port.js';
import { StoreError } from './errors.js';
import { num, numOrNull, str } from './rows.js';
import type { SessionIndex } from './session-index.js';
import { NEXT_MESSAGE_ID_SQL } from './message-ids.js';
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

/**
 * Inserts a message and makes it the thread's current leaf; the seed's two statements. Returns its id:
 * AUTOINCREMENT's, or the device's next id once sync is on (sync.ts: ids never collide across devices).
 */
export function insertAsLeaf(db: SqlDriver, m: NewMessage): number {
  const row = db.all(
    `INSERT INTO messages(id, thread_id, role, content, item_json, created_at, parent_entry_id)
     SELECT ${NEXT_MESSAGE_ID_SQL}, ?1, ?2, ?3, ?4, ?5, ?6
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
 * parent_entry_id, at most `limit` messages (the ones nearest the leaf), row by row. Used as it
 * stands where a row holds a value JSON cannot carry (see walkBranch).
 */
function listBranchByCte(db: SqlDriver, threadId: string, limit: number): MessageRecord[] {
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

/** The current branch; with `withSiblings`, each message's status (null for none) and its siblings' ids. */
export interface WalkedBranch {
  branch: MessageRecord[];
  statuses?: unknown[];
  siblings?: number[][];
}

/**
 * The current branch, as the seed's recursive query walks it, in one statement whose answer is one
 * JSON array built by SQLite: the walk carries only (id, parent, depth) through the CTE's queue, the
 * rows are joined once at the end, and a thousand rows cross from the engine in one call, not in
 * thousands (the full-row queue, its sort and the per-value calls were most of the time). Each row
 * carries its depth, so the branch is put in order in JS. With `withSiblings`, each row also carries
 * its message_status and its parent's children in the thread (ids ascending, by idx_messages_thread_parent),
 * as getBranch draws them (json() around that subquery keeps it an array on every engine: some drop a
 * subquery's JSON subtype and would embed it as text, Durable Objects keep it). A value JSON cannot hold (a BLOB) runs the seed's query as it stands.
 */
export function walkBranch(db: SqlDriver, threadId: string, limit: number, withSiblings = false): WalkedBranch {
  const extra = withSiblings
    ? `, (SELECT status FROM message_status WHERE message_id = m.id),
         json((SELECT json_group_array(c.id) FROM messages c WHERE c.thread_id = ?1 AND c.parent_entry_id IS m.parent_entry_id))`
    : '';
  let found: unknown[][];
  try {
    const row = db.all(
      `WITH RECURSIVE ancestors(id, parent, depth) AS (
         SELECT id, parent_entry_id, 0 FROM messages WHERE id = (SELECT current_leaf_id FROM threads WHERE id = ?1)
         UNION ALL
         SELECT m.id, m.parent_entry_id, a.depth + 1 FROM ancestors a JOIN messages m ON m.id = a.parent WHERE a.depth < ?2
       )
       SELECT json_group_array(json_array(a.depth, m.id, m.thread_id, m.role, m.content, m.item_json, m.created_at, m.parent_entry_id${extra})) AS rows
       FROM ancestors a JOIN messages m ON m.id = a.id`,
      [threadId, limit - 1],
    )[0];
    found = JSON.parse(String(row?.['rows'])) as unknown[][];
  } catch (error) {
    // SQLite's JSON refuses a BLOB ("JSON cannot hold BLOB values"); any other failure is real.
    if (error instanceof Error && /BLOB/.test(error.message)) return { branch: listBranchByCte(db, threadId, limit) };
    throw error;
  }
  const n = found.length;
  const branch: MessageRecord[] = new Array(n);
  const statuses: unknown[] = withSiblings ? new Array(n) : [];
  const siblings: number[][] = withSiblings ? new Array(n) : [];
  for (const r of found) {
    const at = n - 1 - (r[0] as number);
    branch[at] = {
      id: num(r[1] as SqlValue),
      threadId: str(r[2] as SqlValue),
      role: str(r[3] as SqlValue),
      content: str(r[4] as SqlValue),
      item: parseStoredJson(r[5]),
      createdAt: num(r[6] as SqlValue),
      parentEntryId: numOrNull(r[7] as SqlValue),
    };
    if (withSiblings) {
      statuses[at] = r[8] ?? null;
      siblings[at] = r[9] as number[];
    }
  }
  return withSiblings ? { branch, statuses, siblings } : { branch };
}

/** The current branch, oldest first: at most `limit` messages ending at the thread's current leaf. */
export function listBranch(db: SqlDriver, threadId: string, limit: number): MessageRecord[] {
  return walkBranch(db, threadId, limit).branch;
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
