import type { Sqlite3 } from '../src/driver/engine.js';
import { get as idbGet, set as idbSet } from 'idb-keyval';
import { deserializeInto, oo1Driver, type Oo1Database, type Oo1Engine } from '../src/driver/oo1.js';
import { lastStorageError } from './storage-errors.js';
import { memoryTextFile } from '../src/driver/memory-file.js';
import type { SqlDriver, TextFile } from '../src/driver/port.js';
import { StoreError } from '../src/core/errors.js';
import { StateStore } from '../src/core/store.js';
import type { ActiveVfs, Durability, StoreInfo } from '../src/core/types.js';
import type { WorkerOpenOptions } from '../src/wire.js';
import { openOpfsTextFile } from './opfs-text-file.js';

/**
 * Boots sqlite-wasm inside the worker and opens the database on the chosen storage: the
 * `opfs-sahpool` VFS by default, the `opfs` VFS when asked (it needs cross-origin isolation), or
 * memory with snapshots in IndexedDB when OPFS cannot be used.
 */

type Oo1DB = InstanceType<Sqlite3['oo1']['DB']>;

/** What the opfs-sahpool pool holds: StoreInfo's pool fields. */
export type PoolStorage = Required<Pick<StoreInfo, 'poolBytes' | 'poolFiles' | 'poolFilesInUse'>>;

/** An opened database with everything the worker needs to run and describe it. */
export interface OpenedDatabase {
  vfs: ActiveVfs;
  fallbackReason: string | null;
  db: Oo1DB;
  driver: SqlDriver;
  sessionIndex: TextFile;
  dbPath: string;
  /** Called after every commit: memory mode schedules a snapshot. */
  afterCommit(): void;
  /** Writes a pending snapshot now (memory mode); a no-op on OPFS. */
  flush(): Promise<void>;
  /**
   * Makes room for the files an exclusive operation (import, VACUUM) may open: the pool grows here,
   * never inside SQLite. Undefined when no room is needed, so that the call is not delayed.
   */
  prepareExclusive?(): Promise<void> | undefined;
  /** The OPFS pool's files and their bytes (opfs-sahpool only). */
  storage?(): Promise<PoolStorage>;
  /** Releases every OPFS handle; call after the database itself is closed. */
  release(): Promise<void>;
}

const ROOT = 'agent-state-store';
const SNAPSHOT_DELAY_MS = 250;

function driverFor(sqlite3: Sqlite3, db: Oo1DB): SqlDriver {
  return oo1Driver(sqlite3 as unknown as Oo1Engine, db as unknown as Oo1Database, lastStorageError);
}

async function storeDirectory(name: string): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  const top = await root.getDirectoryHandle(ROOT, { create: true });
  return top.getDirectoryHandle(name, { create: true });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Installs the pool VFS, retrying with backoff: a worker that just died (a closed tab, a terminated
 * worker) releases its access handles a little later, and until then the install fails.
 */
async function installPool(sqlite3: Sqlite3, name: string) {
  const delays = [50, 100, 200, 400, 800, 1600];
  for (let attempt = 0; ; attempt++) {
    try {
      return await sqlite3.installOpfsSAHPoolVfs({
        name: `ass-${name}`,
        directory: `/${ROOT}/${name}/.pool`,
        initialCapacity: SPARE_FILES + 1,
        preserveOnInitFailure: true,
        forceReinitIfPreviouslyFailed: true,
      } as Parameters<Sqlite3['installOpfsSAHPoolVfs']>[0]);
    } catch (error) {
      const delay = delays[attempt];
      if (delay === undefined) {
        throw new StoreError('BUSY', `the store "${name}" is held by another tab or worker: ${(error as Error).message}`, { cause: error });
      }
      await sleep(delay);
    }
  }
}

type Pool = Awaited<ReturnType<typeof installPool>>;

