/**
 * How a device records its own writes: SQLite triggers on every synced table write one outbox entry
 * per row, in the write's own transaction, whichever API wrote it. An entry keeps what changed since
 * the row was last pushed (docs/sync.md, "What a write is"):
 *
 * - `cols`: a bit per merged column (mergedColumns' order) that an update changed, or -1 when the
 *   whole row must go (a creation, a new goal);
 * - `d_*`: thread_goals usage deltas, for the row's goal_id;
 * - `stash`: the row as it was deleted, so that a delete followed by an insert of the same key (how
 *   upsertJob, saveCheckpoint and persistDynamicTools write) counts only the columns that differ;
 * - `o_*`: the same parts from earlier runs of the store, kept apart so that a rollback can tell what
 *   was written before the restore from what was written after it (`fresh` marks the latter).
 *
 * Rows applied from the server are written with `sync_device.capture = 0`, so they are not recorded.
 */
import type { SqlDriver } from '../driver/port.js';
import { policyOf, ROW_TABLES, SESSION_INDEX, type RowTable } from './policy.js';
import { columnsOf, ident, mergedColumns } from './values.js';

/** The columns whose changes an entry's bits name: the merged columns without the scope. */
export function maskedColumns(db: SqlDriver, table: RowTable): string[] {
  const scope = policyOf(table).scope;
  return mergedColumns(db, table).filter((c) => c !== scope);
}

/** The bit mask of `names` among the table's masked columns. */
export function maskOf(db: SqlDriver, table: RowTable, names: readonly string[]): number {
  const columns = maskedColumns(db, table);
  return names.reduce((m, n) => (columns.includes(n) ? m + 2 ** columns.indexOf(n) : m), 0);
}

/** The column names a mask stands for (-1: null, the whole row). */
export function namesOf(db: SqlDriver, table: RowTable, mask: number): string[] | null {
  if (mask === -1) return null;
  return maskedColumns(db, table).filter((_, i) => Math.floor(mask / 2 ** i) % 2 === 1);
}

/** The outbox and the two tables its triggers keep in step: rows set aside, and rows whose current state came from a pull. */
export const CAPTURE_SQL = `
CREATE TABLE IF NOT EXISTS sync_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tbl TEXT NOT NULL,
  key TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  fresh INTEGER NOT NULL DEFAULT 1,
  cols INTEGER NOT NULL DEFAULT 0,
  d_tokens INTEGER NOT NULL DEFAULT 0,
  d_time INTEGER NOT NULL DEFAULT 0,
  d_cont INTEGER NOT NULL DEFAULT 0,
  o_cols INTEGER NOT NULL DEFAULT 0,
  o_tokens INTEGER NOT NULL DEFAULT 0,
  o_time INTEGER NOT NULL DEFAULT 0,
  o_cont INTEGER NOT NULL DEFAULT 0,
  stash TEXT,
  sent_push INTEGER,
  sent_version INTEGER,
  sent_json TEXT,
  UNIQUE (tbl, key)
);
CREATE INDEX IF NOT EXISTS sync_outbox_sent ON sync_outbox(sent_push) WHERE sent_push IS NOT NULL;
CREATE TABLE IF NOT EXISTS sync_rejected (tbl TEXT NOT NULL, key TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL, PRIMARY KEY (tbl, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sync_remote (tbl TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (tbl, key)) WITHOUT ROWID;
`;

const CAPTURING = '(SELECT capture FROM sync_device) = 1';

function keyExpr(table: RowTable, row: 'NEW' | 'OLD'): string {
  return `json_array(${policyOf(table).key.map((k) => `${row}.${ident(k)}`).join(', ')})`;
}

/** An entry for the row is written: it is no longer set aside, and (swept tables) this device wrote it last. */
function touched(table: RowTable, row: 'NEW' | 'OLD'): string {
  const forget = `DELETE FROM sync_rejected WHERE tbl = '${table}' AND key = ${keyExpr(table, row)};`;
  return policyOf(table).swept ? `${forget}\n  DELETE FROM sync_remote WHERE tbl = '${table}' AND key = ${keyExpr(table, row)};` : forget;
}

