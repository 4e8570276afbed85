import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { StoreError, createMemoryStore } from '../../src/core.js';
import type { MemoryStore } from '../../src/core.js';
import { DATA_TABLES, NOT_COPIED, isSyncOwned } from '../../src/core/data-tables.js';
import { LATEST_SCHEMA_VERSION, migrations } from '../../src/core/migrate.js';
import { buildLegacyV0, exportImage, legacyRows, openImage } from '../fixtures/build-fixtures.js';
import { fillEveryTable } from '../support/full-store.js';
import { HOSTILE_CASES, PLANTED_NAMES } from '../support/hostile-files.js';

/**
 * An import takes a file's rows and never its schema (Node, sqlite-wasm): a planted trigger, view,
 * index, table or column never reaches the store; a file whose tables are not the store's is refused
 * with INVALID_ARGUMENT and nothing written; the Rust store's own file comes in; a hook that throws
 * rolls the whole import back.
 */

const RUST_SEED = readFileSync(new URL('../fixtures/rust-seed-v4/state.db', import.meta.url));

async function edit(bytes: Uint8Array, sql: string): Promise<Uint8Array> {
  const db = await openImage(bytes);
  try {
    db.exec(sql);
    return await exportImage(db);
  } finally {
    db.close();
  }
}

async function filled(): Promise<MemoryStore> {
  const store = await createMemoryStore({ now: () => 1_700_000_000 });
  await fillEveryTable(store);
  return store;
}

/** The store's schema as sqlite_master lists it (the search index's shadow tables included). */
function schemaOf(store: MemoryStore): string[] {
  return store.layer().db.all('SELECT type, name, sql FROM sqlite_master ORDER BY type, name').map((r) => `${String(r['type'])} ${String(r['name'])}: ${String(r['sql'])}`);
}

/** A store's data after a write through the ordinary API, to prove it still works as a store. */
function writesWork(store: MemoryStore): void {
  const before = store.listMessages('alpha').length;
  store.appendMessage('alpha', 'user', 'a normal write after the import');
  expect(store.listMessages('alpha').length).toBe(before + 1);
  expect(store.searchMessages('normal write').length).toBe(1);
  expect(store.integrityCheck()).toEqual({ ok: true, problems: [] });
}

describe('the data tables are one list', () => {
  it('names every table the migrations create, or says why it is not copied', async () => {
    const store = await createMemoryStore();
    const tables = store
      .layer()
      .db.all("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
      .map((r) => String(r['name']))
      .filter((name) => !/^message_fts_/.test(name));
    expect(migrations.length).toBeGreaterThan(0);
    for (const table of tables) {
      expect([...DATA_TABLES, ...Object.keys(NOT_COPIED)].includes(table) || isSyncOwned(table), `${table} is classified`).toBe(true);
    }
    expect(tables.filter((t) => (DATA_TABLES as readonly string[]).includes(t)).sort()).toEqual([...DATA_TABLES].sort());
  });
});

describe('a hostile file', () => {
  for (const hostile of HOSTILE_CASES) {
    it(`${hostile.name}: ${'refused' in hostile.outcome ? 'refused with INVALID_ARGUMENT, nothing written' : 'imported without it'}`, async () => {
      const source = await filled();
      const bytes = await edit(source.exportDatabase(), hostile.sql);
      const target = await filled();
      const schema = schemaOf(target);
      if ('refused' in hostile.outcome) {
        const before = target.exportDatabase();
        const error = (() => {
          try {
            target.importDatabase(bytes);
          } catch (e) {
            return e;
          }
          throw new Error('the hostile file was imported');
        })();
        expect(error).toBeInstanceOf(StoreError);
        expect((error as StoreError).code, (error as Error).message).toBe('INVALID_ARGUMENT');
        expect((error as StoreError).details).toMatchObject(hostile.outcome.refused);
        expect(Buffer.from(target.exportDatabase()).equals(Buffer.from(before)), 'the database bytes changed').toBe(true);
      } else {
        const result = target.importDatabase(bytes);
        expect(result.ignored).toEqual(expect.arrayContaining(hostile.outcome.defused));
        expect(result.ignored.length).toBe(hostile.outcome.defused.length);
        expect(target.listThreads({ includeArchived: true }).length).toBe(4);
      }
      // Nothing of the file's schema survives: the store's schema is what its migrations made.
      expect(schemaOf(target)).toEqual(schema);
      for (const name of PLANTED_NAMES) expect(schemaOf(target).join('\n')).not.toContain(name);
      writesWork(target);
    });
  }

  it('an older file whose planted trigger would fire during its migration: set aside before the migration runs', async () => {
    // The legacy upgrade (step 1) UPDATEs every message; a file's trigger on that would wipe its threads.
    const bytes = await edit(await buildLegacyV0(), 'CREATE TRIGGER evil_wipe AFTER UPDATE ON messages BEGIN DELETE FROM threads; END;');
    const target = await filled();
    const result = target.importDatabase(bytes);
    expect(result).toMatchObject({ fromVersion: 0, threads: legacyRows.threads.length, messages: legacyRows.messages.length });
    expect(result.ignored).toEqual([{ type: 'trigger', name: 'evil_wipe' }]);
    expect(schemaOf(target).join('\n')).not.toContain('evil_wipe');
  });

  it('the Rust store’s own file (schema v4): imported, the rows its deleted thread left behind dropped and counted', async () => {
    const target = await filled();
    const result = target.importDatabase(new Uint8Array(RUST_SEED));
    // thread-gone was deleted by the Rust store, which never enables foreign keys: its message and checkpoint stayed.
    expect(result).toEqual({ fromVersion: 4, schemaVersion: LATEST_SCHEMA_VERSION, threads: 4, messages: 16, ignored: [], dropped: { messages: 1, checkpoints: 1 } });
    expect(target.listMessages('thread-alpha').length).toBeGreaterThan(2);
    expect(target.layer().db.all('PRAGMA foreign_key_check')).toEqual([]);
    const ids = target.listThreads({ includeArchived: true, limit: 10 }).map((t) => t.id).sort();
    expect(ids).toEqual(['thread-alpha', 'thread-beta', 'thread-delta', 'thread-gamma']);
    const fresh = target.appendMessage('thread-alpha', 'user', 'after the Rust file');
    expect(fresh).toBeGreaterThan(19);
  });
});

describe('import hooks (StoreLayerPort.onImport)', () => {
  it('run inside the import: a hook that throws rolls the whole import back, the old data and index stay', async () => {
    const source = await filled();
    const target = await createMemoryStore();
    target.upsertThread({ id: 'kept', preview: '', ephemeral: false, modelProvider: 'x', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api', name: 'Kept' });
    target.appendMessage('kept', 'user', 'still here');
    const before = { bytes: target.exportDatabase(), index: target.exportSessionIndex() };
    let sawRows = -1;
    const stop = target.layer().onImport(() => {
      sawRows = target.listThreads({ includeArchived: true }).length;
      throw new Error('the layer above refuses');
    });
    expect(() => target.importDatabase(source.exportDatabase())).toThrow(StoreError);
    // The hook ran after the rows were in, and its failure undid them.
    expect(sawRows).toBe(4);
    expect(Buffer.from(target.exportDatabase()).equals(Buffer.from(before.bytes))).toBe(true);
    expect(target.exportSessionIndex()).toBe(before.index);
    expect(target.findThreadNameById('kept')).toBe('Kept');
    stop();
    expect(target.importDatabase(source.exportDatabase()).threads).toBe(4);
  });
});
