/**
 * A sqlite-wasm VFS whose files live in a block store the host provides (a Durable Object's key-value
 * storage on the edge, a Map in tests), read and written 64 KiB at a time through a small cache. It
 * lets sqlite-wasm build or read a database file of any size with bounded memory: an export is built
 * into such a file and streamed out block by block; an uploaded file is staged in one and checked and
 * copied from there, never held whole in memory.
 *
 * One connection per file, no locking, no journal of its own (the databases opened here are private
 * scratch files: a failure discards them); files SQLite asks for beside them (journals, temp files)
 * live in memory.
 */

import { oo1Driver, type Oo1Database, type Oo1Engine } from './oo1.js';
import type { SqlDriver } from './port.js';

/** Where a file's blocks are kept. Blocks are BLOCK_BYTES long (the last may be shorter). */
export interface BlockStore {
  /** A block, or undefined where nothing was written. */
  read(index: number): Uint8Array | undefined;
  write(index: number, block: Uint8Array): void;
  delete(index: number): void;
  /** The file's size in bytes. */
  getSize(): number;
  setSize(bytes: number): void;
}

/** The block size: a multiple of every SQLite page size, so a page never spans two blocks. */
export const BLOCK_BYTES = 64 * 1024;

/** A block store in memory (journals, temp files, tests). */
export function memoryBlockStore(): BlockStore {
  const blocks = new Map<number, Uint8Array>();
  let size = 0;
  return {
    read: (i) => blocks.get(i),
    write: (i, block) => void blocks.set(i, block),
    delete: (i) => void blocks.delete(i),
    getSize: () => size,
    setSize: (bytes) => {
      size = bytes;
    },
  };
}

/** The parts of sqlite-wasm the VFS uses, typed loosely: the Node build and the edge build differ only in where they load. */
interface Sqlite3Like {
  capi: Record<string, unknown> & {
    sqlite3_vfs: new (pointer?: unknown) => VfsStruct;
    sqlite3_io_methods: new () => IoStruct;
    sqlite3_file: (new (pointer: unknown) => { $pMethods: unknown; dispose(): void }) & { structInfo: { sizeof: number } };
    sqlite3_vfs_find(name: string | null): unknown;
  };
  wasm: {
    heap8u(): Uint8Array;
    poke32(pointer: unknown, value: number): void;
    poke64(pointer: unknown, value: bigint): void;
    poke(pointer: unknown, value: number, type: string): void;
    cstrToJs(pointer: unknown): string;
    cstrncpy(dest: unknown, src: unknown, n: number): number;
    allocCString(text: string): unknown;
    peek8(pointer: unknown): number;
  };
  vfs: { installVfs(options: object): unknown };
}

interface VfsStruct {
  $iVersion: number;
  $szOsFile: number;
  $mxPathname: number;
  $zName: unknown;
  $xRandomness: unknown;
  $xSleep: unknown;
  pointer: unknown;
  addOnDispose(...items: unknown[]): void;
  dispose(): void;
}

interface IoStruct {
  $iVersion: number;
  pointer: unknown;
}

const SQLITE_OK = 0;
const SQLITE_IOERR = 10;
const SQLITE_IOERR_SHORT_READ = 522;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTFOUND = 12;
const SQLITE_IOCAP_UNDELETABLE_WHEN_OPEN = 0x800;
const CACHED_BLOCKS = 8;

/** An open file: its store and a write-back cache of a few blocks. */
class BlockFile {
  readonly #cache = new Map<number, { block: Uint8Array; dirty: boolean }>();
  constructor(readonly store: BlockStore) {}