/** The capture triggers of one table. */
function triggersFor(db: SqlDriver, table: RowTable): string {
  const p = policyOf(table);
  const columns = maskedColumns(db, table);
  const bit = (i: number) => 2 ** i;
  const changedMask = columns.map((c, i) => `(CASE WHEN OLD.${ident(c)} IS NOT NEW.${ident(c)} THEN ${bit(i)} ELSE 0 END)`).join(' + ') || '0';
  const stashMask = columns.map((c, i) => `(CASE WHEN quote(NEW.${ident(c)}) IS json_extract(stash, '$."${c}"') THEN 0 ELSE ${bit(i)} END)`).join(' + ') || '0';
  const stash = `json_object(${columns.map((c) => `'${c}', quote(OLD.${ident(c)})`).join(', ')})`;
  const name = (op: string) => ident(`sync_capture_${table}_${op}`);
  const t = ident(table);
  const [tokens, time, cont] = p.counters;
  const scopeChanged = p.scope ? `OLD.${ident(p.scope)} IS NOT NEW.${ident(p.scope)}` : '0';
  const delta = (c: string | undefined) => (c ? `NEW.${ident(c)} - OLD.${ident(c)}` : '0');
  const updateCols = p.scope ? `CASE WHEN ${scopeChanged} THEN -1 ELSE ${changedMask} END` : changedMask;
  const updateDeltas = p.scope ? [tokens, time, cont].map((c) => `CASE WHEN ${scopeChanged} THEN 0 ELSE ${delta(c)} END`) : ['0', '0', '0'];
  const deltaChanged = p.counters.map((c) => `OLD.${ident(c)} IS NOT NEW.${ident(c)}`).join(' OR ') || '0';
  // Moving a thread's current leaf is this device's own view, never synced: not a change of the row.
  const updateOf = p.local.length > 0 ? ` OF ${columnsOf(db, table).filter((c) => !p.local.includes(c)).map(ident).join(', ')}` : '';
  const dSet = (d: string) => `${d} = CASE WHEN cols = -1 OR excluded.cols = -1 THEN 0 ELSE ${d} + excluded.${d} END`;
  // A table with a scope: any insert is a new record, whole.
  const insertCols = p.scope ? '-1' : `CASE WHEN cols = -1 OR stash IS NULL THEN -1 ELSE cols | (${stashMask}) END`;
  return `
CREATE TRIGGER ${name('insert')} AFTER INSERT ON ${t} WHEN ${CAPTURING} BEGIN
  INSERT INTO sync_outbox(tbl, key, cols) VALUES ('${table}', ${keyExpr(table, 'NEW')}, -1)
    ON CONFLICT(tbl, key) DO UPDATE SET version = version + 1, fresh = 1, cols = ${insertCols},
      d_tokens = 0, d_time = 0, d_cont = 0;
  ${touched(table, 'NEW')}
END;
CREATE TRIGGER ${name('update')} AFTER UPDATE${updateOf} ON ${t}
WHEN ${CAPTURING} AND ((${changedMask}) != 0 OR ${scopeChanged} OR ${deltaChanged}) BEGIN
  INSERT INTO sync_outbox(tbl, key, cols, d_tokens, d_time, d_cont) VALUES ('${table}', ${keyExpr(table, 'NEW')}, ${updateCols}, ${updateDeltas.join(', ')})
    ON CONFLICT(tbl, key) DO UPDATE SET version = version + 1, fresh = 1,
      cols = CASE WHEN cols = -1 OR excluded.cols = -1 THEN -1 ELSE cols | excluded.cols END,
      ${dSet('d_tokens')}, ${dSet('d_time')}, ${dSet('d_cont')};
  ${touched(table, 'NEW')}
END;
CREATE TRIGGER ${name('delete')} AFTER DELETE ON ${t} WHEN ${CAPTURING} BEGIN
  INSERT INTO sync_outbox(tbl, key, stash) VALUES ('${table}', ${keyExpr(table, 'OLD')}, ${stash})
    ON CONFLICT(tbl, key) DO UPDATE SET version = version + 1, fresh = 1, stash = excluded.stash;
  ${touched(table, 'OLD')}
END;`;
}

/** Moves the device's next message id past an id it just gave out. */
const ALLOCATE_SQL = `
CREATE TRIGGER sync_allocate_message_id AFTER INSERT ON messages
WHEN NEW.id = (SELECT next_id FROM sync_device) BEGIN
  UPDATE sync_device SET next_id = next_id + 1;
END;`;

/** Drops every capture trigger (the allocation trigger too). */
export function dropTriggers(db: SqlDriver): void {
  const names = db.all("SELECT name FROM sqlite_master WHERE type = 'trigger' AND (name LIKE 'sync\\_capture\\_%' ESCAPE '\\' OR name = 'sync_allocate_message_id')");
  for (const r of names) db.exec(`DROP TRIGGER IF EXISTS ${ident(String(r['name']))}`);
}

/** (Re)creates the capture triggers for the schema as it is now. */
export function createTriggers(db: SqlDriver): void {
  dropTriggers(db);
  for (const table of ROW_TABLES) db.exec(triggersFor(db, table));
  db.exec(ALLOCATE_SQL);
}

/** Records a session-index entry's change (the index is a file: no trigger sees it); entries go whole. */
export function captureSessionEntry(db: SqlDriver, threadId: string): void {
  db.run(
    `INSERT INTO sync_outbox(tbl, key, cols) SELECT '${SESSION_INDEX}', json_array(?1), -1 WHERE ${CAPTURING}
     ON CONFLICT(tbl, key) DO UPDATE SET version = version + 1, fresh = 1, cols = -1`,
    [threadId],
  );
}
