import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryStore, StateStore } from '../../src/core.js';
import type { MemoryStore, ThreadInput } from '../../src/core.js';
import { memoryTextFile } from '../../src/driver/memory-file.js';
import { oo1Driver } from '../../src/driver/oo1.js';
import type { Oo1Database } from '../../src/driver/oo1.js';
import type { SqlDriver, SqlValue } from '../../src/driver/port.js';
import { buildSeedSchemaV4, engineForDriver, exportImage, openImage } from '../fixtures/build-fixtures.js';
import type { RawDb } from '../fixtures/build-fixtures.js';

const SQLITE3 = '/usr/bin/sqlite3';

function thread(id: string, over: Partial<ThreadInput> = {}): ThreadInput {
  return { id, preview: '', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api', ...over };
}

async function withImage<T>(bytes: Uint8Array, fn: (db: RawDb) => T): Promise<T> {
  const db = await openImage(bytes);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/**
 * FTS5's own check of an external-content index against the content table (rank 1): it fails with
 * SQLITE_CORRUPT when any row of the index disagrees with messages.
 */
function ftsIntegrity(bytes: Uint8Array): Promise<void> {
  return withImage(bytes, (db) => {
    db.exec("INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1)");
  });
}

function ftsRowCount(bytes: Uint8Array): Promise<number> {
  return withImage(bytes, (db) => Number(db.selectValue('SELECT count(*) FROM message_fts_docsize')));
}

const stores: MemoryStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

async function fresh(bytes?: Uint8Array): Promise<MemoryStore> {
  const store = await createMemoryStore(bytes ? { bytes } : {});
  stores.push(store);
  return store;
}

describe('migration 5 on a version 4 database', () => {
  /** The seed's v4 schema with rows written by the seed's own SQL, as the Rust store leaves a file. */
  async function v4WithMessages(): Promise<Uint8Array> {
    const db = await openImage(await buildSeedSchemaV4());
    try {
      db.exec(`INSERT INTO threads(id, preview, ephemeral, model_provider, created_at, updated_at, status, cwd, cli_version, source)
               VALUES ('t1', '', 0, 'p', 1, 1, 'idle', '/', '1', 'cli'), ('t2', '', 0, 'p', 1, 1, 'idle', '/', '1', 'cli')`);
      db.exec(`INSERT INTO messages(thread_id, role, content, item_json, created_at, parent_entry_id) VALUES
               ('t1', 'user', 'where is the changelog', NULL, 1, NULL),
               ('t1', 'assistant', 'the changelog lives in docs/', NULL, 2, 1),
               ('t2', 'user', '数据库迁移', NULL, 3, NULL)`);
      return await exportImage(db);
    } finally {
      db.close();
    }
  }

  it('back-fills the index with every existing message', async () => {
    const store = await fresh(await v4WithMessages());
    expect(store.searchMessages('changelog').map((h) => [h.threadId, h.messageId, h.role]).sort()).toEqual([
      ['t1', 1, 'user'],
      ['t1', 2, 'assistant'],
    ]);
    expect(store.searchMessages('数据库').map((h) => h.messageId)).toEqual([3]);
    expect(await ftsRowCount(store.exportBytes())).toBe(3);
    await ftsIntegrity(store.exportBytes());
  });
});

describe('the index stays exactly in step with messages', () => {
  it('through append, fork, deltas, finish, recovery, clear, delete and prune', async () => {
    const store = await fresh();
    const check = async (step: string) => {
      await expect(ftsIntegrity(store.exportBytes()), step).resolves.toBeUndefined();
    };
    for (const id of ['a', 'b', 'c']) store.upsertThread(thread(id));
    const root = store.appendMessage('a', 'user', 'first message');
    await check('append');
    store.forkAtMessage(root, 'assistant', 'a fork');
    await check('fork');
    const streaming = store.beginMessage('b', 'assistant');
    for (let i = 0; i < 50; i++) store.appendMessageDelta(streaming, `part ${i} `);
    await check('deltas');
    expect(store.searchMessages('part 49').map((h) => h.messageId)).toEqual([streaming]);
    store.appendMessageDelta(streaming, 'ünïcödé 😀 and\u0000nul');
    await check('more deltas');
    store.finishMessage(streaming);
    await check('finish');
    const interrupted = store.beginMessage('c', 'assistant');
    store.appendMessageDelta(interrupted, 'half');
    store.recoverInterruptedMessages();
    await check('recovery');
    const dying = store.beginMessage('c', 'assistant');
    store.appendMessageDelta(dying, 'never searched');
    store.clearMessages('c');
    await check('clear with a streaming message');
    const cascading = store.beginMessage('b', 'assistant');
    store.appendMessageDelta(cascading, 'streamed text');
    store.deleteThread('b');
    await check('deleteThread cascade with a streaming message');
    store.pruneThreads({ keepLatest: 0 });
    await check('prune');
    expect(await ftsRowCount(store.exportBytes())).toBe(0);
  });
});

/** A driver that remembers every query, so a test can ask SQLite how it plans exactly those. */
function recording(driver: SqlDriver): { driver: SqlDriver; queries: Array<{ sql: string; params: readonly SqlValue[] }> } {
  const queries: Array<{ sql: string; params: readonly SqlValue[] }> = [];
  return {
    queries,
    driver: {
      ...driver,
      exec: (sql) => driver.exec(sql),
      all: (sql, params) => {
        queries.push({ sql, params: params ?? [] });
        return driver.all(sql, params);
      },
      run: (sql, params) => driver.run(sql, params),
      inTransaction: () => driver.inTransaction(),
      close: () => driver.close(),
    },
  };
}

describe('pages are O(page)', () => {
  async function planned(fn: (store: StateStore) => void, match: RegExp): Promise<string[]> {
    const db = await openImage();
    const rec = recording(oo1Driver(await engineForDriver(), db as unknown as Oo1Database));
    const store = StateStore.open({ db: rec.driver, sessionIndex: memoryTextFile('') });
    try {
      for (let i = 0; i < 300; i++) store.upsertThread(thread(`t${i}`, { updatedAt: i % 17, archived: i % 5 === 0 }));
      for (let i = 0; i < 30; i++) store.appendMessage('t1', 'user', `m${i}`);
      db.exec('ANALYZE');
      rec.queries.length = 0;
      fn(store);
      const query = rec.queries.find((q) => match.test(q.sql));
      expect(query, 'the page query ran').toBeDefined();
      return (db.selectObjects(`EXPLAIN QUERY PLAN ${query!.sql}`, query!.params.length > 0 ? (query!.params as never) : undefined) as Array<{ detail: string }>).map((r) => r.detail);
    } finally {
      store.close();
    }
  }

  for (const includeArchived of [false, true]) {
    it(`listThreadsPage walks an index in order, without a full scan or a sort (includeArchived: ${includeArchived})`, async () => {
      const plan = await planned((store) => {
        const first = store.listThreadsPage({ limit: 10, includeArchived });
        store.listThreadsPage({ limit: 10, includeArchived, cursor: first.nextCursor });
      }, /ORDER BY updated_at DESC, id DESC[\s\S]*\(updated_at, id\) <|\(updated_at, id\) <[\s\S]*ORDER BY/);
      const text = plan.join('\n');
      expect(text).toMatch(includeArchived ? /SEARCH threads USING (COVERING )?INDEX idx_threads_page_all/ : /SEARCH threads USING INDEX idx_threads_page \(archived=\? AND/);
      expect(text).not.toMatch(/SCAN threads/);
      expect(text).not.toMatch(/TEMP B-TREE/);
    });
  }

  it('listMessagesPage follows parent links by primary key', async () => {
    const plan = await planned((store) => {
      store.listMessagesPage('t1', { limit: 5 });
    }, /WITH RECURSIVE chain/);
    const text = plan.join('\n');
    expect(text).toMatch(/SEARCH m USING INTEGER PRIMARY KEY/);
    expect(text).not.toMatch(/SCAN messages|SCAN m\b/);
  });
});

describe('native SQLite compatibility', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function native(file: string, sql: string): string {
    if (!existsSync(SQLITE3)) {
      throw new Error(`${SQLITE3} is missing: install Debian's sqlite3 package (apt-get install sqlite3) to run the native compatibility test`);
    }
    return execFileSync(SQLITE3, ['-bail', file, sql], { encoding: 'utf8' });
  }

  it('a file we export takes the seed\'s own writes in Debian\'s sqlite3 3.40, and the index follows them', async () => {
    const store = await fresh();
    store.upsertThread(thread('t1'));
    const first = store.appendMessage('t1', 'user', 'written by the web store');
    const streaming = store.beginMessage('t1', 'assistant');
    store.appendMessageDelta(streaming, 'half a stream');
    store.upsertThread(thread('t2'));
    store.appendMessage('t2', 'user', 'to be cleared natively');
    dir = mkdtempSync(join(tmpdir(), 'ass-native-'));
    const file = join(dir, 'store.sqlite');
    writeFileSync(file, store.exportBytes());

    const out = native(
      file,
      `PRAGMA integrity_check;
       INSERT INTO messages(thread_id, role, content, item_json, created_at, parent_entry_id)
         SELECT 't1', 'user', 'natively inserted zebra crossing', NULL, 99, ${streaming} RETURNING id;
       UPDATE threads SET current_leaf_id = (SELECT max(id) FROM messages) WHERE id = 't1';
       UPDATE threads SET current_leaf_id = NULL WHERE id = 't2';
       DELETE FROM messages WHERE thread_id = 't2';
       INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1);
       SELECT sqlite_version();`,
    );
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe('ok');
    const nativeId = Number(lines[1]);
    expect(nativeId).toBeGreaterThan(streaming);
    expect(lines[2]).toMatch(/^3\.\d+\.\d+$/);

    const reopened = await fresh(new Uint8Array(readFileSync(file)));
    expect(reopened.searchMessages('zebra').map((h) => [h.threadId, h.messageId])).toEqual([['t1', nativeId]]);
    expect(reopened.searchMessages('cleared natively')).toEqual([]);
    expect(reopened.listMessages('t1').map((m) => m.id)).toEqual([first, streaming, nativeId]);
    expect(reopened.searchMessages('half a stream').map((h) => h.messageId)).toEqual([streaming]);
    await ftsIntegrity(reopened.exportBytes());
  });
});