  #block(index: number): Uint8Array {
    const hit = this.#cache.get(index);
    if (hit) {
      this.#cache.delete(index);
      this.#cache.set(index, hit);
      return hit.block;
    }
    const stored = this.store.read(index);
    const block = new Uint8Array(BLOCK_BYTES);
    if (stored) block.set(stored.subarray(0, BLOCK_BYTES));
    this.#remember(index, block, false);
    return block;
  }

  #remember(index: number, block: Uint8Array, dirty: boolean): void {
    this.#cache.set(index, { block, dirty });
    while (this.#cache.size > CACHED_BLOCKS) {
      const [oldest, entry] = this.#cache.entries().next().value as [number, { block: Uint8Array; dirty: boolean }];
      this.#cache.delete(oldest);
      if (entry.dirty) this.#store(oldest, entry.block);
    }
  }

  #store(index: number, block: Uint8Array): void {
    const size = this.store.getSize();
    const end = Math.min(BLOCK_BYTES, size - index * BLOCK_BYTES);
    if (end > 0) this.store.write(index, block.slice(0, end));
  }

  read(into: Uint8Array, offset: number): number {
    const size = this.store.getSize();
    const available = Math.max(0, Math.min(into.length, size - offset));
    let done = 0;
    while (done < available) {
      const at = offset + done;
      const index = Math.floor(at / BLOCK_BYTES);
      const within = at - index * BLOCK_BYTES;
      const n = Math.min(available - done, BLOCK_BYTES - within);
      into.set(this.#block(index).subarray(within, within + n), done);
      done += n;
    }
    if (done < into.length) into.fill(0, done);
    return done;
  }

  write(from: Uint8Array, offset: number): void {
    if (offset + from.length > this.store.getSize()) this.store.setSize(offset + from.length);
    let done = 0;
    while (done < from.length) {
      const at = offset + done;
      const index = Math.floor(at / BLOCK_BYTES);
      const within = at - index * BLOCK_BYTES;
      const n = Math.min(from.length - done, BLOCK_BYTES - within);
      const block = this.#block(index);
      block.set(from.subarray(done, done + n), within);
      this.#remember(index, block, true);
      done += n;
    }
  }

  truncate(bytes: number): void {
    this.flush();
    const old = this.store.getSize();
    this.store.setSize(bytes);
    for (let i = Math.ceil(bytes / BLOCK_BYTES); i * BLOCK_BYTES < old; i++) this.store.delete(i);
    this.#cache.clear();
  }

  flush(): void {
    for (const [index, entry] of this.#cache) {
      if (entry.dirty) {
        this.#store(index, entry.block);
        entry.dirty = false;
      }
    }
  }
}

const installed = new WeakMap<object, { files: Map<string, BlockStore>; name: string }>();

/**
 * Registers the block VFS on an engine once and returns its name and its file table: a database
 * opened on that VFS (`new oo1.DB({ filename, vfs })`) under a name in the table reads and writes
 * that store.
 */
export function blockVfs(sqlite3: unknown): { name: string; files: Map<string, BlockStore> } {
  const engine = sqlite3 as Sqlite3Like;
  const known = installed.get(engine);
  if (known) return known;
  const { capi, wasm } = engine;
  const name = 'agent-state-store-blocks';
  const files = new Map<string, BlockStore>();
  const open = new Map<number, BlockFile>();
  const key = (pFile: unknown) => Number(pFile);
  const file = (pFile: unknown) => open.get(key(pFile))!;
  const guarded = (fn: () => number, failure = SQLITE_IOERR): number => {
    try {
      return fn();
    } catch {
      return failure;
    }
  };

  const io = new capi.sqlite3_io_methods();
  io.$iVersion = 1;
  const ioMethods = {
    xCheckReservedLock: (_pFile: unknown, pOut: unknown) => (wasm.poke32(pOut, 0), SQLITE_OK),
    xClose: (pFile: unknown) =>
      guarded(() => {
        file(pFile)?.flush();
        open.delete(key(pFile));
        return SQLITE_OK;
      }),
    xDeviceCharacteristics: () => SQLITE_IOCAP_UNDELETABLE_WHEN_OPEN,
    xFileControl: () => SQLITE_NOTFOUND,
    xFileSize: (pFile: unknown, pSize: unknown) => guarded(() => (wasm.poke64(pSize, BigInt(file(pFile).store.getSize())), SQLITE_OK)),
    xLock: () => SQLITE_OK,
    xRead: (pFile: unknown, pDest: unknown, n: number, offset: bigint | number) =>
      guarded(() => {
        const into = wasm.heap8u().subarray(Number(pDest), Number(pDest) + n);
        const read = file(pFile).read(into, Number(offset));
        return read < n ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
      }),
    xSectorSize: () => 4096,
    xSync: (pFile: unknown) => guarded(() => (file(pFile).flush(), SQLITE_OK)),
    xTruncate: (pFile: unknown, size: bigint | number) => guarded(() => (file(pFile).truncate(Number(size)), SQLITE_OK)),
    xUnlock: () => SQLITE_OK,
    xWrite: (pFile: unknown, pSrc: unknown, n: number, offset: bigint | number) =>
      guarded(() => {
        // Copied out of the heap: a later allocation may grow (and move) it.
        file(pFile).write(wasm.heap8u().slice(Number(pSrc), Number(pSrc) + n), Number(offset));
        return SQLITE_OK;
      }),
  };
  engine.vfs.installVfs({ io: { struct: io, methods: ioMethods } });

  const vfs = new capi.sqlite3_vfs();
  const fallback = capi.sqlite3_vfs_find(null);
  if (fallback) {
    const d = new capi.sqlite3_vfs(fallback);
    vfs.$xRandomness = d.$xRandomness;
    vfs.$xSleep = d.$xSleep;
    d.dispose();
  }
  vfs.$iVersion = 2;
  vfs.$szOsFile = capi.sqlite3_file.structInfo.sizeof;
  vfs.$mxPathname = 512;
  vfs.addOnDispose((vfs.$zName = wasm.allocCString(name)));
  let scratch = 0;
  const vfsMethods: Record<string, (...args: never[]) => number> = {
    xAccess: (_pVfs: unknown, zName: unknown, _flags: number, pOut: unknown) => (wasm.poke32(pOut, files.has(wasm.cstrToJs(zName)) ? 1 : 0), SQLITE_OK),
    xCurrentTime: (_pVfs: unknown, pOut: unknown) => (wasm.poke(pOut, 2440587.5 + Date.now() / 864e5, 'double'), SQLITE_OK),
    xCurrentTimeInt64: (_pVfs: unknown, pOut: unknown) => (wasm.poke(pOut, 0xbfc83e532200 + Date.now(), 'i64'), SQLITE_OK),
    xDelete: (_pVfs: unknown, zName: unknown) => (files.delete(wasm.cstrToJs(zName)), SQLITE_OK),
    xFullPathname: (_pVfs: unknown, zName: unknown, nOut: number, pOut: unknown) => (wasm.cstrncpy(pOut, zName, nOut) < nOut ? SQLITE_OK : SQLITE_CANTOPEN),
    xGetLastError: () => SQLITE_OK,
    xOpen: (_pVfs: unknown, zName: unknown, pFile: unknown, flags: number, pOutFlags: unknown) =>
      guarded(() => {
        const path = zName && wasm.peek8(zName) ? wasm.cstrToJs(zName) : `scratch-${scratch++}`;
        let store = files.get(path);
        // Journals and temp files beside a staged database stay in memory.
        if (!store) {
          store = memoryBlockStore();
          files.set(path, store);
        }
        open.set(key(pFile), new BlockFile(store));
        const handle = new capi.sqlite3_file(pFile);
        handle.$pMethods = io.pointer;
        handle.dispose();
        wasm.poke32(pOutFlags, flags);
        return SQLITE_OK;
      }, SQLITE_CANTOPEN),
  };
  if (!vfs.$xRandomness) {
    vfsMethods['xRandomness'] = ((_pVfs: unknown, n: number, pOut: unknown) => {
      const heap = wasm.heap8u();
      for (let i = 0; i < n; i++) heap[Number(pOut) + i] = Math.floor(Math.random() * 256);
      return n;
    }) as never;
  }
  engine.vfs.installVfs({ vfs: { struct: vfs, methods: vfsMethods } });
  const result = { name, files };
  installed.set(engine, result);
  return result;
}

