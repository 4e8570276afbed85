import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION, createMemoryStore } from '../../src/core.js';
import { loadEngine } from '../../src/driver/engine.js';
import { oo1Driver, type Oo1Database, type Oo1Engine } from '../../src/driver/oo1.js';
import { copyDatabase, imageOf } from '../../src/driver/copy.js';
import type { SqlDriver } from '../../src/driver/port.js';
import { FULL_STORE_THREADS, SEARCH_WORD, canonicalDump, fillEveryTable } from '../support/full-store.js';

/**
 * The SQL copy that builds and takes in database files on engines without serialize or backup (the
 * edge): a store copied through it into a fresh sqlite-wasm database is a file native SQLite accepts
 * and another store imports with every record intact.
 */

const SQLITE3 = '/usr/bin/sqlite3';
const work = mkdtempSync(join(tmpdir(), 'ass-copy-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function nativeSql(file: string, sql: string): string {
  if (!existsSync(SQLITE3)) throw new Error(`native SQLite is missing: ${SQLITE3} does not exist (apt-get install sqlite3)`);
  return execFileSync(SQLITE3, ['-bail', file], { input: sql, encoding: 'utf8' }).trim();
}

/** A fresh, empty in-memory sqlite-wasm database behind the SqlDriver port. */
async function emptyDriver(): Promise<SqlDriver> {
  const sqlite3 = await loadEngine();
  return oo1Driver(sqlite3 as unknown as Oo1Engine, new sqlite3.oo1.DB(':memory:', 'c') as unknown as Oo1Database);
}

/** A populated store and a driver over a copy of its database (the "live" side of the edge). */
async function source() {
  const store = await createMemoryStore({ now: () => 1_700_000_000 });
  await fillEveryTable(store);
  const sqlite3 = await loadEngine();
  const engine = sqlite3 as unknown as Oo1Engine;
  const driver = oo1Driver(engine, new sqlite3.oo1.DB(':memory:', 'c') as unknown as Oo1Database).openImage(store.exportDatabase());
  return { store, driver };
}

const dumpOf = (db: SqlDriver) => canonicalDump((sql) => db.all(sql));

describe('copyDatabase into a fresh sqlite-wasm database', () => {
  it('makes a file native sqlite3 opens, with integrity ok and the schema version given', async () => {
    const { driver } = await source();
    const bytes = imageOf(driver, await emptyDriver(), LATEST_SCHEMA_VERSION);
    const file = join(work, 'copy.sqlite');
    writeFileSync(file, bytes);
    expect(nativeSql(file, 'PRAGMA integrity_check;')).toBe('ok');
    expect(nativeSql(file, 'PRAGMA user_version;')).toBe(String(LATEST_SCHEMA_VERSION));
    expect(nativeSql(file, "INSERT INTO message_fts(message_fts) VALUES ('integrity-check'); SELECT count(*) FROM messages;")).toBe(String(driver.all('SELECT count(*) AS n FROM messages')[0]?.['n']));
  });

  it('imports into another store with every table row for row, and search finds the text', async () => {
    const { store, driver } = await source();
    const target = await createMemoryStore();
    target.importDatabase(imageOf(driver, await emptyDriver(), LATEST_SCHEMA_VERSION));
    const targetDriver = (await emptyDriver()).openImage(target.exportDatabase());
    const [got, want] = await Promise.all([dumpOf(targetDriver), dumpOf(driver)]);
    expect(Object.keys(got).length).toBeGreaterThan(15);
    for (const table of ['threads', 'messages', 'checkpoints', 'jobs', 'thread_dynamic_tools', 'thread_goals', 'graph_checkpoints', 'graph_checkpoint_writes', 'message_status', 'sqlite_sequence']) {
      expect(want[table]?.length, table).toBeGreaterThan(0);
    }
    expect(got).toEqual(want);
    expect(target.searchMessages(SEARCH_WORD).map((h) => h.messageId)).toEqual(store.searchMessages(SEARCH_WORD).map((h) => h.messageId));
    expect(target.searchMessages(SEARCH_WORD)).toHaveLength(1);
    for (const id of FULL_STORE_THREADS) expect(target.listMessages(id)).toEqual(store.listMessages(id));
    // The AUTOINCREMENT counter came along: the next id is past the deleted thread's message.
    expect(target.appendMessage('alpha', 'user', 'next')).toBe(store.appendMessage('alpha', 'user', 'next'));
  });

  it('reports progress in batches that ends at the total number of rows', async () => {
    const { driver } = await source();
    const seen: Array<[number, number]> = [];
    const result = copyDatabase(driver, await emptyDriver(), { batchRows: 3, onProgress: (copied, total) => seen.push([copied, total]) });
    const total = seen[0]![1];
    expect(seen[0]).toEqual([0, total]);
    expect(seen.at(-1)).toEqual([total, total]);
    expect(result.rows).toBe(total);
    expect(seen.length).toBeGreaterThan(5);
    for (let i = 1; i < seen.length; i++) expect(seen[i]![0]).toBeGreaterThanOrEqual(seen[i - 1]![0]);
    expect(total).toBe(
      driver
        .all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'message_fts%'")
        .reduce((sum, r) => sum + Number(driver.all(`SELECT count(*) AS n FROM "${String(r['name'])}"`)[0]?.['n']), 0),
    );
  });
});
