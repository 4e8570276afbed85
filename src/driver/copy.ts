import type { SqlDriver, SqlRow, SqlValue } from './port.js';

/**
 * Copies a whole database from one SqlDriver to another with plain SQL: the schema from sqlite_master,
 * then the rows in batches. It is the export path of engines with no serialize API (Cloudflare's
 * ctx.storage.sql): the edge builds a file by copying the store's own database into an in-memory
 * sqlite-wasm one. The source is always the store itself, whose schema came from its migrations: an
 * import never comes this way (a file's schema is never replayed; see core/import-rows.ts). Only the
 * SqlDriver port is used, so it runs the same in Node, in a browser worker and in workerd.
 *
 * The schema version (PRAGMA user_version) is not copied: the edge keeps it outside the database, so
 * the caller passes it in and out (see `imageOf`).
 */

/** Options of copyDatabase. */
export interface CopyOptions {
  /** Called after each batch with the rows copied so far and the rows to copy in all. */
  onProgress?: (copiedRows: number, totalRows: number) => void;
  /** Rows read and written per batch (default 500). Bounds the memory a large table takes. */
  batchRows?: number;
}

/** What a copy did. */
export interface CopyResult {
  /** Tables whose rows were copied (FTS shadow tables excluded). */
  tables: number;
  /** Rows copied, in all tables. */
  rows: number;
}

interface SchemaObject {
  type: 'table' | 'index' | 'trigger' | 'view';
  name: string;
  sql: string;
}

const DEFAULT_BATCH_ROWS = 500;
// The tables FTS3/4/5 create for each virtual table; the virtual table's own CREATE makes them again.
const FTS_SHADOW_SUFFIXES = ['_data', '_idx', '_content', '_docsize', '_config', '_segments', '_segdir', '_stat'];

/**
 * Whether a name is SQLite's own (sqlite_sequence, autoindexes) or the platform's: a Durable Object's
 * (`_cf_…`), or miniflare's in local development (`__miniflare_…`, e.g. `__miniflare_do_name`).
 * Neither an export nor an import ever carries them.
 */
export function isEngineOwned(name: string): boolean {
  return /^sqlite_/i.test(name) || /^_cf_/i.test(name) || /^__miniflare_/i.test(name);
}

/** Quotes an identifier for SQL text (identifiers cannot be bound). */
function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}


function isVirtual(object: SchemaObject): boolean {
  return object.type === 'table' && /^\s*CREATE\s+VIRTUAL\s+TABLE/i.test(object.sql);
}

/** The content option of an FTS virtual table: undefined (it stores its own text), '' (contentless) or a table name. */
function externalContent(object: SchemaObject): string | undefined {
  const match = /\bcontent\s*=\s*(?:'((?:[^']|'')*)'|"((?:[^"]|"")*)"|([A-Za-z_][\w$]*))/i.exec(object.sql);
  if (!match) return undefined;
  return match[1]?.replaceAll("''", "'") ?? match[2]?.replaceAll('""', '"') ?? match[3] ?? '';
}

/** Every user object of a database, in creation order, without internal and FTS shadow tables. */
function readSchema(db: SqlDriver): SchemaObject[] {
  const all = db
    .all("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND type IN ('table', 'index', 'trigger', 'view') ORDER BY rowid")
    .map((r) => ({ type: String(r['type']), name: String(r['name']), sql: String(r['sql']) }) as SchemaObject)
    .filter((o) => !isEngineOwned(o.name));
  const shadows = new Set(all.filter(isVirtual).flatMap((v) => FTS_SHADOW_SUFFIXES.map((suffix) => `${v.name}${suffix}`.toLowerCase())));
  return all.filter((o) => !(o.type === 'table' && shadows.has(o.name.toLowerCase())));
}

/** The tables a table's foreign keys point at (read from its CREATE text; self-references excluded). */
function referencedTables(table: SchemaObject): string[] {
  const names = [...table.sql.matchAll(/\bREFERENCES\s+(?:"((?:[^"]|"")+)"|`([^`]+)`|\[([^\]]+)\]|([A-Za-z_][\w$]*))/gi)].map(
    (m) => (m[1]?.replaceAll('""', '"') ?? m[2] ?? m[3] ?? m[4] ?? '').toLowerCase(),
  );
  return names.filter((n) => n !== table.name.toLowerCase());
}

