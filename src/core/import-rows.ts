import { columnsOf } from '../driver/copy.js';
import type { SqlDriver, SqlRow, SqlValue } from '../driver/port.js';
import { DATA_TABLES, isEngineOwned, isSyncOwned, type DataTable } from './data-tables.js';
import { StoreError } from './errors.js';
import { num, str } from './rows.js';

/**
 * An import takes a file's rows, never its schema. The file is opened apart (a private copy the
 * store's connection never sees); nothing of its schema runs against the store. The store's tables
 * are the reference: each data table of the file must have the store's columns with the same declared
 * types. Then the rows are copied into the store's own tables, whose constraints and triggers (search,
 * sync capture) apply to them as to any write.
 */

/** A part of a file that an import left out. */
export interface IgnoredObject {
  type: 'table' | 'index' | 'trigger' | 'view' | 'column';
  /** The object's name; a column is `table.column`. */
  name: string;
}

interface SchemaObject {
  type: string;
  name: string;
  sql: string | null;
}

const BATCH_ROWS = 500;

/** Quotes an identifier for SQL text (identifiers cannot be bound). */
function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function refuse(message: string, details: Record<string, string | number> = {}): StoreError {
  return new StoreError('INVALID_ARGUMENT', `bytes ${message}`, { details: { field: 'bytes', ...details } });
}

function schemaOf(db: SqlDriver): SchemaObject[] {
  return db
    .all("SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'index', 'trigger', 'view') ORDER BY rowid")
    .map((r) => ({ type: str(r['type']), name: str(r['name']), sql: r['sql'] === null ? null : str(r['sql']) }))
    .filter((o) => !isEngineOwned(o.name));
}

const isVirtual = (o: SchemaObject) => o.type === 'table' && /^\s*CREATE\s+VIRTUAL\s+TABLE/i.test(o.sql ?? '');

/**
 * Prepares an older file for the store's migrations on its private copy: drops every trigger and
 * view (dropping runs neither) and every table the store does not know, so the migration steps run
 * over the file's rows alone. A virtual table of a module the engine lacks cannot be dropped: refused.
 */
