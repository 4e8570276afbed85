import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { CHUNK_CHARS, durableObjectDriver, durableObjectTextFile, SCHEMA_VERSION_KEY } from '../../src/cloudflare/driver.js';
import { edgeStore, StoreError } from '../../src/cloudflare/index.js';
import { toStoreError } from '../../src/core/errors.js';
import { LATEST_SCHEMA_VERSION } from '../../src/core/migrate.js';
import { StateStore } from '../../src/core/store.js';
import type { StoreObject } from './worker.js';

const fresh = () => env.STORES.get(env.STORES.newUniqueId()) as DurableObjectStub<StoreObject>;
const named = () => edgeStore(env.STORES, `host-${crypto.randomUUID()}`);

describe('the object’s RPC surface', () => {
  it('serves only the served methods of the operation table', async () => {
    const stub = fresh();
    for (const method of ['close', 'info', 'recoverInterruptedMessages', 'subscribe', 'watchBranch', 'nope', '__proto__', 'constructor', 'toString']) {
      const reply = await stub.call(method, []);
      expect(reply, method).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', details: { field: 'method' } } });
    }
    expect(await stub.call('listThreads', 'nope' as unknown as unknown[])).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', details: { field: 'args' } } });
    expect(await stub.call('listThreads', [])).toEqual({ ok: true, value: [] });
  });

  it('answers plain data: a record is a plain object, a null-prototype result too', async () => {
    const stub = fresh();
    const created = await stub.call('createThread', [{ id: 't', title: 'T' }]);
    expect(created.ok).toBe(true);
    expect(Object.getPrototypeOf((created as unknown as { value: unknown }).value)).toBe(Object.prototype);
    const names = await stub.call('findThreadNamesByIds', [['t', '__proto__']]);
    expect(names).toEqual({ ok: true, value: { t: 'T', ['__proto__']: null } });
  });
});

describe('the Worker client', () => {
  it('revives errors as real StoreErrors with code and details', async () => {
    const store = named();
    const error = await store.appendMessage('missing', 'user', 'hi').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('NOT_FOUND');
    const invalid = await store.upsertThread({ id: '' } as never).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(StoreError);
    expect((invalid as StoreError).details?.['field']).toBeTypeOf('string');
  });

  it('reports the edge capabilities in info(); after close() every call, the live ones too, is CLOSED', async () => {
    const store = named();
    const info = await store.info();
    expect(info).toMatchObject({
      host: 'durable-object',
      sqliteVersion: 'unknown',
      schemaVersion: LATEST_SCHEMA_VERSION,
      durability: 'strict',
      capabilities: { integrityCheck: 'quick', vacuum: 'automatic', durability: 'output-gate', listeners: 'rpc', exportImport: true },
    });
    expect(info.databaseSizeBytes).toBeGreaterThan(0);
    await store.close();
    expect(() => store.subscribe(() => {})).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    await expect(store.listThreads()).rejects.toMatchObject({ code: 'CLOSED' });
    expect(() => store.watchThreads(undefined, () => {})).toThrow(/closed/);
  });

  it('a listener hears changes from another client of the same object, and stops when unsubscribed', async () => {
    const name = `feed-${crypto.randomUUID()}`;
    const watcher = edgeStore(env.STORES, name);
    const writer = edgeStore(env.STORES, name);
    const heard: unknown[] = [];
    const stop = watcher.subscribe((change) => heard.push(change));
    await watcher.listThreads(); // the feed is registered before this call runs
    await writer.createThread({ id: 'w' });
    await expect.poll(() => heard.length).toBe(1);
    expect(heard[0]).toEqual({ kind: 'thread', method: 'createThread', threadId: 'w', id: 'w' });
    stop();
    await watcher.listThreads();
    await writer.createThread({ id: 'x' });
    await writer.listThreads();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(heard).toHaveLength(1);
  });

  it('vacuum says it is automatic and rebuilds nothing; integrityCheck runs quick_check', async () => {
    const store = named();
    await store.createThread({ id: 't' });
    const result = await store.vacuum();
    expect(result.automatic).toBe(true);
    expect(result.afterBytes).toBe(result.beforeBytes);
    await expect(store.vacuum({ availableBytes: -0.5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'options.availableBytes' } });
    expect(await store.integrityCheck()).toEqual({ ok: true, problems: [] });
  });

  it('exports a SQLite file and imports it into another object through the Worker client (see transfer.test.ts)', async () => {
    const store = named();
    await store.createThread({ id: 'moved' });
    const bytes = await store.exportDatabase();
    expect(new TextDecoder().decode(bytes.subarray(0, 15))).toBe('SQLite format 3');
    const other = named();
    expect(await other.importDatabase(bytes)).toMatchObject({ threads: 1 });
    expect((await other.listThreads()).map((t) => t.id)).toEqual(['moved']);
  });

  it("importDatabase's onProgress crosses RPC and hears the import advance", async () => {
    const store = named();
    await store.createThread({ id: 'moved' });
    const bytes = await store.exportDatabase();
    const phases = new Set<string>();
    await named().importDatabase(bytes, { onProgress: (p) => phases.add(p.phase) });
    await expect.poll(() => phases.has('done')).toBe(true);
    expect([...phases]).toEqual(expect.arrayContaining(['validate', 'integrity', 'migrate', 'copy', 'index', 'done']));
    await expect(named().importDatabase(bytes, { onProgress: 'no' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'options.onProgress' } });
  });

  it('one object per name: two names are two stores, one name is one store', async () => {
    const name = `shard-${crypto.randomUUID()}`;
    await edgeStore(env.STORES, name).createThread({ id: 'mine' });
    expect((await edgeStore(env.STORES, name).listThreads()).map((t) => t.id)).toEqual(['mine']);
    expect(await named().listThreads()).toEqual([]);
  });
});

