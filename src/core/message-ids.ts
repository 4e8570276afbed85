import type { Migration } from './migrate.js';

/**
 * Where new message ids come from: the core's port for whoever allocates them. By default SQLite's
 * AUTOINCREMENT picks `max + 1`. A layer above the core that must keep ids apart across copies of a
 * store (sync: every device allocates from its own block, its "site") writes the one row of
 * `sync_device` and keeps its `next_id` moving; the core only reads it, in the same statement as the
 * insert, so every writer of the database (any tab, any host) follows it.
 */

/**
 * Migration 10 (additive): the id block, one row once a layer above the core takes over allocation,
 * none before. The table keeps the name it was shipped with; its other columns belong to that layer.
 */
export const messageIdBlockMigration: Migration = {
  version: 10,
  name: 'sync identity',
  sql: `
CREATE TABLE IF NOT EXISTS sync_device (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  device TEXT NOT NULL,
  site INTEGER NOT NULL,
  next_id INTEGER NOT NULL,
  cursor INTEGER NOT NULL DEFAULT 0,
  push INTEGER NOT NULL DEFAULT 0,
  capture INTEGER NOT NULL DEFAULT 1
);
`,
};

/** The id a new message takes: the block's next id when there is a block, else NULL (AUTOINCREMENT's). */
export const NEXT_MESSAGE_ID_SQL = '(SELECT next_id FROM sync_device)';
