import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import type { Oo1Database } from './driver/oo1.js';
import { oo1Driver } from './driver/oo1.js';
import { memoryTextFile } from './driver/memory-file.js';
import { StoreError } from './core/errors.js';
import { StateStore } from './core/store.js';

/** Options of createMemoryStore. */
export interface MemoryStoreOptions {
  /** A whole SQLite database file to start from (it is copied, never written back). */
  bytes?: Uint8Array;
  /** The session index text to start from. */
  sessionIndex?: string;
  /** The clock for timestamps the store sets itself, in Unix seconds. */
  now?: () => number;
}

type Sqlite3 = Awaited<ReturnType<typeof sqlite3InitModule>>;

// One engine per process: initialising the wasm module costs tens of milliseconds.
let engine: Promise<Sqlite3> | undefined;

function loadEngine(): Promise<Sqlite3> {
  // Route the engine's own diagnostics away from stderr: every failure reaches the caller as a StoreError.
  engine ??= (sqlite3InitModule as unknown as (config: object) => Promise<Sqlite3>)({ print: () => {}, printErr: () => {} });
  return engine;
}

function deserializeInto(sqlite3: Sqlite3, db: InstanceType<Sqlite3['oo1']['DB']>, bytes: Uint8Array): void {
  const { capi, wasm } = sqlite3;
  const pointer = wasm.allocFromTypedArray(bytes);
  const rc = capi.sqlite3_deserialize(
    db.pointer!,
    'main',
    pointer,
    bytes.byteLength,
    bytes.byteLength,
    capi.SQLITE_DESERIALIZE_FREEONCLOSE | capi.SQLITE_DESERIALIZE_RESIZEABLE,
  );
  if (rc !== 0) {
    wasm.dealloc(pointer);
    throw new StoreError('STORAGE', `could not load the database bytes (SQLite result code ${rc})`, { details: { resultCode: rc } });
  }
}

/**
 * Opens a complete store in memory on sqlite-wasm, with an in-memory session index. For Node,
 * tests and edge runtimes; nothing is persisted.
 *
 * @example
 * const store = await createMemoryStore();
 * store.upsertThread({ id: 't1', preview: '', ephemeral: false, modelProvider: 'openai', createdAt: 1, updatedAt: 1,
 *   status: 'idle', cwd: '/', cliVersion: '1.0', source: 'api' });
 */
export async function createMemoryStore(options: MemoryStoreOptions = {}): Promise<MemoryStore> {
  const sqlite3 = await loadEngine();
  const db = new sqlite3.oo1.DB(':memory:', 'c');
  const file = memoryTextFile(options.sessionIndex ?? '');
  try {
    if (options.bytes) deserializeInto(sqlite3, db, options.bytes);
    const driver = oo1Driver(db as unknown as Oo1Database, (d) => sqlite3.capi.sqlite3_get_autocommit(d.pointer as number) !== 0);
    const store = StateStore.open({ db: driver, sessionIndex: file, ...(options.now ? { now: options.now } : {}) });
    return Object.assign(store, {
      exportBytes: () => sqlite3.capi.sqlite3_js_db_export(db),
      sessionIndexText: () => file.content,
    });
  } catch (error) {
    db.close();
    throw error;
  }
}

/** An in-memory store that can also hand out its database bytes and session index text. */
export type MemoryStore = StateStore & {
  /** The whole database as a SQLite file image. */
  exportBytes(): Uint8Array;
  /** The session index file's current text. */
  sessionIndexText(): string;
};