describe('the driver on ctx.storage', () => {
  it('keeps the schema version in KV and refuses a newer one with SCHEMA_TOO_NEW, untouched', async () => {
    await runInDurableObject(fresh(), (_object, state) => {
      const open = () => StateStore.open({ db: durableObjectDriver(state.storage), sessionIndex: durableObjectTextFile(state.storage.kv) });
      open().close();
      expect(state.storage.kv.get(SCHEMA_VERSION_KEY)).toBe(LATEST_SCHEMA_VERSION);
      state.storage.kv.put(SCHEMA_VERSION_KEY, LATEST_SCHEMA_VERSION + 1);
      expect(open).toThrow(expect.objectContaining({ code: 'SCHEMA_TOO_NEW' }));
      expect(state.storage.kv.get(SCHEMA_VERSION_KEY)).toBe(LATEST_SCHEMA_VERSION + 1);
    });
  });

  it('a failed migration step rolls back its tables and its version', async () => {
    await runInDurableObject(fresh(), async (_object, state) => {
      const { migrate } = await import('../../src/core/migrate.js');
      const db = durableObjectDriver(state.storage);
      const steps = [
        { version: 1, name: 'one', sql: 'CREATE TABLE one (x)' },
        { version: 2, name: 'two', sql: 'CREATE TABLE two (x); SELECT nope FROM nowhere' },
      ];
      expect(() => migrate(db, steps)).toThrow(expect.objectContaining({ code: 'MIGRATION_FAILED' }));
      expect(db.readSchemaVersion!()).toBe(1);
      expect(db.all("SELECT name FROM sqlite_master WHERE name IN ('one', 'two') ORDER BY name").map((r) => r['name'])).toEqual(['one']);
    });
  });

  it('nested transactions undo only the inner writes; an outer throw undoes all', async () => {
    await runInDurableObject(fresh(), (_object, state) => {
      const db = durableObjectDriver(state.storage);
      db.exec('CREATE TABLE t (x)');
      db.transaction!(() => {
        db.run('INSERT INTO t VALUES (1)');
        expect(db.inTransaction()).toBe(true);
        expect(() => db.transaction!(() => {
          db.run('INSERT INTO t VALUES (2)');
          throw new Error('inner');
        })).toThrow('inner');
      });
      expect(() => db.transaction!(() => {
        db.run('INSERT INTO t VALUES (3)');
        throw new Error('outer');
      })).toThrow('outer');
      expect(db.inTransaction()).toBe(false);
      expect(db.all('SELECT x FROM t')).toEqual([{ x: 1 }]);
    });
  });

  it('binds safe BigInts as numbers, refuses larger ones, and returns blobs as Uint8Array', async () => {
    await runInDurableObject(fresh(), (_object, state) => {
      const db = durableObjectDriver(state.storage);
      expect(db.all('SELECT ? AS n', [42n])).toEqual([{ n: 42 }]);
      expect(() => db.all('SELECT ? AS n', [2n ** 60n])).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      const blob = db.all('SELECT ? AS b', [new Uint8Array([1, 2, 3])])[0]!['b'];
      expect(blob).toBeInstanceOf(Uint8Array);
      expect([...(blob as Uint8Array)]).toEqual([1, 2, 3]);
    });
  });

  it("engine errors (plain Errors naming the SQLite code) map to StoreError codes in toStoreError", async () => {
    await runInDurableObject(fresh(), (_object, state) => {
      const db = durableObjectDriver(state.storage);
      db.exec('CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (p INTEGER REFERENCES p (id)); INSERT INTO p VALUES (1)');
      const mapped = (fn: () => void) => {
        try {
          fn();
        } catch (error) {
          expect(error).not.toBeInstanceOf(StoreError);
          return toStoreError(error, 'test');
        }
        throw new Error('the statement did not fail');
      };
      expect(mapped(() => db.run('INSERT INTO c VALUES (2)'))).toMatchObject({ code: 'NOT_FOUND', details: { resultCode: 787 } });
      expect(mapped(() => db.run('INSERT INTO p VALUES (1)'))).toMatchObject({ code: 'CONFLICT', details: { resultCode: 19 } });
      expect(mapped(() => db.all('SELECT nope FROM nowhere'))).toMatchObject({ code: 'STORAGE', details: { resultCode: 1 } });
      expect(mapped(() => db.all(`SELECT '${'x'.repeat(2_100_000)}' AS big`))).toMatchObject({ details: { resultCode: 18 } });
    });
  });
});

