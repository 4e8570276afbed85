import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { edgeStore } from '../../src/cloudflare/index.js';
import { loadEdgeEngine, memoryDriver } from '../../src/cloudflare/engine.js';
import { LATEST_SCHEMA_VERSION } from '../../src/core/migrate.js';
import type { ImportProgress } from '../../src/core/transfer.js';
import { SEARCH_WORD, canonicalDump, fillEveryTable } from '../support/full-store.js';
import type { StoreObject } from './worker.js';
import { HOSTILE_CASES, PLANTED_NAMES } from '../support/hostile-files.js';
import rustSeed from '../fixtures/rust-seed-v4/state.db';

/**
 * Export and import on the edge: the same SQLite file as the browser's, built and checked in an
 * in-memory sqlite-wasm copy, with the browser's refusals (nothing written) and progress.
 */

const named = (prefix: string) => `${prefix}-${crypto.randomUUID()}`;

/** Every table of a store's Durable Object database, read by SQL inside the object. */
function edgeDump(name: string) {
  const stub = env.STORES.get(env.STORES.idFromName(name)) as DurableObjectStub<StoreObject>;
  return runInDurableObject(stub, (_object, state) => canonicalDump((sql) => state.storage.sql.exec(sql).toArray() as Array<Record<string, unknown>>));
}

async function populated() {
  const name = named('source');
  const store = edgeStore(env.STORES, name);
  await fillEveryTable(store);
  return { name, store };
}

/** A file with one thing changed, made in an in-memory sqlite-wasm copy. */
async function edited(bytes: Uint8Array, sql: string): Promise<Uint8Array> {
  const image = memoryDriver(await loadEdgeEngine()).openImage(bytes);
  image.exec(sql);
  const out = image.serialize();
  image.close();
  return out;
}