// Every file of the pool is an OPFS file held open with a sync access handle, and Chromium counts
// about 1 MiB of quota reserved for each open handle as used (measured: twelve files, 13.6 MB used for
// a 467 KB database; three or four files, 3–4 MB). So a new pool starts with the database's file and
// two spare, enough for what SQLite opens next: the journal while the schema is created, then the WAL.
// At open (after a crash left a WAL) and before an exclusive call (import, VACUUM, whose journal is one
// more file) it grows to two spare beyond the files in use. Temporary files (statement journals,
// sorts, VACUUM's copy) live in memory in this build (SQLITE_TEMP_STORE=2).
const SPARE_FILES = 2;

/**
 * Adds pool files so that SPARE_FILES more can be opened (the pool cannot grow while SQLite is
 * inside a call, as adding a file is asynchronous). Undefined when there are enough already.
 */
function keepSpareFiles(pool: Pool): Promise<void> | undefined {
  // Before the database is created, its own file counts as in use.
  const wanted = Math.max(pool.getFileCount(), 1) + SPARE_FILES;
  return pool.getCapacity() >= wanted ? undefined : pool.addCapacity(wanted - pool.getCapacity()).then(() => {});
}

/** The bytes of the pool's files in OPFS (its capacity, used or not), or null where they cannot be read. */
async function poolBytes(dir: FileSystemDirectoryHandle): Promise<number | null> {
  try {
    const opaque = await (await dir.getDirectoryHandle('.pool')).getDirectoryHandle('.opaque');
    let total = 0;
    for await (const handle of (opaque as unknown as { values(): AsyncIterable<FileSystemHandle> }).values()) {
      if (handle.kind === 'file') total += (await (handle as FileSystemFileHandle).getFile()).size;
    }
    return total;
  } catch {
    return null;
  }
}

async function openSahPool(sqlite3: Sqlite3, name: string): Promise<OpenedDatabase> {
  // The directory (for the session index) and the pool are independent: open them side by side.
  const [dir, pool] = await Promise.all([storeDirectory(name), installPool(sqlite3, name)]);
  performance.mark('agent-state-store:pool');
  const [file] = await Promise.all([openOpfsTextFile(dir, 'session_index.jsonl'), keepSpareFiles(pool)]);
  performance.mark('agent-state-store:index-file');
  const db = new pool.OpfsSAHPoolDb('/state.db') as unknown as Oo1DB;
  performance.mark('agent-state-store:db');
  return {
    vfs: 'opfs-sahpool',
    fallbackReason: null,
    db,
    driver: driverFor(sqlite3, db),
    sessionIndex: file,
    dbPath: `/${ROOT}/${name}/state.db`,
    afterCommit() {},
    async flush() {},
    prepareExclusive: () => keepSpareFiles(pool),
    async storage() {
      return { poolBytes: await poolBytes(dir), poolFiles: pool.getCapacity(), poolFilesInUse: pool.getFileCount() };
    },
    async release() {
      file.close();
      // A pool made larger by an older version gives its unused files back, now that SQLite can no
      // longer open one mid-way (the database is closed).
      const unused = pool.getCapacity() - Math.max(pool.getFileCount(), 1) - SPARE_FILES;
      if (unused > 0) await pool.reduceCapacity(unused).catch(() => 0);
      pool.pauseVfs();
    },
  };
}

async function openOpfs(sqlite3: Sqlite3, name: string): Promise<OpenedDatabase> {
  const OpfsDb = (sqlite3.oo1 as { OpfsDb?: new (path: string, mode: string) => Oo1DB }).OpfsDb;
  if (!OpfsDb) {
    throw new StoreError('STORAGE', 'the "opfs" VFS is not available: the page must be cross-origin isolated (COOP/COEP) and the async proxy served');
  }
  const dir = await storeDirectory(name);
  const file = await openOpfsTextFile(dir, 'session_index.jsonl');
  const path = `/${ROOT}/${name}/state.db`;
  const db = new OpfsDb(path, 'c');
  return {
    vfs: 'opfs', fallbackReason: null, db, driver: driverFor(sqlite3, db), sessionIndex: file, dbPath: path,
    afterCommit() {},
    async flush() {},
    async release() {
      file.close();
    },
  };
}

