import type { SqlDriver } from '../driver/port.js';
import { num, strOrNull } from './rows.js';
import type { SessionIndex } from './session-index.js';

/** Automatic thread names: an unnamed thread is named after its first user message. */

// Seed 003's CONVERSATION_TITLE_LIMIT, counted in characters (code points), as Rust's chars() does.
const TITLE_LIMIT = 60;

/** How many user messages to read per step while looking for the first one with visible text. */
const SCAN_BATCH = 16;

/**
 * Seed 003's conversation_title_from_message, with whitespace runs collapsed to one space (a title is
 * one line): at most 60 characters, then "..." when cut. Null for a message with no visible text.
 */
export function titleFromMessage(content: string): string | null {
  const collapsed = content.trim().replace(/\s+/g, ' ');
  if (collapsed === '') return null;
  const chars = Array.from(collapsed);
  return chars.length > TITLE_LIMIT ? chars.slice(0, TITLE_LIMIT).join('') + '...' : collapsed;
}

/**
 * The title of a thread's first user message with visible text, or null when it has none.
 *
 * The rule is seed 003's. Its create_message calls touch_conversation_activity with the content of
 * every message whose role is exactly "user", and that sets the title only while it is still the
 * default; conversation_title_from_message turns a blank message into the default, so a blank one
 * leaves the title open for the next. update_message_content and append_message_delta pass no hint,
 * so unfinished text never names a conversation. The title is therefore always that of the
 * conversation's first user message with visible text, in `sequence` order: creation order over the
 * whole conversation. Our equivalent of `sequence` is the message id. Seed 003 has no branches, so we
 * search the whole tree in id order, not the current branch: the title stays fixed when the user
 * switches branches, as seed 003's does once it is set. Only messages that are complete count (no
 * row in message_status, or status "complete"), so a streamed message that failed, was cancelled or
 * was interrupted never names a thread.
 *
 * Searching instead of using the message just written matters for threads whose messages were
 * written before the title could be set, such as a file from the Rust store, which has no
 * auto-titles: there the name is that of the first user message, not of the one that arrives now.
 */
function firstUserTitle(db: SqlDriver, threadId: string): string | null {
  let after = 0;
  for (;;) {
    const rows = db.all(
      `SELECT m.id, m.content FROM messages m LEFT JOIN message_status s ON s.message_id = m.id
       WHERE m.thread_id = ?1 AND m.role = 'user' AND m.id > ?2 AND coalesce(s.status, 'complete') = 'complete'
       ORDER BY m.id LIMIT ?3`,
      [threadId, after, SCAN_BATCH],
    );
    for (const row of rows) {
      const title = titleFromMessage(strOrNull(row['content']) ?? '');
      if (title !== null) return title;
      after = num(row['id']);
    }
    if (rows.length < SCAN_BATCH) return null;
  }
}

/**
 * Names an unnamed thread after its first user message (see firstUserTitle) when a user message is
 * added to it, and records the name in the session index as upsertThread does. Callers call it after
 * writing a message with `role`; the title comes from the thread's first user message, which need
 * not be the one just written.
 *
 * A name that is set, by anyone, is never replaced:
 * - a title in the database (upsertThread with a name, or an earlier auto-title): the UPDATE only
 *   touches a NULL title;
 * - a name in the session index (appendThreadName, or the Rust store, both of which write the index
 *   only): nothing is written at all. We do not copy that name into the database either.
 *   appendThreadName is documented to leave the database alone, and the two files are not atomic
 *   together: a copy would be a database write nobody asked for (it changes getThread, the thread
 *   lists and their search, and travels through sync as a thread edit), and it would outlive a later
 *   appendThreadName that clears or changes the name in the index, so the two would disagree.
 *
 * The index line keeps the rollout path: the database row's, or, when the row has none, the one the
 * index already holds (appendThreadName may have written a path the row never had), so auto-titling
 * never drops a known path.
 */
export function nameUntitledThread(db: SqlDriver, index: SessionIndex, threadId: string, role: string): void {
  if (role !== 'user') return;
  const indexed = index.get(threadId);
  if (indexed?.threadName != null) return;
  const thread = db.all('SELECT title FROM threads WHERE id = ?1', [threadId])[0];
  if (!thread || strOrNull(thread['title']) !== null) return;
  const title = firstUserTitle(db, threadId);
  if (title === null) return;
  const row = db.all('UPDATE threads SET title = ?2 WHERE id = ?1 AND title IS NULL RETURNING updated_at, rollout_path', [threadId, title])[0];
  if (!row) return;
  index.append({
    threadId,
    threadName: title,
    updatedAt: num(row['updated_at']),
    rolloutPath: strOrNull(row['rollout_path']) ?? indexed?.rolloutPath ?? null,
  });
}