describe('exportDatabase on the edge', () => {
  it('gives a SQLite file whose every table matches the object database, integrity ok, at the latest schema version', async () => {
    const { name, store } = await populated();
    const bytes = await store.exportDatabase();
    expect(new TextDecoder().decode(bytes.subarray(0, 15))).toBe('SQLite format 3');
    const image = memoryDriver(await loadEdgeEngine()).openImage(bytes);
    expect(image.all('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    expect(image.all('PRAGMA user_version')).toEqual([{ user_version: LATEST_SCHEMA_VERSION }]);
    expect(image.all(`SELECT count(*) AS n FROM message_fts WHERE message_fts MATCH '${SEARCH_WORD}'`)).toEqual([{ n: 1 }]);
    const [file, edge] = await Promise.all([canonicalDump((sql) => image.all(sql)), edgeDump(name)]);
    expect(file['messages']?.length).toBeGreaterThan(5);
    expect(file).toEqual(edge);
    image.close();
  });
});

describe('importDatabase on the edge', () => {
  it('moves a store into another object with every record intact, and search finds the text', async () => {
    const { name, store } = await populated();
    const targetName = named('target');
    const target = edgeStore(env.STORES, targetName);
    await target.upsertThread({ id: 'replaced', preview: '', ephemeral: false, modelProvider: 'x', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api' });
    const result = await target.importDatabase(await store.exportDatabase());
    expect(result).toMatchObject({ fromVersion: LATEST_SCHEMA_VERSION, schemaVersion: LATEST_SCHEMA_VERSION, threads: 4 });
    expect(await edgeDump(targetName)).toEqual(await edgeDump(name));
    expect((await target.searchMessages(SEARCH_WORD)).map((h) => h.messageId)).toEqual((await store.searchMessages(SEARCH_WORD)).map((h) => h.messageId));
    expect(await target.getThread('replaced')).toBeNull();
    expect(await target.exportSessionIndex()).toContain('"alpha"');
    expect((await target.info()).schemaVersion).toBe(LATEST_SCHEMA_VERSION);
  });

  it('reports progress through every phase, the copy ending at 1', async () => {
    const { store } = await populated();
    const bytes = await store.exportDatabase();
    const stub = env.STORES.get(env.STORES.idFromName(named('progress'))) as DurableObjectStub<StoreObject>;
    await loadEdgeEngine();
    const seen = await runInDurableObject(stub, (object) => {
      const events: ImportProgress[] = [];
      (object as unknown as StoreObject).localStore().importDatabase(bytes, { onProgress: (p: ImportProgress) => events.push({ ...p }) });
      return events;
    });
    expect(seen[0]).toEqual({ phase: 'validate', fraction: 0 });
    expect(seen.at(-1)).toEqual({ phase: 'done', fraction: 1 });
    const copy = seen.filter((p) => p.phase === 'copy').map((p) => p.fraction);
    expect(copy.length).toBeGreaterThan(2);
    expect(copy.at(-1)).toBe(1);
    expect([...new Set(seen.map((p) => p.phase))]).toEqual(['validate', 'integrity', 'migrate', 'copy', 'index', 'done']);
  });

  describe('refuses a bad file with the browser codes and writes nothing', () => {
    async function refusedUntouched(bytes: Uint8Array, code: string) {
      const { name, store } = await populated();
      const before = await edgeDump(name);
      const indexBefore = await store.exportSessionIndex();
      const error = await store.importDatabase(bytes).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ name: 'StoreError', code });
      expect(await edgeDump(name)).toEqual(before);
      expect(await store.exportSessionIndex()).toBe(indexBefore);
      return error as { details?: Record<string, unknown> };
    }

    it('garbage bytes: INVALID_ARGUMENT', async () => {
      await refusedUntouched(new TextEncoder().encode('this is not a database, just text. '.repeat(200)), 'INVALID_ARGUMENT');
    });

    it('a truncated file: INVALID_ARGUMENT naming the sizes', async () => {
      const bytes = await (await populated()).store.exportDatabase();
      const error = await refusedUntouched(bytes.slice(0, bytes.byteLength - 4096), 'INVALID_ARGUMENT');
      expect(error.details?.['expectedBytes']).toBe(bytes.byteLength);
    });

    it('a file from a newer schema: SCHEMA_TOO_NEW', async () => {
      const bytes = await (await populated()).store.exportDatabase();
      const error = await refusedUntouched(await edited(bytes, `PRAGMA user_version = ${LATEST_SCHEMA_VERSION + 1}`), 'SCHEMA_TOO_NEW');
      expect(error.details?.['databaseVersion']).toBe(LATEST_SCHEMA_VERSION + 1);
    });

    it('a SQLite file that is not a store: INVALID_ARGUMENT', async () => {
      const image = memoryDriver(await loadEdgeEngine());
      image.exec('CREATE TABLE notes (body TEXT)');
      await refusedUntouched(image.serialize(), 'INVALID_ARGUMENT');
      image.close();
    });
  });
});

describe('an import on the edge takes rows, never a file\'s schema', () => {
  /** The object's schema as sqlite_master lists it, without the platform's own tables. */
  function edgeSchema(name: string): Promise<string[]> {
    const stub = env.STORES.get(env.STORES.idFromName(name)) as DurableObjectStub<StoreObject>;
    return runInDurableObject(stub, (_object, state) =>
      state.storage.sql
        .exec("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY type, name")
        .toArray()
        .map((r) => `${String(r['type'])} ${String(r['name'])}: ${String(r['sql'])}`),
    );
  }

  for (const hostile of HOSTILE_CASES) {
    it(`${hostile.name}: ${'refused' in hostile.outcome ? 'refused with INVALID_ARGUMENT, nothing written' : 'imported without it'}`, async () => {
      const { store: source } = await populated();
      const bytes = await edited(await source.exportDatabase(), hostile.sql);
      const { name, store } = await populated();
      const schema = await edgeSchema(name);
      if ('refused' in hostile.outcome) {
        const before = await edgeDump(name);
        const error = await store.importDatabase(bytes).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toMatchObject({ name: 'StoreError', code: 'INVALID_ARGUMENT', details: hostile.outcome.refused });
        expect(await edgeDump(name)).toEqual(before);
      } else {
        const result = await store.importDatabase(bytes);
        expect(result.ignored).toEqual(expect.arrayContaining(hostile.outcome.defused));
        expect(result.ignored.length).toBe(hostile.outcome.defused.length);
      }
      const after = await edgeSchema(name);
      expect(after).toEqual(schema);
      for (const planted of PLANTED_NAMES) expect(after.join('\n')).not.toContain(planted);
      // Normal writes work, and search sees them.
      const before = (await store.listMessages('alpha')).length;
      await store.appendMessage('alpha', 'user', 'a normal write after the import');
      expect((await store.listMessages('alpha')).length).toBe(before + 1);
      expect((await store.searchMessages('normal write')).length).toBe(1);
    });
  }

  it('imports the Rust store\'s own file (schema v4, page size 4096), as Node does', async () => {
    const bytes = new Uint8Array(rustSeed);
    expect(new DataView(bytes.buffer).getUint16(16)).toBe(4096);
    const store = edgeStore(env.STORES, named('rust'));
    const result = await store.importDatabase(bytes);
    expect(result).toEqual({ fromVersion: 4, schemaVersion: LATEST_SCHEMA_VERSION, threads: 4, messages: 16, ignored: [], dropped: { messages: 1, checkpoints: 1 } });
    expect((await store.listThreads({ includeArchived: true })).map((t) => t.id).sort()).toEqual(['thread-alpha', 'thread-beta', 'thread-delta', 'thread-gamma']);
    expect(await store.appendMessage('thread-alpha', 'user', 'after the Rust file')).toBeGreaterThan(19);
    expect(await store.integrityCheck()).toEqual({ ok: true, problems: [] });
  });
});
