import { StoreError } from '../src/core/errors.js';
import type { Sqlite3 } from '../src/driver/engine.js';

/**
 * The storage of a store where OPFS is missing (WebKitGTK, private windows, older Safari): the
 * database lives in the worker's memory, in the files of a small VFS of our own, and every commit
 * writes the chunks of the database file it changed to IndexedDB, in one IndexedDB transaction.
 *
 * - A commit is durable once its IndexedDB transaction completes. Under `strict` a write's promise
 *   waits for that (the transaction asks for `durability: 'strict'`); under `relaxed` the chunks are
 *   written 250 ms after the last commit, on pagehide and on close.
 * - IndexedDB transactions are atomic, and each one holds whole commits only, so a crash at any
 *   moment leaves the database of some commit in IndexedDB, never a mix.
 * - A commit costs the pages it changed, not the size of the database (the old whole-snapshot
 *   scheme serialized and stored the whole file on every save; see bench/results/fallback.json).
 * - Two writers never overwrite each other: every persisting transaction checks the version it
 *   expects in the same transaction (compare and swap). A worker that finds another's commit there
 *   (two tabs that both lead, which happens where Web Locks are missing, or a stale ex-leader)
 *   refuses its own commit with CONFLICT and reloads the database from IndexedDB.
 *
 * The approach is that of the IndexedDB VFSes of wa-sqlite (the file kept as blocks in an object
 * store, written in batches at the sync points), with the whole file mirrored in memory so that
 * SQLite's calls stay synchronous.
 */

/** Bytes per IndexedDB record of the database file. Reads and writes at any offset are served. */
export const CHUNK_SIZE = 4096;

/** A file held in memory as fixed-size chunks; remembers which chunks changed since the last persist. */
export class ChunkedFile {
  chunks: (Uint8Array | undefined)[] = [];
  size = 0;
  dirty = new Set<number>();
  /** Set when the file shrank below a chunk that IndexedDB may still hold. */
  truncatedTo: number | null = null;

  read(dest: Uint8Array, offset: number): number {
    const end = Math.min(offset + dest.length, this.size);
    let done = 0;
    for (let at = offset; at < end; ) {
      const index = Math.floor(at / CHUNK_SIZE);
      const within = at - index * CHUNK_SIZE;
      const n = Math.min(CHUNK_SIZE - within, end - at);
      const chunk = this.chunks[index];
      if (chunk) dest.set(chunk.subarray(within, within + n), at - offset);
      else dest.fill(0, at - offset, at - offset + n);
      at += n;
      done += n;
    }
    return Math.max(done, 0);
  }

  write(src: Uint8Array, offset: number): void {
    const end = offset + src.length;
    for (let at = offset; at < end; ) {
      const index = Math.floor(at / CHUNK_SIZE);
      const within = at - index * CHUNK_SIZE;
      const n = Math.min(CHUNK_SIZE - within, end - at);
      let chunk = this.chunks[index];
      if (!chunk) chunk = this.chunks[index] = new Uint8Array(CHUNK_SIZE);
      chunk.set(src.subarray(at - offset, at - offset + n), within);
      this.dirty.add(index);
      at += n;
    }
    if (end > this.size) this.size = end;
  }

  truncate(size: number): void {
    if (size >= this.size) {
      this.size = size;
      return;
    }
    const keep = Math.ceil(size / CHUNK_SIZE);
    this.chunks.length = Math.min(this.chunks.length, keep);
    const last = this.chunks[keep - 1];
    if (last && size % CHUNK_SIZE !== 0) {
      last.fill(0, size % CHUNK_SIZE);
      this.dirty.add(keep - 1);
    }
    for (const index of this.dirty) if (index >= keep) this.dirty.delete(index);
    this.size = size;
    this.truncatedTo = Math.min(this.truncatedTo ?? keep, keep);
  }

  /** Replaces the whole content (a load from IndexedDB); nothing is dirty afterwards. */
  replace(chunks: Map<number, Uint8Array>, size: number): void {
    this.chunks = [];
    for (const [index, bytes] of chunks) if (index * CHUNK_SIZE < size) this.chunks[index] = new Uint8Array(bytes);
    this.size = size;
    this.dirty.clear();
    this.truncatedTo = null;
  }