/** Tables ordered so that every table comes after the tables it references (creation order otherwise). */
function parentsFirst(tables: SchemaObject[]): SchemaObject[] {
  const byName = new Map(tables.map((t) => [t.name.toLowerCase(), t]));
  const ordered: SchemaObject[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (table: SchemaObject): void => {
    const key = table.name.toLowerCase();
    if (state.get(key)) return; // done, or a reference cycle: the deferred foreign keys cover it
    state.set(key, 'visiting');
    for (const parent of referencedTables(table)) {
      const found = byName.get(parent);
      if (found) visit(found);
    }
    state.set(key, 'done');
    ordered.push(table);
  };
  tables.forEach(visit);
  return ordered;
}

/** A column as `PRAGMA table_xinfo` describes it. */
export interface Column {
  name: string;
  type: string;
  pk: number;
  hidden: number;
}

/** The columns of a table, hidden ones included (`PRAGMA table_xinfo`). */
export function columnsOf(db: SqlDriver, table: string): Column[] {
  return db
    .all(`PRAGMA table_xinfo(${ident(table)})`)
    .map((r) => ({ name: String(r['name']), type: String(r['type'] ?? ''), pk: Number(r['pk'] ?? 0), hidden: Number(r['hidden'] ?? 0) }));
}

/** How a table's rows are read in batches and written back. */
interface TablePlan {
  table: SchemaObject;
  /** Columns to insert; generated columns are left to the engine. */
  columns: string[];
  /** Whether the rowid is copied too (a rowid table without an INTEGER PRIMARY KEY alias). */
  copyRowid: boolean;
  /** Whether batches can be keyed on rowid (every table but WITHOUT ROWID ones). */
  hasRowid: boolean;
  rows: number;
}

function planTable(db: SqlDriver, table: SchemaObject): TablePlan {
  const columns = columnsOf(db, table.name);
  const virtual = isVirtual(table);
  const withoutRowid = !virtual && /\)\s*WITHOUT\s+ROWID\s*;?\s*$/i.test(table.sql);
  const pks = columns.filter((c) => c.pk > 0);
  const aliasesRowid = pks.length === 1 && pks[0]!.type.toUpperCase() === 'INTEGER';
  // hidden: 0 ordinary, 1 hidden (virtual-table column), 2 and 3 generated.
  const insertable = columns.filter((c) => c.hidden === 0).map((c) => c.name);
  const rows = Number(db.all(`SELECT count(*) AS n FROM ${ident(table.name)}`)[0]?.['n'] ?? 0);
  return { table, columns: insertable, copyRowid: !withoutRowid && !aliasesRowid, hasRowid: !withoutRowid, rows };
}

const ROWID_KEY = '__copy_rowid';

/** Copies one table's rows in batches, keyed on rowid where there is one. */
function copyRows(from: SqlDriver, to: SqlDriver, plan: TablePlan, batchRows: number, advance: (rows: number) => void): void {
  const name = ident(plan.table.name);
  const targetColumns = [...(plan.copyRowid ? ['rowid'] : []), ...plan.columns];
  const insert = `INSERT INTO ${name} (${targetColumns.map(ident).join(', ')}) VALUES (${targetColumns.map(() => '?').join(', ')})`;
  const selected = plan.columns.map(ident).join(', ');
  let lastRowid: SqlValue = null;
  let offset = 0;
  for (;;) {
    let batch: SqlRow[];
    if (plan.hasRowid) {
      const after = lastRowid === null ? '' : 'WHERE rowid > ?';
      batch = from.all(`SELECT rowid AS ${ROWID_KEY}, ${selected} FROM ${name} ${after} ORDER BY rowid LIMIT ?`, lastRowid === null ? [batchRows] : [lastRowid, batchRows]);
    } else {
      batch = from.all(`SELECT ${selected} FROM ${name} ORDER BY 1 LIMIT ? OFFSET ?`, [batchRows, offset]);
    }
    if (batch.length === 0) return;
    for (const row of batch) {
      const values = plan.columns.map((c) => row[c] ?? null);
      to.run(insert, plan.copyRowid ? [row[ROWID_KEY] ?? null, ...values] : values);
    }
    lastRowid = batch[batch.length - 1]![ROWID_KEY] ?? null;
    offset += batch.length;
    advance(batch.length);
    if (batch.length < batchRows) return;
  }
}

