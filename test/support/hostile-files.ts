/**
 * Files that try to plant schema in a store through an import, made from a good export by running SQL
 * on a copy of it. Shared by the Node and workerd import tests (and usable from a browser), so that
 * each host refuses or defuses the same files. `edit` runs SQL on a copy of a file and returns the new
 * bytes; each host brings its own engine for it.
 */

/** Runs SQL on a private copy of a file and returns the edited file. */
export type EditFile = (bytes: Uint8Array, sql: string) => Promise<Uint8Array>;

/** One hostile file: how to make it from a good export, and what an import must do with it. */
export interface HostileCase {
  name: string;
  sql: string;
  /** `refused`: INVALID_ARGUMENT and nothing written. `defused`: imported, with `ignored` naming the hostile parts. */
  outcome: { refused: { table?: string; column?: string } } | { defused: Array<{ type: string; name: string }> };
}

export const HOSTILE_CASES: readonly HostileCase[] = [
  {
    name: 'a planted trigger that empties messages on every insert',
    sql: 'CREATE TRIGGER evil_wipe AFTER INSERT ON messages BEGIN DELETE FROM messages; END;',
    outcome: { defused: [{ type: 'trigger', name: 'evil_wipe' }] },
  },
  {
    name: 'the search trigger replaced by one that deletes threads',
    sql: `DROP TRIGGER message_fts_after_insert;
CREATE TRIGGER message_fts_after_insert AFTER INSERT ON messages BEGIN DELETE FROM threads; END;`,
    outcome: { defused: [{ type: 'trigger', name: 'message_fts_after_insert' }] },
  },
  {
    name: 'an extra table, an extra view and an extra index',
    sql: `CREATE TABLE evil_extra (x TEXT); INSERT INTO evil_extra VALUES ('planted');
CREATE VIEW evil_view AS SELECT * FROM threads;
CREATE INDEX evil_index ON messages(content);`,
    outcome: { defused: [{ type: 'table', name: 'evil_extra' }, { type: 'view', name: 'evil_view' }, { type: 'index', name: 'evil_index' }] },
  },
  {
    name: 'an extra column in a data table',
    sql: "ALTER TABLE jobs ADD COLUMN evil_column TEXT DEFAULT 'x';",
    outcome: { defused: [{ type: 'column', name: 'jobs.evil_column' }] },
  },
  {
    name: 'a view named like a data table',
    sql: 'DROP TABLE jobs; CREATE VIEW jobs AS SELECT 1 AS id;',
    outcome: { refused: { table: 'jobs' } },
  },
  {
    name: 'a column of the wrong type',
    sql: `CREATE TABLE jobs_new (id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL, progress TEXT, detail TEXT,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
INSERT INTO jobs_new SELECT * FROM jobs; DROP TABLE jobs; ALTER TABLE jobs_new RENAME TO jobs;`,
    outcome: { refused: { table: 'jobs', column: 'progress' } },
  },
  {
    name: 'a data table without one of the store columns',
    sql: 'ALTER TABLE jobs DROP COLUMN detail;',
    outcome: { refused: { table: 'jobs', column: 'detail' } },
  },
  {
    name: 'a message whose parent is missing',
    sql: 'UPDATE messages SET parent_entry_id = 987654 WHERE id = (SELECT max(id) FROM messages);',
    outcome: { refused: { table: 'messages' } },
  },
  {
    name: 'a thread whose current leaf is a message of another thread',
    sql: "UPDATE threads SET current_leaf_id = (SELECT min(id) FROM messages WHERE thread_id <> 'alpha') WHERE id = 'alpha';",
    outcome: { refused: { table: 'threads' } },
  },
];

/** The names the hostile files plant: none may be in a store's schema after any import. */
export const PLANTED_NAMES = ['evil_wipe', 'evil_extra', 'evil_view', 'evil_index', 'evil_column'];
