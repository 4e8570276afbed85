import type { SqlDriver, SqlValue } from '../driver/port.js';
import { StoreError } from './errors.js';
import { currentLeaf, MESSAGE_COLUMNS, threadOfMessage, toMessage } from './messages.js';
import { numOrNull } from './rows.js';
import { THREAD_COLUMNS, toThread } from './threads.js';
import type { MessagePage, MessagePageOptions, ThreadPage, ThreadPageOptions } from './types.js';
import * as v from './validate.js';

/**
 * Keyset pagination: each page starts where the previous one ended (a key, not an offset), so a page
 * costs the same at any depth and a writer inserting between pages causes neither duplicates nor gaps.
 */

interface ThreadKey {
  updatedAt: number;
  id: string;
}

/** base64url of the JSON key: opaque to callers, so its shape may change without breaking them. */
function encodeCursor(key: ThreadKey): string {
  const bytes = new TextEncoder().encode(JSON.stringify([key.updatedAt, key.id]));
  return btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join('')).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function decodeCursor(cursor: string): ThreadKey {
  const bad = () => new StoreError('INVALID_ARGUMENT', 'cursor is not a cursor this store handed out', { details: { field: 'options.cursor' } });
  let parsed: unknown;
  try {
    const binary = atob(cursor.replaceAll('-', '+').replaceAll('_', '/'));
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || !Number.isSafeInteger(parsed[0]) || typeof parsed[1] !== 'string') throw bad();
  return { updatedAt: parsed[0] as number, id: parsed[1] };
}

/**
 * Threads by updatedAt descending, id descending on ties. Walks idx_threads_page (or
 * idx_threads_page_all with archived ones) from the cursor's key, so no sort and no full scan.
 * `search` keeps threads whose name or preview contains the text (ASCII case-insensitive, as SQLite's
 * lower() folds only A–Z); it filters while walking the index, so a rare term reads more rows per page.
 */
export function listThreadPage(db: SqlDriver, options: ThreadPageOptions | undefined): ThreadPage {
  const o = options === undefined ? {} : v.record(options, 'options');
  const includeArchived = o['includeArchived'] === undefined ? false : v.bool(o['includeArchived'], 'options.includeArchived');
  const limit = v.limit(o['limit'], 'options.limit', 50);
  const cursor = o['cursor'] === undefined || o['cursor'] === null ? null : decodeCursor(v.nonEmpty(o['cursor'], 'options.cursor'));
  const search = o['search'] === undefined || o['search'] === null ? '' : v.text(o['search'], 'options.search');

  const params: SqlValue[] = [];
  const bind = (value: SqlValue): string => {
    params.push(value);
    return `?${params.length}`;
  };
  const where: string[] = [];
  if (!includeArchived) where.push('archived = 0');
  if (cursor) where.push(`(updated_at, id) < (${bind(cursor.updatedAt)}, ${bind(cursor.id)})`);
  if (search !== '') {
    const s = bind(search);
    where.push(`(instr(lower(coalesce(title, '')), lower(${s})) > 0 OR instr(lower(preview), lower(${s})) > 0)`);
  }
  const rows = db.all(
    `SELECT ${THREAD_COLUMNS} FROM threads ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY updated_at DESC, id DESC LIMIT ${bind(limit + 1)}`,
    params,
  );
  const items = rows.slice(0, limit).map(toThread);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}

/**
 * A page of a branch, walking parent links from the current leaf (or from `before`'s parent) towards
 * the root, one primary-key lookup per message. `before` may be any message of the thread, so a
 * reader keeps scrolling the branch it started on even if the current leaf moves meanwhile.
 */
export function listMessagePage(db: SqlDriver, threadIdArg: unknown, options: MessagePageOptions | undefined): MessagePage {
  const threadId = v.nonEmpty(threadIdArg, 'threadId');
  const o = options === undefined ? {} : v.record(options, 'options');
  const limit = v.limit(o['limit'], 'options.limit', 50);
  const before = o['before'] === undefined || o['before'] === null ? null : v.messageId(o['before'], 'options.before');

  const leaf = currentLeaf(db, threadId);
  let start: number | null = leaf;
  if (before !== null) {
    if (threadOfMessage(db, before) !== threadId) {
      throw new StoreError('NOT_FOUND', `message ${before} is not in thread ${threadId}`, { details: { threadId, messageId: before } });
    }
    start = numOrNull(db.all('SELECT parent_entry_id FROM messages WHERE id = ?1', [before])[0]?.['parent_entry_id']);
  }
  if (start === null) return { items: [], nextBefore: null };
  const items = db
    .all(
      `WITH RECURSIVE chain AS (
         SELECT ${MESSAGE_COLUMNS}, 0 AS depth FROM messages WHERE id = ?1
         UNION ALL
         SELECT m.id, m.thread_id, m.role, m.content, m.item_json, m.created_at, m.parent_entry_id, c.depth + 1
         FROM messages m JOIN chain c ON m.id = c.parent_entry_id
         WHERE c.depth < ?2
       )
       SELECT ${MESSAGE_COLUMNS} FROM chain ORDER BY depth DESC`,
      [start, limit - 1],
    )
    .map(toMessage);
  const oldest = items[0];
  return { items, nextBefore: oldest && oldest.parentEntryId !== null ? oldest.id : null };
}
