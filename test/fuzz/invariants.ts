import { openImage, type RawDb } from '../fixtures/build-fixtures.js';

/**
 * Structural invariants of a store's database file, checked on its raw bytes with sqlite-wasm
 * directly (not through the store, whose own reads could hide a broken row). Shared by the crash
 * and fuzz tests.
 */

/** Rows of a query on a raw connection, as plain objects. */
export function rows(db: RawDb, sql: string, bind: (string | number | null)[] = []): Record<string, unknown>[] {
  return db.exec({ sql, bind, rowMode: 'object', returnValue: 'resultRows' }) as Record<string, unknown>[];
}

/** What is wrong with the database: an empty list when every invariant holds. */
export function invariantProblems(db: RawDb): string[] {
  const problems: string[] = [];
  const report = (what: string, found: Record<string, unknown>[]) => {
    if (found.length > 0) problems.push(`${what}: ${JSON.stringify(found.slice(0, 5))}${found.length > 5 ? ` (+${found.length - 5} more)` : ''}`);
  };
  const integrity = rows(db, 'PRAGMA integrity_check').map((r) => String(r['integrity_check']));
  if (integrity.join() !== 'ok') problems.push(`integrity_check: ${integrity.slice(0, 5).join('; ')}`);
  report('foreign_key_check', rows(db, 'PRAGMA foreign_key_check'));
  report(
    "a thread's currentLeafId is not one of its own messages",
    rows(db, `SELECT t.id, t.current_leaf_id FROM threads t WHERE t.current_leaf_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = t.current_leaf_id AND m.thread_id = t.id)`),
  );
  report(
    "a message's parent is missing or in another thread",
    rows(db, `SELECT m.id, m.thread_id, m.parent_entry_id FROM messages m WHERE m.parent_entry_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM messages p WHERE p.id = m.parent_entry_id AND p.thread_id = m.thread_id)`),
  );
  // A parent is always written before its child, so ids of one id block (sync's site, 2^32 ids) grow
  // down every branch: no cycles. Across blocks ids say nothing of order (two devices' replies).
  report(
    'a message is not newer than its parent of the same id block',
    rows(db, 'SELECT id, parent_entry_id FROM messages WHERE parent_entry_id >= id AND parent_entry_id / 4294967296 = id / 4294967296'),
  );
  report('a message belongs to no thread', rows(db, 'SELECT id, thread_id FROM messages WHERE thread_id NOT IN (SELECT id FROM threads)'));
  report('a message has an unknown status', rows(db, "SELECT message_id FROM message_status WHERE status NOT IN ('streaming','complete','failed','cancelled','interrupted')"));
  try {
    // FTS5's own check that the search index matches the messages it indexes.
    db.exec("INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1)");
  } catch (error) {
    problems.push(`message_fts integrity-check: ${(error as Error).message}`);
  }
  return problems;
}

const exact = new TextDecoder('utf-8', { ignoreBOM: true });

/** A message's content as the file holds it (read as bytes: sqlite-wasm's own text decoding drops a leading U+FEFF). */
export function storedContent(db: RawDb, id: number): string | undefined {
  const found = rows(db, 'SELECT CAST(content AS BLOB) AS content FROM messages WHERE id = ?', [id])[0];
  if (found === undefined) return undefined;
  const raw = found['content'];
  return raw instanceof Uint8Array ? exact.decode(raw) : '';
}

/** Opens a copy of `bytes`, runs `fn` on it, and closes it. */
export async function withImage<T>(bytes: Uint8Array, fn: (db: RawDb) => T): Promise<T> {
  const db = await openImage(bytes);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Bytes that crossed page.evaluate as base64. */
export function fromBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}
