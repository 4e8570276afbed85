import type { SqlDriver } from '../driver/port.js';
import { StoreError } from './errors.js';
import { num, str } from './rows.js';
import { getMessageRow, insertAsLeaf, setItemRow, type NewMessage } from './messages.js';
import type { SessionIndex } from './session-index.js';
import { nameUntitledThread } from './titles.js';
import type { MessageRecord, MessageStatus } from './types.js';

/**
 * The `message_status` side table of streamed messages (seed 003's append_message_delta). A message
 * with no row is a plain, complete one, which is all a seed reader ever sees.
 */

export const FINAL_STATUSES = ['complete', 'failed', 'cancelled'] as const;

/** A message's status and thread; NOT_FOUND when the message does not exist. */
export function statusOf(db: SqlDriver, messageId: number): { status: MessageStatus; threadId: string } {
  const row = db.all(
    `SELECT m.thread_id, coalesce(s.status, 'complete') AS status
     FROM messages m LEFT JOIN message_status s ON s.message_id = m.id
     WHERE m.id = ?1`,
    [messageId],
  )[0];
  if (!row) throw new StoreError('NOT_FOUND', `message ${messageId} not found`, { details: { messageId } });
  return { status: str(row['status']) as MessageStatus, threadId: str(row['thread_id']) };
}

/** Fails with CONFLICT unless the message is still streaming. Returns its thread. */
export function requireStreaming(db: SqlDriver, messageId: number): string {
  const { status, threadId } = statusOf(db, messageId);
  if (status !== 'streaming') {
    throw new StoreError('CONFLICT', `message ${messageId} is not streaming (it is ${status})`, { details: { messageId, status } });
  }
  return threadId;
}

/** Sets a message's status. */
export function setStatus(db: SqlDriver, messageId: number, status: MessageStatus, now: number): void {
  db.run(
    `INSERT INTO message_status(message_id, status, updated_at) VALUES (?1, ?2, ?3)
     ON CONFLICT(message_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
    [messageId, status, now],
  );
}

/** Appends text to a message; the FTS trigger re-indexes the whole message in the same transaction. */
export function appendText(db: SqlDriver, messageId: number, delta: string, now: number): void {
  db.run('UPDATE messages SET content = content || ?2 WHERE id = ?1', [messageId, delta]);
  db.run('UPDATE message_status SET updated_at = ?2 WHERE message_id = ?1', [messageId, now]);
}

/** Marks every message still `streaming` as `interrupted`, keeping its text, but those in `except`; returns their ids. */
export function markInterrupted(db: SqlDriver, now: number, except: readonly number[] = []): number[] {
  return db
    .all(
      `UPDATE message_status SET status = 'interrupted', updated_at = ?1
       WHERE status = 'streaming' AND message_id IN (SELECT id FROM messages)
         AND message_id NOT IN (SELECT value FROM json_each(?2))
       RETURNING message_id`,
      [now, JSON.stringify(except)],
    )
    .map((row) => num(row['message_id']))
    .sort((a, b) => a - b);
}

/** Starts a streamed message: the thread's new leaf, status "streaming". Returns its id. */
export function beginStream(db: SqlDriver, m: NewMessage): number {
  const id = insertAsLeaf(db, m);
  setStatus(db, id, 'streaming', m.createdAt);
  return id;
}

/** Appends a delta to a message that must still be streaming; an empty one only checks. */
export function appendDelta(db: SqlDriver, messageId: number, delta: string, now: number): void {
  requireStreaming(db, messageId);
  if (delta !== '') appendText(db, messageId, delta, now);
}

/**
 * Ends a stream with a final status, replacing the item when one is given (already serialized). A
 * completed user message names an unnamed thread. Returns the message.
 */
export function finishStream(
  db: SqlDriver,
  index: SessionIndex,
  messageId: number,
  status: (typeof FINAL_STATUSES)[number],
  item: { json: string | null } | null,
  now: number,
): MessageRecord {
  const threadId = requireStreaming(db, messageId);
  setStatus(db, messageId, status, now);
  if (item) setItemRow(db, messageId, item.json);
  const message = getMessageRow(db, messageId)!;
  if (status === 'complete') nameUntitledThread(db, index, threadId, message.role);
  return message;
}

/** The messages still streaming. */
export function streamingIds(db: SqlDriver): number[] {
  return db.all("SELECT message_id FROM message_status WHERE status = 'streaming'").map((row) => num(row['message_id']));
}