export function stripForeignSchema(image: SqlDriver, store: SqlDriver): void {
  const known = new Set(schemaOf(store).filter((o) => o.type === 'table').map((o) => o.name.toLowerCase()));
  const objects = schemaOf(image);
  const shadowOf = shadowNames(objects);
  try {
    for (const o of objects) if (o.type === 'trigger') image.exec(`DROP TRIGGER IF EXISTS ${ident(o.name)}`);
    for (const o of objects) if (o.type === 'view') image.exec(`DROP VIEW IF EXISTS ${ident(o.name)}`);
    for (const o of objects) {
      if (o.type === 'table' && !known.has(o.name.toLowerCase()) && !shadowOf.has(o.name.toLowerCase())) image.exec(`DROP TABLE IF EXISTS ${ident(o.name)}`);
    }
  } catch (error) {
    throw refuse(`hold a schema object that cannot be set aside: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The shadow tables of a schema's virtual tables (FTS keeps its data in `<name>_data` and the like). */
function shadowNames(objects: readonly SchemaObject[]): Set<string> {
  const suffixes = ['_data', '_idx', '_content', '_docsize', '_config', '_segments', '_segdir', '_stat'];
  return new Set(objects.filter(isVirtual).flatMap((v) => suffixes.map((s) => `${v.name}${s}`.toLowerCase())));
}

/**
 * What of the file's schema is not the store's: triggers, views and indexes that the store lacks or
 * defines otherwise, tables it does not have. Sync's objects are never taken and not listed.
 */
export function foreignObjects(image: SqlDriver, store: SqlDriver): IgnoredObject[] {
  const own = new Map(schemaOf(store).map((o) => [`${o.type}:${o.name.toLowerCase()}`, o.sql]));
  const objects = schemaOf(image);
  const shadows = shadowNames(objects);
  const ignored: IgnoredObject[] = [];
  for (const o of objects) {
    if (isSyncOwned(o.name) || shadows.has(o.name.toLowerCase())) continue;
    const key = `${o.type}:${o.name.toLowerCase()}`;
    if (o.type === 'table' ? !own.has(key) : own.get(key) !== o.sql) ignored.push({ type: o.type as IgnoredObject['type'], name: o.name });
  }
  return ignored;
}


const normalType = (type: string) => type.trim().replace(/\s+/g, ' ').toUpperCase();

/** How one table's rows go from the file into the store. */
export interface TablePlan {
  table: DataTable;
  /** The store's columns, read from the file under the same names. */
  columns: string[];
  /** Whether the rowid is copied too (a table whose rowid no column aliases). */
  copyRowid: boolean;
  rows: number;
}

/**
 * Checks every data table of a file (at the store's schema version) against the store's: a real
 * table, not a view or a virtual table, with each of the store's columns under its declared type.
 * A column the store lacks is left out and listed. Anything else is INVALID_ARGUMENT naming it.
 */
export function planCopy(image: SqlDriver, store: SqlDriver, ignored: IgnoredObject[]): TablePlan[] {
  const fileObjects = new Map(schemaOf(image).map((o) => [o.name.toLowerCase(), o]));
  return DATA_TABLES.map((table) => {
    const found = fileObjects.get(table);
    if (!found || found.type !== 'table' || isVirtual(found)) {
      throw refuse(`hold no table ${table}${found ? ` (it is a ${isVirtual(found) ? 'virtual table' : found.type})` : ''}`, { table });
    }
    const own = columnsOf(store, table);
    const theirs = new Map(columnsOf(image, table).map((c) => [c.name.toLowerCase(), c]));
    for (const column of own) {
      const match = theirs.get(column.name.toLowerCase());
      if (!match) throw refuse(`lack the column ${table}.${column.name}`, { table, column: column.name });
      if (match.hidden !== 0 || normalType(match.type) !== normalType(column.type)) {
        throw refuse(`declare ${table}.${column.name} as ${match.hidden !== 0 ? 'a generated column' : `"${match.type}"`} where the store has "${column.type}"`, {
          table,
          column: column.name,
        });
      }
      theirs.delete(column.name.toLowerCase());
    }
    for (const extra of theirs.values()) ignored.push({ type: 'column', name: `${table}.${extra.name}` });
    const sql = found.sql ?? '';
    const pks = own.filter((c) => c.pk > 0);
    const aliasesRowid = pks.length === 1 && normalType(pks[0]!.type) === 'INTEGER';
    if (/\bWITHOUT\s+ROWID\b/i.test(sql)) throw refuse(`declare ${table} WITHOUT ROWID, which the store's table is not`, { table });
    const rows = num(image.all(`SELECT count(*) AS n FROM ${ident(table)}`)[0]?.['n']);
    return { table, columns: own.filter((c) => c.hidden === 0).map((c) => c.name), copyRowid: !aliasesRowid, rows };
  });
}