interface Snapshot {
  bytes: Uint8Array;
  sessionIndex: string;
}

async function openMemory(sqlite3: Sqlite3, name: string, reason: string | null): Promise<OpenedDatabase> {
  const key = `${ROOT}:${name}:snapshot`;
  const saved = await idbGet<Snapshot>(key).catch(() => undefined);
  const db = new sqlite3.oo1.DB(':memory:', 'c');
  if (saved?.bytes?.byteLength) deserializeInto(sqlite3 as unknown as Oo1Engine, db as unknown as Oo1Database, saved.bytes);
  const file = memoryTextFile(saved?.sessionIndex ?? '');
  const driver = driverFor(sqlite3, db);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let writing: Promise<void> = Promise.resolve();
  const save = (): Promise<void> => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    const snapshot: Snapshot = { bytes: driver.serialize(), sessionIndex: file.content };
    writing = writing.then(() => idbSet(key, snapshot));
    return writing;
  };
  return {
    vfs: 'memory',
    fallbackReason: reason,
    db,
    driver,
    sessionIndex: file,
    dbPath: `memory:${name}`,
    afterCommit() {
      if (timer === undefined) timer = setTimeout(() => void save(), SNAPSHOT_DELAY_MS);
    },
    async flush() {
      if (timer !== undefined) await save();
      await writing;
    },
    async release() {},
  };
}

function opfsUnavailableReason(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Opens the database as the options ask; `auto` falls back to memory only when OPFS itself is unusable. */
export async function openDatabase(sqlite3: Sqlite3, options: WorkerOpenOptions): Promise<OpenedDatabase> {
  switch (options.vfs) {
    case 'opfs-sahpool':
      return openSahPool(sqlite3, options.name);
    case 'opfs':
      return openOpfs(sqlite3, options.name);
    case 'memory':
      return openMemory(sqlite3, options.name, 'memory was requested');
    case 'auto': {
      let reason: string;
      try {
        if (typeof navigator.storage?.getDirectory !== 'function') throw new Error('navigator.storage.getDirectory is not available');
        await navigator.storage.getDirectory();
        if (typeof FileSystemFileHandle === 'undefined' || !('createSyncAccessHandle' in FileSystemFileHandle.prototype)) {
          throw new Error('FileSystemSyncAccessHandle is not available');
        }
      } catch (error) {
        reason = opfsUnavailableReason(error);
        return openMemory(sqlite3, options.name, reason);
      }
      // OPFS works here, so a failure now (another tab holds the pool, a full disk) is reported, not hidden by a fallback.
      return openSahPool(sqlite3, options.name);
    }
  }
}

/**
 * Opens the store on an opened database with the storage settings of the browser host. On OPFS the
 * leader is the only connection, so it holds the lock for good; that is also what lets WAL work
 * without shared memory (the OPFS VFSes have none). The lock must be in force before the first
 * read, so that a WAL file left by a crash is recovered.
 */
export function startStore(opened: OpenedDatabase, durability: Durability): StateStore {
  if (opened.vfs !== 'memory') opened.driver.exec('PRAGMA locking_mode = EXCLUSIVE');
  const store = StateStore.open({ db: opened.driver, sessionIndex: opened.sessionIndex, dbPath: opened.dbPath });
  performance.mark('agent-state-store:store-open');
  // journal_mode is set after the version check in StateStore.open, so a database refused as too new
  // is not touched. WAL writes a commit as one append (plus one sync in strict mode) instead of a
  // journal and the pages; measured about 3.5x faster for sequential strict appends.
  opened.driver.exec(`PRAGMA journal_mode = ${opened.vfs === 'memory' ? 'MEMORY' : 'WAL'}`);
  // synchronous decides whether a commit waits for the flush.
  opened.driver.exec(`PRAGMA synchronous = ${durability === 'strict' ? 'FULL' : 'OFF'}`);
  return store;
}