/** Sets each AUTOINCREMENT counter to the source's, which can be above the largest id left. */
function copySequences(from: SqlDriver, to: SqlDriver): void {
  const hasSequence = (db: SqlDriver) => db.all("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'").length > 0;
  if (!hasSequence(from) || !hasSequence(to)) return;
  for (const row of from.all('SELECT name, seq FROM sqlite_sequence')) {
    const { changes } = to.run('UPDATE sqlite_sequence SET seq = ? WHERE name = ?', [row['seq'] ?? 0, row['name'] ?? '']);
    if (changes === 0) to.run('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)', [row['name'] ?? '', row['seq'] ?? 0]);
  }
}

/** Defers foreign-key checks to the end of the enclosing transaction, where the engine allows it. */
function deferForeignKeys(db: SqlDriver): void {
  try {
    db.exec('PRAGMA defer_foreign_keys = ON');
  } catch {
    // Parents are copied before children anyway; deferring only covers cycles and self-references.
  }
}

/**
 * Copies every table, index, trigger and view of `from` into `to`, which must hold none of them.
 * Tables come first (parents before children), then their rows in batches, then indexes, triggers
 * and views, so that no trigger fires on copied rows; an FTS index over external content is rebuilt
 * from its content table rather than copied page by page. Run it inside a transaction on `to`.
 *
 * @example
 * copyDatabase(edgeDriver, imageDriver, { onProgress: (copied, total) => console.log(copied, total) });
 */
export function copyDatabase(from: SqlDriver, to: SqlDriver, options: CopyOptions = {}): CopyResult {
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  const schema = readSchema(from);
  const tables = parentsFirst(schema.filter((o) => o.type === 'table'));
  deferForeignKeys(to);
  for (const table of tables) to.exec(table.sql);

  const plans = tables.filter((t) => !isVirtual(t) || externalContent(t) === undefined).map((t) => planTable(from, t));
  for (const t of tables) {
    if (isVirtual(t) && externalContent(t) === '') throw new Error(`the contentless virtual table ${t.name} cannot be copied`);
  }
  const total = plans.reduce((sum, p) => sum + p.rows, 0);
  let copied = 0;
  options.onProgress?.(0, total);
  for (const plan of plans) {
    copyRows(from, to, plan, batchRows, (rows) => {
      copied += rows;
      options.onProgress?.(copied, total);
    });
  }
  copySequences(from, to);
  for (const object of schema) if (object.type !== 'table') to.exec(object.sql);
  for (const table of tables) {
    if (isVirtual(table) && externalContent(table)) to.run(`INSERT INTO ${ident(table.name)} (${ident(table.name)}) VALUES ('rebuild')`);
  }
  if (copied !== total) options.onProgress?.(total, total);
  return { tables: plans.length, rows: copied };
}

/**
 * Builds `from`'s database into `image` (an empty database of an engine that runs plain SQLite,
 * sqlite-wasm in memory or on a block VFS) in one transaction, and stamps `userVersion` on it.
 */
export function buildImage(from: SqlDriver, image: SqlDriver, userVersion: number, options: CopyOptions = {}): void {
  image.exec('BEGIN');
  try {
    copyDatabase(from, image, options);
    image.exec(`PRAGMA user_version = ${Math.trunc(userVersion) | 0}`);
    image.exec('COMMIT');
  } catch (error) {
    image.exec('ROLLBACK');
    throw error;
  }
}

/**
 * A SQLite file of `from`'s database, built by copying it into `image` (an empty in-memory database of
 * an engine that can serialize) and stamping `userVersion` on it.
 */
export function imageOf(from: SqlDriver, image: SqlDriver, userVersion: number, options: CopyOptions = {}): Uint8Array<ArrayBuffer> {
  buildImage(from, image, userVersion, options);
  return image.serialize();
}
