import { loadEngine } from './driver/engine.js';
import { deserializeInto, oo1Driver, type Oo1Database, type Oo1Engine } from './driver/oo1.js';
import { memoryTextFile } from './driver/memory-file.js';
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
    const engine = sqlite3 as unknown as Oo1Engine;
    if (options.bytes) deserializeInto(engine, db as unknown as Oo1Database, options.bytes);
    const driver = oo1Driver(engine, db as unknown as Oo1Database);
    const store = StateStore.open({ db: driver, sessionIndex: file, ...(options.now ? { now: options.now } : {}) });
    return Object.assign(store, {
      exportBytes: () => driver.serialize(),
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