describe('the session index in KV', () => {
  it('is chunked under the per-value limit and reads back whole, past 2 MB', async () => {
    await runInDurableObject(fresh(), (_object, state) => {
      const file = durableObjectTextFile(state.storage.kv, 'test-index');
      const line = `${'x'.repeat(999)}\n`;
      const total = 3000; // about 3 MB, more than one value may hold
      for (let i = 0; i < total; i++) file.append(line);
      expect(file.read()).toBe(line.repeat(total));
      expect(state.storage.kv.get('test-index')).toBe(Math.ceil((line.length * total) / CHUNK_CHARS));
      file.replace('short\n');
      expect(file.read()).toBe('short\n');
      expect(state.storage.kv.get('test-index')).toBe(1);
      expect(state.storage.kv.get('test-index:1')).toBeUndefined();
    });
  });

  it('rolls back with the transaction its write ran in', async () => {
    await runInDurableObject(fresh(), (_object, state) => {
      const file = durableObjectTextFile(state.storage.kv, 'test-index');
      file.append('kept\n');
      expect(() => state.storage.transactionSync(() => {
        file.append('lost\n');
        file.replace('also lost\n');
        throw new Error('the call failed');
      })).toThrow('the call failed');
      expect(file.read()).toBe('kept\n');
    });
  });

  it('a failed call through the object leaves no index line, and the object keeps serving', async () => {
    const stub = fresh();
    expect(await stub.call('createThread', [{ id: 't', title: 'First' }])).toMatchObject({ ok: true });
    // A title and a name that differ: refused after nothing was written.
    expect(await stub.call('createThread', [{ id: 'u', title: 'A', name: 'B' }])).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(await stub.call('exportSessionIndex', [])).toMatchObject({ ok: true, value: expect.stringMatching(/^\{"thread_id":"t","thread_name":"First".*\n$/) });
    expect(await stub.call('findThreadNameById', ['u'])).toEqual({ ok: true, value: null });
  });
});
