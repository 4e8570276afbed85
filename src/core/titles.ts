import type { SqlDriver } from '../driver/port.js';
import { num, strOrNull } from './rows.js';
import type { SessionIndex } from './session-index.js';

/** Automatic thread names: an unnamed thread is named after its first user message. */

// Seed 003's CONVERSATION_TITLE_LIMIT, counted in characters (code points), as Rust's chars() does.
const TITLE_LIMIT = 60;

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
 * Names the thread after `content` when it has no name yet and `role` is "user", and records the
 * name in the session index as upsertThread does. A name that is set (by anyone) is never replaced.
 */
export function nameUntitledThread(db: SqlDriver, index: SessionIndex, threadId: string, role: string, content: string): void {
  if (role !== 'user') return;
  const title = titleFromMessage(content);
  if (title === null) return;
  const row = db.all('UPDATE threads SET title = ?2 WHERE id = ?1 AND title IS NULL RETURNING updated_at, rollout_path', [threadId, title])[0];
  if (!row) return;
  index.append({ threadId, threadName: title, updatedAt: num(row['updated_at']), rolloutPath: strOrNull(row['rollout_path']) });
}
