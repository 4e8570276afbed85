import type { Sqlite3 } from '../src/driver/engine.js';
import { del as idbDel, get as idbGet } from 'idb-keyval';
import { oo1Driver, type Oo1Database, type Oo1Engine } from '../src/driver/oo1.js';
import { lastStorageError } from './storage-errors.js';
import type { SqlDriver, TextFile } from '../src/driver/port.js';
import { StoreError } from '../src/core/errors.js';
import { StateStore } from '../src/core/store.js';
import type { ActiveVfs, Durability, StoreInfo } from '../src/core/types.js';
import type { WorkerOpenOptions } from '../src/wire.js';
import { openOpfsTextFile } from './opfs-text-file.js';
import { ChunkedFile, commitOf, loadAll, memoryVfs, openIdb, persist, persistError, type Batch, type Loaded } from './idb-pages.js';

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
  /** Where committed data is kept: OPFS files, or IndexedDB (the memory VFS's pages). */
  persistence: 'opfs' | 'indexeddb';
  fallbackReason: string | null;
  db: Oo1DB;
  driver: SqlDriver;
  sessionIndex: TextFile;
  dbPath: string;
  /**
   * Called after every commit. Memory mode persists the commit's pages to IndexedDB: under `strict` it
   * returns the promise of that write, and the commit's calls resolve only once it has completed;
   * under `relaxed` it schedules the write and returns nothing.
   */
  afterCommit(durable?: boolean): Promise<void> | undefined;
  /** Writes what memory mode has not yet persisted, now; a no-op on OPFS. */
  flush(): Promise<void>;
  /** Commits persisted to IndexedDB (memory mode). */
  storedVersion?(): number;
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
    persistence: 'opfs',
    fallbackReason: null,
    db,
    driver: driverFor(sqlite3, db),
    sessionIndex: file,
    dbPath: `/${ROOT}/${name}/state.db`,
    afterCommit: () => undefined,
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
    vfs: 'opfs', persistence: 'opfs', fallbackReason: null, db, driver: driverFor(sqlite3, db), sessionIndex: file, dbPath: path,
    afterCommit: () => undefined,
    async flush() {},
    async release() {
      file.close();
    },
  };
}

/** The whole-database snapshot that versions before the page store kept in idb-keyval's store. */
interface LegacySnapshot {
  bytes: Uint8Array;
  sessionIndex: string;
}

const MAIN_FILE = '/state.db';

/**
 * Memory with IndexedDB behind it (see idb-pages.ts): the database lives in the worker's memory, and
 * each commit's changed chunks go to IndexedDB in one transaction. `strict`: the write's promise waits
 * for that transaction (afterCommit returns it). `relaxed`: written 250 ms after the last commit, on
 * pagehide and on close.
 */
