/**
 * Row operations both ends of sync share: deleting a row with everything under it (the policy's
 * parent links, not only the engine's foreign keys, so that every copy deletes the same rows), and
 * writing a merged row.
 */
import type { SqlDriver, SqlRow, SqlValue } from '../driver/port.js';
import { childrenOf, policyOf, type RowTable } from './policy.js';
import { ident, keyOf, keyWhere, readRow } from './values.js';

/** A row of a synced table, by key. */
export interface RowRef {
  table: RowTable;
  key: SqlValue[];
}

const CHUNK = 500;

/**
 * The rows under `root` (not `root` itself), following every parent link of the policy, found level by
 * level with one query per link and chunk of parents.
 */
export function rowsUnder(db: SqlDriver, root: RowRef): RowRef[] {
  const found: RowRef[] = [];
  const seen = new Set<string>([`${root.table}\u0000${JSON.stringify(root.key)}`]);
  let frontier: RowRef[] = [root];
  while (frontier.length > 0) {
    const next: RowRef[] = [];
    const byTable = new Map<RowTable, RowRef[]>();
    for (const r of frontier) byTable.set(r.table, [...(byTable.get(r.table) ?? []), r]);
    for (const [table, rows] of byTable) {
      for (const { table: child, link } of childrenOf(table)) {
        // Our links are single-column (the policy says so); a parent's value is its `to` column.
        const to = link.to[0]!;
        const toIndex = policyOf(table).key.indexOf(to);
        const values = rows.map((r) => r.key[toIndex] ?? null).filter((v) => v !== null);
        for (let i = 0; i < values.length; i += CHUNK) {
          const part = values.slice(i, i + CHUNK);
          const childKey = policyOf(child).key;
          const found2 = db.all(
            `SELECT ${childKey.map(ident).join(', ')} FROM ${ident(child)} WHERE ${ident(link.from[0]!)} IN (${part.map((_, j) => `?${j + 1}`).join(', ')})`,
            part,
          );
          for (const r of found2) {
            const ref = { table: child, key: keyOf(child, r) };
            const id = `${child}\u0000${JSON.stringify(ref.key)}`;
            if (seen.has(id)) continue;
            seen.add(id);
            found.push(ref);
            next.push(ref);
          }
        }
      }
    }
    frontier = next;
  }
  return found;
}

/**
 * Deletes a row and every row under it; returns the rows that were there and are gone, the root
 * first. A thread whose current leaf went with them moves its leaf to its newest message left.
 */
export function deleteCascade(db: SqlDriver, root: RowRef): RowRef[] {
  if (!readRow(db, root.table, root.key)) return [];
  const under = rowsUnder(db, root);
  const threads = new Set<string>();
  for (const r of [root, ...under]) if (r.table === 'messages') threads.add(String(db.all('SELECT thread_id FROM messages WHERE id = ?1', r.key)[0]?.['thread_id']));
  // Deepest first, so that no row is left pointing at a deleted one for a moment.
  for (const r of [...under].reverse()) db.run(`DELETE FROM ${ident(r.table)} WHERE ${keyWhere(policyOf(r.table).key)}`, r.key);
  db.run(`DELETE FROM ${ident(root.table)} WHERE ${keyWhere(policyOf(root.table).key)}`, root.key);
  for (const thread of threads) fixLeaf(db, thread);
  return [root, ...under];
}

/** A thread whose current leaf is gone takes its newest message left as leaf. */
export function fixLeaf(db: SqlDriver, threadId: string): void {
  db.run(
    `UPDATE threads SET current_leaf_id = (SELECT id FROM messages WHERE thread_id = ?1 ORDER BY created_at DESC, id DESC LIMIT 1)
     WHERE id = ?1 AND current_leaf_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM messages WHERE id = threads.current_leaf_id)`,
    [threadId],
  );
}

/**
 * Inserts `row`, or updates the existing row's given columns (every column when `columns` is null),
 * keeping `keep`; a write that changes nothing is not made. References to rows that are gone are set
 * to NULL, as the database would have done had they gone after. Returns the values it wrote.
 */
