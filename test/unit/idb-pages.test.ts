import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/core/errors.js';
import { StateStore } from '../../src/core/store.js';
import { loadEngine } from '../../src/driver/engine.js';
import { memoryTextFile } from '../../src/driver/memory-file.js';
import { oo1Driver, type Oo1Database, type Oo1Engine } from '../../src/driver/oo1.js';
import { GroupCommit } from '../../worker/group-commit.js';
import { ChunkedFile, CHUNK_SIZE, Conflict, memoryVfs, persistError } from '../../worker/idb-pages.js';

/**
 * The fallback's in-memory file and VFS (worker/idb-pages.ts) in Node, where there is no IndexedDB:
 * reads and writes at any offset across chunks, dirty-chunk tracking, truncation, a real database on
 * the VFS, and the group commit waiting for a commit's persistence.
 */

describe('ChunkedFile', () => {
  it('reads back writes that straddle chunks, zero-fills holes and marks exactly the chunks written', () => {
    const file = new ChunkedFile();
    const bytes = Uint8Array.from({ length: 3 * CHUNK_SIZE }, (_, i) => (i * 7) % 251);
    file.write(bytes.subarray(0, 100), CHUNK_SIZE - 50);
    expect([...file.dirty].sort()).toEqual([0, 1]);
    expect(file.size).toBe(CHUNK_SIZE + 50);
    const back = new Uint8Array(200);
    expect(file.read(back, CHUNK_SIZE - 100)).toBe(150);
    expect([...back.subarray(0, 50)]).toEqual(new Array(50).fill(0));
    expect([...back.subarray(50, 150)]).toEqual([...bytes.subarray(0, 100)]);
    file.dirty.clear();
    file.write(bytes, 0);
    expect([...file.dirty].sort()).toEqual([0, 1, 2]);
    expect(file.bytes()).toEqual(bytes);
  });

  it('truncates: drops later chunks from the dirty set, zeroes the tail of the last and remembers where IndexedDB must be cut', () => {
    const file = new ChunkedFile();
    file.write(new Uint8Array(3 * CHUNK_SIZE).fill(9), 0);
    file.dirty.clear();
    file.truncate(CHUNK_SIZE + 10);
    expect(file.size).toBe(CHUNK_SIZE + 10);
    expect(file.truncatedTo).toBe(2);
    expect([...file.dirty]).toEqual([1]);
    file.write(new Uint8Array(1).fill(1), 2 * CHUNK_SIZE + 5);
    const tail = new Uint8Array(CHUNK_SIZE);
    file.read(tail, CHUNK_SIZE);
    expect(tail[9]).toBe(9);
    expect(tail[10]).toBe(0);
  });
});

describe('the in-memory VFS', () => {
  it('holds a real store: written, closed, reopened from the same file', async () => {
    const sqlite3 = await loadEngine();
    const vfs = memoryVfs(sqlite3, 'unit-idb-pages');
    const open = () => {
      const db = new sqlite3.oo1.DB({ filename: '/state.db', flags: 'c', vfs: vfs.name } as never);
      return { db, driver: oo1Driver(sqlite3 as unknown as Oo1Engine, db as unknown as Oo1Database) };
    };
    let { db, driver } = open();
    driver.exec('PRAGMA journal_mode = MEMORY');
    let store = StateStore.open({ db: driver, sessionIndex: memoryTextFile(''), now: () => 1_700_000_000 });
    store.upsertThread({ id: 't', preview: '', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api' });
    store.appendMessage('t', 'user', 'kept in chunks');
    const main = vfs.files.get('/state.db')!;
    expect(main.dirty.size).toBeGreaterThan(0);
    store.close();
    ({ db, driver } = open());
    store = StateStore.open({ db: driver, sessionIndex: memoryTextFile(''), now: () => 1_700_000_000 });
    expect(store.listMessages('t').map((m) => m.content)).toEqual(['kept in chunks']);
    expect(store.integrityCheck()).toEqual({ ok: true, problems: [] });
    store.close();
    void db;
  });
});

describe('GroupCommit with a durable step', () => {
  it('settles a batch only after afterCommit’s promise, and fails every call of it when that promise fails', async () => {
    const sqlite3 = await loadEngine();
    const db = new sqlite3.oo1.DB(':memory:', 'c');
    const driver = oo1Driver(sqlite3 as unknown as Oo1Engine, db as unknown as Oo1Database);
    driver.exec('CREATE TABLE t (x)');
    let release!: () => void;
    let fail!: (e: unknown) => void;
    const durable: Promise<void>[] = [
      new Promise<void>((resolve) => (release = resolve)),
      new Promise<void>((_, reject) => (fail = reject)),
    ];
    let n = 0;
    const commits = new GroupCommit(driver, () => durable[n++]);
    let settled = false;
    const first = commits.submit(() => driver.run('INSERT INTO t VALUES (1)')).then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false); // committed in SQLite, not yet durable
    release();
    await first;
    expect(settled).toBe(true);
    const second = commits.submit(() => driver.run('INSERT INTO t VALUES (2)'));
    await new Promise((r) => setTimeout(r, 20));
    fail(new Conflict('x', 'y'));
    const error = await second.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    commits.dispose();
  });

  it('maps IndexedDB failures to StoreError codes', () => {
    expect(persistError(new Conflict('a', 'b')).code).toBe('CONFLICT');
    expect(persistError(Object.assign(new Error('full'), { name: 'QuotaExceededError' })).code).toBe('QUOTA_EXCEEDED');
    expect(persistError(new Error('other')).code).toBe('STORAGE');
  });
});