  /** The whole file as one array (tests, and the import of an old whole snapshot). */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    this.read(out, 0);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------
// The VFS: files in memory, one namespace per VFS name.

interface Capi {
  sqlite3_vfs_find(name: string | null): number;
  sqlite3_vfs: new (pointer?: number) => VfsStruct;
  sqlite3_io_methods: new () => IoStruct;
  sqlite3_file: (new (pointer: number) => { $pMethods: number; dispose(): void }) & { structInfo: { sizeof: number } };
  SQLITE_IOERR: number;
  SQLITE_IOERR_SHORT_READ: number;
  SQLITE_CANTOPEN: number;
  SQLITE_NOTFOUND: number;
  SQLITE_OPEN_CREATE: number;
  SQLITE_OPEN_DELETEONCLOSE: number;
  SQLITE_OPEN_MAIN_DB: number;
}
interface VfsStruct {
  $iVersion: number;
  $szOsFile: number;
  $mxPathname: number;
  $zName: number;
  $xRandomness: unknown;
  pointer: number;
  addOnDispose(...x: unknown[]): void;
  dispose(): void;
}
interface IoStruct {
  $iVersion: number;
  pointer: number;
}
interface Wasm {
  heap8u(): Uint8Array;
  poke32(ptr: unknown, value: number): void;
  poke64(ptr: unknown, value: bigint): void;
  poke(ptr: unknown, value: number, type: string): void;
  cstrToJs(ptr: unknown): string;
  cstrncpy(dest: unknown, src: unknown, n: number): number;
  allocCString(s: string): number;
}
interface VfsApi {
  installVfs(options: { io?: { struct: IoStruct; methods: Record<string, unknown> }; vfs?: { struct: VfsStruct; methods: Record<string, unknown> } }): void;
}

/** The files of one VFS (one store), by path. */
export interface MemoryVfs {
  name: string;
  files: Map<string, ChunkedFile>;
}

const vfses = new Map<string, MemoryVfs>();
let ioMethods: IoStruct | undefined;
/** sqlite3_file pointer → its file. */
const openFiles = new Map<number, { file: ChunkedFile; path: string; deleteOnClose: boolean; vfs: MemoryVfs }>();
/** sqlite3_vfs pointer → its namespace. */
const byPointer = new Map<number, MemoryVfs>();

/** Registers (once per name) a VFS whose files live in memory, and returns its file table. */
export function memoryVfs(sqlite3: Sqlite3, name: string): MemoryVfs {
  const found = vfses.get(name);
  if (found) return found;
  const capi = sqlite3.capi as unknown as Capi;
  const wasm = sqlite3.wasm as unknown as Wasm;
  const vfsApi = (sqlite3 as unknown as { vfs: VfsApi }).vfs;
  const heap = (ptr: unknown, n: number) => wasm.heap8u().subarray(Number(ptr), Number(ptr) + n);
  const entry = (pFile: unknown) => openFiles.get(Number(pFile));

  if (!ioMethods) {
    ioMethods = new capi.sqlite3_io_methods();
    ioMethods.$iVersion = 1;
    vfsApi.installVfs({
      io: {
        struct: ioMethods,
        methods: {
          xCheckReservedLock: (_pFile: unknown, pOut: unknown) => {
            wasm.poke32(pOut, 0);
            return 0;
          },
          xClose: (pFile: unknown) => {
            const open = entry(pFile);
            openFiles.delete(Number(pFile));
            if (open?.deleteOnClose) open.vfs.files.delete(open.path);
            return 0;
          },
          xDeviceCharacteristics: () => 0,
          xFileControl: () => capi.SQLITE_NOTFOUND,
          xFileSize: (pFile: unknown, pSize: unknown) => {
            const open = entry(pFile);
            if (!open) return capi.SQLITE_IOERR;
            wasm.poke64(pSize, BigInt(open.file.size));
            return 0;
          },
          xLock: () => 0,
          xRead: (pFile: unknown, pDest: unknown, n: number, offset: bigint | number) => {
            const open = entry(pFile);
            if (!open) return capi.SQLITE_IOERR;
            const dest = heap(pDest, n);
            const read = open.file.read(dest, Number(offset));
            if (read < n) {
              dest.fill(0, read);
              return capi.SQLITE_IOERR_SHORT_READ;
            }
            return 0;
          },
          xSectorSize: () => 512,
          xSync: () => 0,
          xTruncate: (pFile: unknown, size: bigint | number) => {
            const open = entry(pFile);
            if (!open) return capi.SQLITE_IOERR;
            open.file.truncate(Number(size));
            return 0;
          },
          xUnlock: () => 0,
          xWrite: (pFile: unknown, pSrc: unknown, n: number, offset: bigint | number) => {
            const open = entry(pFile);
            if (!open) return capi.SQLITE_IOERR;
            open.file.write(heap(pSrc, n), Number(offset));
            return 0;
          },
        },
      },
    });
  }

  const vfs: MemoryVfs = { name, files: new Map() };
  const struct = new capi.sqlite3_vfs();
  const defaultVfs = capi.sqlite3_vfs_find(null);
  struct.$iVersion = 2;
  struct.$szOsFile = capi.sqlite3_file.structInfo.sizeof;
  struct.$mxPathname = 512;
  struct.addOnDispose((struct.$zName = wasm.allocCString(name)));
  if (defaultVfs) {
    const d = new capi.sqlite3_vfs(defaultVfs);
    struct.$xRandomness = d.$xRandomness;
    d.dispose();
  }
  let temp = 0;
  vfsApi.installVfs({
    vfs: {
      struct,
      methods: {
        xAccess: (_pVfs: unknown, zName: unknown, _flags: number, pOut: unknown) => {
          wasm.poke32(pOut, vfs.files.has(wasm.cstrToJs(zName)) ? 1 : 0);
          return 0;
        },
        xCurrentTime: (_pVfs: unknown, pOut: unknown) => {
          wasm.poke(pOut, 2440587.5 + Date.now() / 864e5, 'double');
          return 0;
        },
        xCurrentTimeInt64: (_pVfs: unknown, pOut: unknown) => {
          wasm.poke(pOut, 0xbfc83e532200 + Date.now(), 'i64');
          return 0;
        },
        xDelete: (_pVfs: unknown, zName: unknown) => {
          vfs.files.delete(wasm.cstrToJs(zName));
          return 0;
        },
        xFullPathname: (_pVfs: unknown, zName: unknown, nOut: number, pOut: unknown) => (wasm.cstrncpy(pOut, zName, nOut) < nOut ? 0 : capi.SQLITE_CANTOPEN),
        xGetLastError: () => 0,
        xOpen: (_pVfs: unknown, zName: unknown, pFile: unknown, flags: number, pOutFlags: unknown) => {
          const path = zName && Number(zName) !== 0 ? wasm.cstrToJs(zName) : `temp-${++temp}`;
          let file = vfs.files.get(path);
          if (!file) {
            if (!(flags & capi.SQLITE_OPEN_CREATE)) return capi.SQLITE_CANTOPEN;
            file = new ChunkedFile();
            vfs.files.set(path, file);
          }
          openFiles.set(Number(pFile), { file, path, deleteOnClose: (flags & capi.SQLITE_OPEN_DELETEONCLOSE) !== 0, vfs });
          const sq3File = new capi.sqlite3_file(Number(pFile));
          sq3File.$pMethods = ioMethods!.pointer;
          sq3File.dispose();
          wasm.poke32(pOutFlags, flags);
          return 0;
        },
        xSleep: () => 0,
      },
    },
  });
  byPointer.set(struct.pointer, vfs);
  vfses.set(name, vfs);
  return vfs;
}

// ---------------------------------------------------------------------------------------------------
// The IndexedDB side: one database per store, three object stores.

/** The record `meta` of a store's IndexedDB database. */
interface Meta {
  /** Commits persisted so far. */
  version: number;
  /**
   * A random id of the last persisted commit: the compare-and-swap that keeps two writers apart checks
   * it (a counter could match by chance when two writers made the same number of commits).
   */
  commitId: string;
  /** Bytes of the database file. */
  size: number;
  chunkSize: number;
  /** The next key of the session index's records. */
  indexNext: number;
}

const CHUNKS = 'chunks';
const INDEX = 'index';
const META = 'meta';

export function idbName(store: string): string {
  return `agent-state-store:${store}`;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export function openIdb(store: string): Promise<IDBDatabase> {
  const open = indexedDB.open(idbName(store), 1);
  open.onupgradeneeded = () => {
    const db = open.result;
    db.createObjectStore(CHUNKS);
    db.createObjectStore(INDEX);
    db.createObjectStore(META);
  };
  return request(open);
}

/** What IndexedDB holds for a store, read in one transaction. */
export interface Loaded {
  meta: Meta | undefined;
  chunks: Map<number, Uint8Array>;
  sessionIndex: string;
}

export function loadAll(db: IDBDatabase): Promise<Loaded> {
  return new Promise((resolve, reject) => {
    const tx = db.transaction([CHUNKS, INDEX, META], 'readonly');
    let meta: Meta | undefined;
    let keys: IDBValidKey[] = [];
    let values: Uint8Array[] = [];
    let index: string[] = [];
    tx.objectStore(META).get('meta').onsuccess = (e) => void (meta = (e.target as IDBRequest<Meta | undefined>).result);
    tx.objectStore(CHUNKS).getAllKeys().onsuccess = (e) => void (keys = (e.target as IDBRequest<IDBValidKey[]>).result);
    tx.objectStore(CHUNKS).getAll().onsuccess = (e) => void (values = (e.target as IDBRequest<Uint8Array[]>).result);
    tx.objectStore(INDEX).getAll().onsuccess = (e) => void (index = (e.target as IDBRequest<string[]>).result);
    tx.oncomplete = () => {
      const chunks = new Map<number, Uint8Array>();
      keys.forEach((key, i) => chunks.set(key as number, values[i]!));
      resolve({ meta, chunks, sessionIndex: index.join('') });
    };
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('aborted'));
  });
}

/** One persist: the chunks a set of commits changed, and the session index's appends or rewrite. */
export interface Batch {
  chunks: Map<number, Uint8Array>;
  size: number;
  truncatedTo: number | null;
  index: { replace: string | null; appends: string[] };
}

/** Refused because another writer's commit is in IndexedDB (the compare-and-swap failed). */
export class Conflict extends Error {
  constructor(readonly found: string | null, readonly expected: string | null) {
    super('another tab or worker has written this store since this worker loaded it');
  }
}

/** Which commit IndexedDB holds: null for a store never written. */
export function commitOf(meta: Meta | undefined): string | null {
  return meta?.commitId ?? null;
}

/**
 * Writes `batch` as commit `commitId` in one transaction, only if IndexedDB still holds commit
 * `expected` (this worker's previous one, or the one it loaded); resolves once the transaction has
 * completed, with the `durability` asked for.
 */
export function persist(db: IDBDatabase, batch: Batch, expected: string | null, commitId: string, durability: 'strict' | 'relaxed'): Promise<void> {
  return new Promise((resolve, reject) => {
    let tx: IDBTransaction;
    try {
      tx = db.transaction([CHUNKS, INDEX, META], 'readwrite', { durability });
    } catch (error) {
      reject(error);
      return;
    }
    let conflict: Conflict | undefined;
    const metaStore = tx.objectStore(META);
    metaStore.get('meta').onsuccess = (event) => {
      const meta = (event.target as IDBRequest<Meta | undefined>).result;
      const found = commitOf(meta);
      if (found !== expected) {
        conflict = new Conflict(found, expected);
        tx.abort();
        return;
      }
      const chunks = tx.objectStore(CHUNKS);
      if (batch.truncatedTo !== null) chunks.delete(IDBKeyRange.lowerBound(batch.truncatedTo));
      for (const [index, bytes] of batch.chunks) chunks.put(bytes, index);
      const index = tx.objectStore(INDEX);
      let next = meta?.indexNext ?? 0;
      if (batch.index.replace !== null) {
        index.clear();
        next = 0;
        index.put(batch.index.replace, next++);
      }
      for (const text of batch.index.appends) index.put(text, next++);
      metaStore.put({ version: (meta?.version ?? 0) + 1, commitId, size: batch.size, chunkSize: CHUNK_SIZE, indexNext: next } satisfies Meta, 'meta');
    };
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(conflict ?? tx.error ?? new Error('the IndexedDB transaction was aborted'));
  });
}

/** An IndexedDB failure as a StoreError: a full disk is QUOTA_EXCEEDED, another writer CONFLICT. */
export function persistError(error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  if (error instanceof Conflict) {
    return new StoreError('CONFLICT', `the commit was not kept: ${error.message}; the store has reloaded what IndexedDB holds`, { details: { reason: 'another-writer' }, cause: error });
  }
  const name = (error as { name?: string } | null)?.name;
  if (name === 'QuotaExceededError') return new StoreError('QUOTA_EXCEEDED', `IndexedDB is full: ${(error as Error).message}`, { cause: error });
  return new StoreError('STORAGE', `IndexedDB: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