async function openMemory(sqlite3: Sqlite3, name: string, durability: Durability, reason: string | null): Promise<OpenedDatabase> {
  const idb = await openIdb(name);
  const loaded = await loadAll(idb);
  const vfs = memoryVfs(sqlite3, `ass-idb-${name}`);
  vfs.files.clear();
  const main = new ChunkedFile();
  vfs.files.set(MAIN_FILE, main);
  let indexText = '';
  let pending: Batch['index'] = { replace: null, appends: [] };
  /** The commit IndexedDB holds as far as this worker knows: the next persist expects it there. */
  let expected: string | null = null;
  let version = 0;
  const adopt = (found: Loaded) => {
    if (found.meta) main.replace(found.chunks, found.meta.size);
    else main.replace(new Map(), 0);
    indexText = found.sessionIndex;
    pending = { replace: null, appends: [] };
    expected = commitOf(found.meta);
    version = found.meta?.version ?? 0;
  };
  adopt(loaded);
  const legacyKey = `${ROOT}:${name}:snapshot`;
  const legacy = loaded.meta ? undefined : await idbGet<LegacySnapshot>(legacyKey).catch(() => undefined);

  const sessionIndex: TextFile = {
    read: () => indexText,
    append(text) {
      indexText += text;
      if (pending.replace !== null) pending.replace += text;
      else pending.appends.push(text);
    },
    replace(text) {
      indexText = text;
      pending = { replace: text, appends: [] };
    },
  };

  /** The chunks and index changes since the last persist, or null when there are none. */
  const takeBatch = (): Batch | null => {
    if (main.dirty.size === 0 && main.truncatedTo === null && pending.replace === null && pending.appends.length === 0) return null;
    const chunks = new Map<number, Uint8Array>();
    for (const index of main.dirty) chunks.set(index, main.chunks[index]!.slice());
    const batch: Batch = { chunks, size: main.size, truncatedTo: main.truncatedTo, index: pending };
    main.dirty.clear();
    main.truncatedTo = null;
    pending = { replace: null, appends: [] };
    return batch;
  };

  /** The persists under way, in order; each waits for nothing but IndexedDB's own ordering. */
  let last: Promise<void> = Promise.resolve();
  /** Set from a failed persist until the store has reloaded what IndexedDB holds. */
  let reloading: Promise<void> | null = null;

  /**
   * After a refused or failed persist, what memory holds is no longer what IndexedDB holds: load
   * IndexedDB's commit again. SQLite notices through the file change counter (bytes 24-27 of page 1),
   * which it compares at the start of every transaction (locking_mode NORMAL), so it drops its cache.
   */
  const reload = async () => {
    const before = new Uint8Array(4);
    main.read(before, 24);
    adopt(await loadAll(idb));
    const after = new Uint8Array(4);
    main.read(after, 24);
    if (main.size >= 100 && before.every((b, i) => b === after[i])) {
      const view = new DataView(new ArrayBuffer(4));
      view.setUint32(0, (new DataView(before.buffer).getUint32(0) + 1) >>> 0);
      const bumped = new Uint8Array(view.buffer);
      // The counter and its copy in "version-valid-for" (bytes 92-95), so that the header's page count stays trusted.
      main.write(bumped, 24);
      main.write(bumped, 92);
      main.dirty.clear();
    }
  };

  const persistNow = (mode: Durability): Promise<void> => {
    if (reloading) {
      // This commit was made on the state being thrown away (a call that wrote nothing just waits).
      if (!takeBatch()) return reloading;
      const refused = reloading.then(() => {
        throw new StoreError('CONFLICT', 'the commit was not kept: the store was reloading what IndexedDB holds after another writer', { details: { reason: 'another-writer' } });
      });
      return refused;
    }
    const batch = takeBatch();
    if (!batch) return last;
    const commitId = crypto.randomUUID();
    const at = expected;
    expected = commitId;
    version++;
    const written = persist(idb, batch, at, commitId, mode).catch((error: unknown) => {
      reloading ??= reload().finally(() => {
        reloading = null;
      });
      return reloading.then(() => {
        throw persistError(error);
      });
    });
    last = written.catch(() => {});
    return written;
  };

  if (legacy?.bytes?.byteLength) {
    // A store last opened by a version that kept whole snapshots: its snapshot becomes the first commit.
    main.write(legacy.bytes, 0);
    if (legacy.sessionIndex) sessionIndex.replace(legacy.sessionIndex);
    await persistNow('strict');
    await idbDel(legacyKey).catch(() => {});
  }

  const db = new sqlite3.oo1.DB({ filename: MAIN_FILE, flags: 'c', vfs: vfs.name } as never) as Oo1DB;
  const driver = driverFor(sqlite3, db);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const saveLater = () => {
    timer = undefined;
    persistNow('relaxed').catch(() => {});
  };
  return {
    vfs: 'memory',
    persistence: 'indexeddb',
    fallbackReason: reason,
    db,
    driver,
    sessionIndex,
    dbPath: `memory:${name}`,
    afterCommit(durable = false) {
      // Sync's own commits are persisted at once under any durability (a device must not forget a push).
      if (durability === 'strict' || durable) return persistNow('strict');
      if (timer === undefined) timer = setTimeout(saveLater, SNAPSHOT_DELAY_MS);
      return undefined;
    },
    async flush() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await persistNow(durability).catch(() => {});
      await last;
    },
    storedVersion: () => version,
    async release() {
      idb.close();
      vfs.files.clear();
    },
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
      return openMemory(sqlite3, options.name, options.durability, 'memory was requested');
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
        return openMemory(sqlite3, options.name, options.durability, reason);
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