function quoteText(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Every data table of the store emptied, children first (their own triggers fire, as for any delete). */
export function emptyDataTables(store: SqlDriver): void {
  for (const table of [...DATA_TABLES].reverse()) store.run(`DELETE FROM ${ident(table)}`);
}

const ROWID = '__import_rowid';

/** Copies one table's rows in batches keyed on rowid, into the store's table of the same name. */
export function copyTableRows(image: SqlDriver, store: SqlDriver, plan: TablePlan, advance: (rows: number) => void): void {
  const name = ident(plan.table);
  const target = [...(plan.copyRowid ? ['rowid'] : []), ...plan.columns];
  const insert = `INSERT INTO ${name} (${target.map(ident).join(', ')}) VALUES (${target.map(() => '?').join(', ')})`;
  const select = (after: boolean) =>
    `SELECT rowid AS ${ROWID}, ${plan.columns.map(ident).join(', ')} FROM ${name} ${after ? 'WHERE rowid > ?' : ''} ORDER BY rowid LIMIT ${BATCH_ROWS}`;
  let last: SqlValue | undefined;
  for (;;) {
    const batch: SqlRow[] = last === undefined ? image.all(select(false)) : image.all(select(true), [last]);
    if (batch.length === 0) return;
    for (const row of batch) {
      const values = plan.columns.map((c) => row[c] ?? null);
      try {
        store.run(insert, plan.copyRowid ? [row[ROWID] ?? null, ...values] : values);
      } catch (error) {
        throw refuse(`hold a ${plan.table} row the store refuses (rowid ${String(row[ROWID])}): ${error instanceof Error ? error.message : String(error)}`, {
          table: plan.table,
        });
      }
    }
    last = batch[batch.length - 1]![ROWID] ?? null;
    advance(batch.length);
    if (batch.length < BATCH_ROWS) return;
  }
}

/**
 * Sets each AUTOINCREMENT counter of a data table to the file's (which can be above its largest id),
 * never below the largest id copied: ids continue as they would have in the file.
 */
export function copySequences(image: SqlDriver, store: SqlDriver): void {
  const has = (db: SqlDriver) => db.all("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'").length > 0;
  if (!has(store)) return;
  const theirs = new Map(has(image) ? image.all('SELECT name, seq FROM sqlite_sequence').map((r) => [str(r['name']), r['seq']]) : []);
  const tables = new Set<string>(DATA_TABLES);
  for (const row of store.all('SELECT name FROM sqlite_sequence')) {
    const name = str(row['name']);
    if (!tables.has(name)) continue;
    const seq = theirs.get(name);
    store.run(`UPDATE sqlite_sequence SET seq = max(?, (SELECT coalesce(max(rowid), 0) FROM ${ident(name)})) WHERE name = ?`, [
      typeof seq === 'number' ? seq : 0,
      name,
    ]);
  }
}

/**
 * Deletes the copied rows whose parent row the file did not hold (the Rust store never turns
 * foreign keys on, so deleting a thread there leaves its messages and checkpoints), with what
 * cascades from them. Returns the rows dropped per table.
 */
export function dropOrphans(store: SqlDriver): Record<string, number> {
  const dropped: Record<string, number> = {};
  for (let round = 0; round < DATA_TABLES.length; round++) {
    let found = 0;
    for (const table of DATA_TABLES) {
      const rowids = store.all(`SELECT DISTINCT rowid AS id FROM pragma_foreign_key_check(${quoteText(table)})`).map((r) => r['id'] ?? null);
      for (const rowid of rowids) found += store.run(`DELETE FROM ${ident(table)} WHERE rowid = ?`, [rowid]).changes;
      if (rowids.length > 0) dropped[table] = (dropped[table] ?? 0) + rowids.length;
    }
    if (found === 0) break;
  }
  return dropped;
}

/**
 * The links no foreign key declares: a message's parent and a thread's current leaf must be messages
 * of the same thread. A file that breaks them is refused (INVALID_ARGUMENT naming the row).
 */
export function checkMessageLinks(store: SqlDriver): void {
  const parent = store.all(
    `SELECT m.id, m.parent_entry_id AS parent FROM messages m LEFT JOIN messages p ON p.id = m.parent_entry_id
     WHERE m.parent_entry_id IS NOT NULL AND (p.id IS NULL OR p.thread_id IS NOT m.thread_id) LIMIT 1`,
  )[0];
  if (parent) throw refuse(`hold message ${String(parent['id'])}, whose parent ${String(parent['parent'])} is not a message of its thread`, { table: 'messages' });
  const leaf = store.all(
    `SELECT t.id, t.current_leaf_id AS leaf FROM threads t LEFT JOIN messages m ON m.id = t.current_leaf_id
     WHERE t.current_leaf_id IS NOT NULL AND (m.id IS NULL OR m.thread_id IS NOT t.id) LIMIT 1`,
  )[0];
  if (leaf) throw refuse(`hold thread ${JSON.stringify(leaf['id'])}, whose current leaf ${String(leaf['leaf'])} is not a message of it`, { table: 'threads' });
}
