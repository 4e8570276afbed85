import type { Migration } from './migrate.js';

/**
 * Our own schema steps after the seed's four. Additive only: new tables, indexes and triggers, never a
 * changed or dropped seed column, so the seed's SQL keeps running on our files. Everything here must
 * also work in native SQLite 3.40 (Debian's), whose build has FTS5 and the trigram tokenizer (3.34+);
 * a native SQLite without FTS5 could not write `messages` at all, because the triggers name the index.
 */
export const additiveMigrations: readonly Migration[] = [
  {
    version: 5,
    name: 'message search',
    // trigram rather than unicode61: unicode61 splits on spaces and punctuation only, so a run of
    // Chinese or Japanese text is one giant token and "数据库" would not find "我爱数据库"; trigram
    // matches substrings in any script (and partial words, "config" in "reconfigure"). Its costs:
    // an index about three times the text, and terms under 3 characters cannot use it (the search
    // code matches those with LIKE). No remove_diacritics: that option needs SQLite 3.45.
    //
    // External content: the text lives once, in messages, and the triggers keep the index in step in
    // the same transaction as every write, ON DELETE CASCADE from threads and streamed deltas included.
    // A delta re-indexes its whole message, which is why the worker coalesces deltas.
    sql: `
CREATE VIRTUAL TABLE message_fts USING fts5(content, content='messages', content_rowid='id', tokenize='trigram');
CREATE TRIGGER message_fts_after_insert AFTER INSERT ON messages BEGIN
  INSERT INTO message_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER message_fts_after_delete AFTER DELETE ON messages BEGIN
  INSERT INTO message_fts(message_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER message_fts_after_update AFTER UPDATE OF content ON messages BEGIN
  INSERT INTO message_fts(message_fts, rowid, content) VALUES ('delete', old.id, old.content);
  INSERT INTO message_fts(rowid, content) VALUES (new.id, new.content);
END;
INSERT INTO message_fts(message_fts) VALUES ('rebuild');
`,
  },
  {
    version: 6,
    name: 'streaming status and page indexes',
    // message_status is a side table, so that seed readers still see plain messages: no row means a
    // plain, complete one. The thread indexes give listThreadsPage its (updated_at DESC, id DESC)
    // order with no sort step, without and with archived threads.
    sql: `
CREATE TABLE message_status (
  message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
  status TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX idx_message_status_status ON message_status(status);
CREATE INDEX idx_threads_page ON threads(archived, updated_at DESC, id DESC);
CREATE INDEX idx_threads_page_all ON threads(updated_at DESC, id DESC);
`,
  },
];

/**
 * Step 9: the branch walk's covering index. The current branch is read by scanning one thread's
 * (id, parent) pairs from this index alone and walking them in JS (messages.ts, walkBranch). An
 * index, unlike a table kept by triggers, is right for every writer: rows the Rust store inserts
 * land in it too. A file without it (the Rust store's own) reads the same answers, only slower.
 */
export const branchWalkMigration: Migration = {
  version: 9,
  name: 'branch walk index',
  sql: `CREATE INDEX IF NOT EXISTS idx_messages_thread_parent ON messages(thread_id, parent_entry_id);`,
};
