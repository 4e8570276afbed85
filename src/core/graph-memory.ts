import type { SqlDriver, SqlRow } from '../driver/port.js';
import { StoreError } from './errors.js';
import type { Migration } from './migrate.js';
import { num, str } from './rows.js';
import type { JsonValue } from './types.js';
import * as v from './validate.js';

/**
 * LangGraph's long-term memory (its `BaseStore`: namespaced JSON items, shared across a graph's
 * threads) on the same database as the conversations and checkpoints. The `agent-state-store/langgraph`
 * entry adapts it to LangGraph's class; here are the rows and one batch call, so that a whole
 * LangGraph batch is one call through the browser client.
 */

/**
 * Migration 12 (additive: one new table). A namespace is stored as its labels joined by "." (a
 * character LangGraph refuses in a label), so that a prefix is a string prefix.
 */
export const graphMemoryMigration: Migration = {
  version: 12,
  name: 'langgraph long-term memory',
  sql: `
CREATE TABLE IF NOT EXISTS graph_store_items (
  namespace TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (namespace, key)
);
`,
};

/** A stored item: its namespace (labels), key and JSON object value, with when it was created and last put (Unix seconds). */
export interface GraphStoreItem {
  namespace: string[];
  key: string;
  value: { [key: string]: JsonValue };
  createdAt: number;
  updatedAt: number;
}

/**
 * One operation of graphStoreBatch: read an item, put one (a null value deletes it), list the items
 * under a namespace prefix (all of them, in namespace then creation order: filters and pages are
 * the adapter's), or list every namespace that holds an item.
 */
export type GraphStoreOperation =
  | { op: 'get'; namespace: string[]; key: string }
  | { op: 'put'; namespace: string[]; key: string; value: { [key: string]: JsonValue } | null }
  | { op: 'search'; prefix: string[] }
  | { op: 'namespaces' };

/** What each operation gives back, in order: an item or null, null for a put, items for a search, namespaces. */
export type GraphStoreResult = GraphStoreItem | null | GraphStoreItem[] | string[][];

const SEPARATOR = '.';

function namespaceOf(value: unknown, field: string, allowEmpty: boolean): string {
  const labels = v.list(value, field);
  if (labels.length === 0 && !allowEmpty) throw new StoreError('INVALID_ARGUMENT', `${field} must name at least one label`, { details: { field } });
  return labels
    .map((label, i) => {
      const text = v.nonEmpty(label, `${field}[${i}]`);
      if (text.includes(SEPARATOR) || text.includes('\0')) {
        throw new StoreError('INVALID_ARGUMENT', `${field}[${i}] must not contain "." or NUL (LangGraph refuses them in a label)`, { details: { field: `${field}[${i}]` } });
      }
      return text;
    })
    .join(SEPARATOR);
}

type ValidOperation =
  | { op: 'get'; namespace: string; key: string }
  | { op: 'put'; namespace: string; key: string; valueJson: string | null }
  | { op: 'search'; prefix: string }
  | { op: 'namespaces' };

/** Checks a batch before anything is written. */
export function validateGraphStoreBatch(operations: unknown): ValidOperation[] {
  return v.list(operations, 'operations').map((item, i): ValidOperation => {
    const field = `operations[${i}]`;
    const o = v.record(item, field);
    switch (o['op']) {
      case 'get':
        return { op: 'get', namespace: namespaceOf(o['namespace'], `${field}.namespace`, false), key: v.nonEmpty(o['key'], `${field}.key`) };
      case 'put': {
        const value = o['value'];
        if (value !== null) v.record(value, `${field}.value`);
        return {
          op: 'put',
          namespace: namespaceOf(o['namespace'], `${field}.namespace`, false),
          key: v.nonEmpty(o['key'], `${field}.key`),
          valueJson: value === null ? null : v.json(value, `${field}.value`),
        };
      }
      case 'search':
        return { op: 'search', prefix: namespaceOf(o['prefix'], `${field}.prefix`, true) };
      case 'namespaces':
        return { op: 'namespaces' };
      default:
        throw new StoreError('INVALID_ARGUMENT', `${field}.op must be get, put, search or namespaces`, { details: { field: `${field}.op` } });
    }
  });
}

const COLUMNS = 'namespace, key, value, created_at, updated_at';

function toItem(row: SqlRow): GraphStoreItem {
  return {
    namespace: str(row['namespace']).split(SEPARATOR),
    key: str(row['key']),
    value: (v.parseStoredJson(row['value']) ?? {}) as { [key: string]: JsonValue },
    createdAt: num(row['created_at']),
    updatedAt: num(row['updated_at']),
  };
}

/**
 * Runs a batch as LangGraph's InMemoryStore does: every read first, in order, on the state before
 * the batch; then the puts, the last put of a (namespace, key) winning. A put of an existing item
 * keeps its createdAt.
 */
export function runGraphStoreBatch(db: SqlDriver, operations: readonly ValidOperation[], now: number): GraphStoreResult[] {
  const results = operations.map((o): GraphStoreResult => {
    switch (o.op) {
      case 'get': {
        const row = db.all(`SELECT ${COLUMNS} FROM graph_store_items WHERE namespace = ?1 AND key = ?2`, [o.namespace, o.key])[0];
        return row ? toItem(row) : null;
      }
      case 'search':
        return db
          .all(
            `SELECT ${COLUMNS} FROM graph_store_items
             WHERE ?1 = '' OR namespace = ?1 OR substr(namespace, 1, length(?1) + 1) = ?1 || '${SEPARATOR}'
             ORDER BY namespace, created_at, key`,
            [o.prefix],
          )
          .map(toItem);
      case 'namespaces':
        return db.all('SELECT DISTINCT namespace FROM graph_store_items ORDER BY namespace').map((row) => str(row['namespace']).split(SEPARATOR));
      case 'put':
        return null;
    }
  });
  const puts = new Map<string, Extract<ValidOperation, { op: 'put' }>>();
  for (const o of operations) {
    if (o.op !== 'put') continue;
    const id = JSON.stringify([o.namespace, o.key]);
    puts.delete(id);
    puts.set(id, o);
  }
  for (const o of puts.values()) {
    if (o.valueJson === null) {
      db.run('DELETE FROM graph_store_items WHERE namespace = ?1 AND key = ?2', [o.namespace, o.key]);
    } else {
      db.run(
        `INSERT INTO graph_store_items(${COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT(namespace, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        [o.namespace, o.key, o.valueJson, now],
      );
    }
  }
  return results;
}