/**
 * A connection on a file of block store `store`, named `id` while it is open, through the block VFS:
 * a private scratch database (no journal, a 2 MiB page cache). Closing it detaches the file.
 */
export function openOnBlocks(sqlite3: unknown, id: string, store: BlockStore): SqlDriver {
  const engine = sqlite3 as Oo1Engine & { oo1: { DB: new (options: object) => Oo1Database } };
  const { name, files } = blockVfs(sqlite3);
  files.set(id, store);
  const db = new engine.oo1.DB({ filename: id, flags: 'c', vfs: name });
  const driver = oo1Driver(engine, db);
  driver.exec('PRAGMA journal_mode = OFF; PRAGMA cache_size = -2048');
  const close = driver.close.bind(driver);
  driver.close = () => {
    try {
      close();
    } finally {
      files.delete(id);
    }
  };
  return driver;
}

/**
 * A read-only block store over a Blob (a File the page picked), read a block at a time with
 * FileReaderSync (dedicated workers only); blocks written (an older file's migration) stay in memory
 * on top. The file itself is never read whole.
 */
export function blobBlockStore(blob: Blob): BlockStore {
  const reader = new (globalThis as unknown as { FileReaderSync: new () => { readAsArrayBuffer(blob: Blob): ArrayBuffer } }).FileReaderSync();
  const written = new Map<number, Uint8Array>();
  let size = blob.size;
  return {
    read(i) {
      const mine = written.get(i);
      if (mine) return mine;
      const start = i * BLOCK_BYTES;
      if (start >= blob.size) return undefined;
      return new Uint8Array(reader.readAsArrayBuffer(blob.slice(start, Math.min(start + BLOCK_BYTES, blob.size))));
    },
    write: (i, block) => void written.set(i, block),
    delete: (i) => void written.set(i, new Uint8Array(0)),
    getSize: () => size,
    setSize: (bytes) => {
      size = bytes;
    },
  };
}