export function writeRow(db: SqlDriver, table: RowTable, row: SqlRow, columns: readonly string[] | null, keep: readonly string[] = []): SqlRow {
  const p = policyOf(table);
  const values = { ...row };
  for (const ref of p.references) {
    const v = values[ref.from];
    if (v !== null && v !== undefined && db.all(`SELECT 1 FROM ${ident(ref.table)} WHERE ${ident(ref.to)} IS ?1`, [v]).length === 0) values[ref.from] = null;
  }
  const names = Object.keys(values);
  const set = (columns ?? names).filter((c) => names.includes(c) && !p.key.includes(c) && !keep.includes(c));
  const conflict = set.length > 0
    ? `DO UPDATE SET ${set.map((c) => `${ident(c)} = excluded.${ident(c)}`).join(', ')} WHERE ${set.map((c) => `${ident(c)} IS NOT excluded.${ident(c)}`).join(' OR ')}`
    : 'DO NOTHING';
  db.run(
    `INSERT INTO ${ident(table)} (${names.map(ident).join(', ')}) VALUES (${names.map((_, i) => `?${i + 1}`).join(', ')}) ON CONFLICT(${p.key.map(ident).join(', ')}) ${conflict}`,
    names.map((c) => values[c]!),
  );
  return values;
}

/** Whether every required parent of `row` exists here; `known` holds parents already found (`table\0json of key`), and learns the ones it finds. */
export function parentsPresent(db: SqlDriver, table: RowTable, row: SqlRow, known?: Set<string>): boolean {
  for (const link of policyOf(table).parents) {
    if (!link.required) continue;
    const values = link.from.map((c) => row[c] ?? null);
    if (values.some((v) => v === null)) continue;
    const id = `${link.table}\u0000${JSON.stringify(values)}`;
    if (known?.has(id)) continue;
    if (db.all(`SELECT 1 FROM ${ident(link.table)} WHERE ${keyWhere(link.to)} LIMIT 1`, values).length === 0) return false;
    known?.add(id);
  }
  return true;
}

/** Two rows hold the same values in `columns` (bytes compared by content). */
export function sameValues(a: SqlRow, b: SqlRow, columns: readonly string[]): boolean {
  return columns.every((c) => {
    const x = a[c] ?? null;
    const y = b[c] ?? null;
    if (x instanceof Uint8Array && y instanceof Uint8Array) return x.length === y.length && x.every((v, i) => v === y[i]);
    return x === y || (typeof x === 'bigint' || typeof y === 'bigint' ? String(x) === String(y) : false);
  });
}

/** The record id a change notice names for a row (the policy's noticeKey). */
export function noticeTarget(table: RowTable, key: readonly SqlValue[]): string | number | null {
  const at = policyOf(table).noticeKey;
  return at === null ? null : (key[at] as string | number);
}

/** The thread a row belongs to, or null. */
export function threadOfRow(db: SqlDriver, table: RowTable, row: SqlRow | null): string | null {
  if (!row) return null;
  if (table === 'threads') return String(row['id']);
  if (typeof row['thread_id'] === 'string') return row['thread_id'];
  if (table === 'message_status' && row['message_id'] !== null && row['message_id'] !== undefined) {
    const m = db.all('SELECT thread_id FROM messages WHERE id = ?1', [row['message_id']])[0];
    return m ? String(m['thread_id']) : null;
  }
  return null;
}

/** Whether the database has a table of this name. */
export function hasTable(db: SqlDriver, name: string): boolean {
  return db.all("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", [name]).length > 0;
}

/** The larger of two column values: numbers as numbers, anything else as text; null loses. */
export function larger(a: SqlValue | undefined, b: SqlValue | undefined): SqlValue {
  if (a === null || a === undefined) return b ?? null;
  if (b === null || b === undefined) return a;
  if (typeof a === 'number' && typeof b === 'number') return Math.max(a, b);
  return String(a) >= String(b) ? a : b;
}
