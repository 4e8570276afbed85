import { StoreError } from '../core/errors.js';
import type { StagedFile } from '../core/transfer.js';
import { BLOCK_BYTES, openOnBlocks, type BlockStore } from '../driver/block-vfs.js';
import { buildImage } from '../driver/copy.js';
import type { SqlDriver } from '../driver/port.js';
import { loadedEdgeEngine } from './engine.js';

/**
 * Whole files on the edge at any size a Durable Object holds, with bounded memory: a file is staged in
 * the object's key-value storage in 64 KiB blocks and opened there by sqlite-wasm through the block
 * VFS (src/driver/block-vfs.ts). An export is built into a staged file and streamed out block by
 * block; an upload is written block by block as it arrives, then checked and copied from there.
 * Neither is ever whole in memory, nor crosses RPC as one value (RPC values are capped at 32 MiB).
 */

/** The largest file a streamed import takes by default: a tenth of the 10 GB an object holds. */
export const MAX_STREAMED_IMPORT_BYTES = 1024 * 1024 * 1024;

/** The largest value one Workers RPC call carries (Cloudflare's limit): a file sent whole must fit. */
export const RPC_VALUE_LIMIT_BYTES = 32 * 1024 * 1024;

const PREFIX = 'agent-state-store:staging:';
/** The staged files that exist, so an abandoned one (an export stream never read to its end) is swept. */
const INDEX_KEY = 'agent-state-store:staging';

function engine(): unknown {
  const sqlite3 = loadedEdgeEngine();
  if (!sqlite3) throw new StoreError('STORAGE', 'the in-memory SQLite engine is not loaded: await loadEdgeEngine() first');
  return sqlite3;
}

/** A staged file's blocks in the object's key-value storage. */
export function kvBlockStore(kv: SyncKvStorage, id: string): BlockStore {
  const key = (i: number) => `${PREFIX}${id}:${i}`;
  const sizeKey = `${PREFIX}${id}:size`;
  return {
    read(i) {
      const value = kv.get<Uint8Array | ArrayBuffer>(key(i));
      return value === undefined ? undefined : value instanceof Uint8Array ? value : new Uint8Array(value);
    },
    write: (i, block) => kv.put(key(i), block),
    delete: (i) => void kv.delete(key(i)),
    getSize: () => kv.get<number>(sizeKey) ?? 0,
    setSize: (bytes) => kv.put(sizeKey, bytes),
  };
}

function staged(kv: SyncKvStorage): string[] {
  return kv.get<string[]>(INDEX_KEY) ?? [];
}

/** Deletes a staged file's blocks and forgets it. */
export function discardStaged(kv: SyncKvStorage, id: string): void {
  const store = kvBlockStore(kv, id);
  const blocks = Math.ceil(store.getSize() / BLOCK_BYTES);
  for (let i = 0; i < blocks; i++) store.delete(i);
  kv.delete(`${PREFIX}${id}:size`);
  kv.put(
    INDEX_KEY,
    staged(kv).filter((other) => other !== id),
  );
}

/** A new staged file, after sweeping those left from before (an object serves one file operation at a time). */
function newStaged(kv: SyncKvStorage): { id: string; store: BlockStore } {
  for (const old of staged(kv)) discardStaged(kv, old);
  const id = crypto.randomUUID();
  kv.put(INDEX_KEY, [id]);
  return { id, store: kvBlockStore(kv, id) };
}

/** A connection on a staged file through the block VFS; closing it detaches the file. */
function openStaged(id: string, store: BlockStore): SqlDriver {
  return openOnBlocks(engine(), id, store);
}

/** What a Durable Object gives the export: its database, schema version and a transaction of its storage. */
export interface ExportSource {
  db: SqlDriver;
  schemaVersion: number;
  transaction<T>(fn: () => T): T;
}

/**
 * Builds the object's database as a SQLite file in staged blocks (one transaction of the object's
 * storage, so the file is one consistent state) and returns a stream of its bytes that deletes the
 * staged blocks when it ends or is cancelled.
 */
export function exportStream(kv: SyncKvStorage, source: ExportSource): { stream: ReadableStream<Uint8Array>; byteLength: number } {
  const { id, store } = newStaged(kv);
  const image = openStaged(id, store);
  try {
    source.transaction(() => buildImage(source.db, image, source.schemaVersion));
  } catch (error) {
    image.close();
    discardStaged(kv, id);
    throw error;
  }
  image.close();
  const byteLength = store.getSize();
  const blocks = Math.ceil(byteLength / BLOCK_BYTES);
  let next = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (next >= blocks) {
          discardStaged(kv, id);
          controller.close();
          return;
        }
        const block = store.read(next++);
        if (!block) {
          controller.error(new StoreError('CONFLICT', 'the export was discarded by a later export or import of this store'));
          return;
        }
        const end = Math.min(BLOCK_BYTES, byteLength - (next - 1) * BLOCK_BYTES);
        controller.enqueue(block.byteLength === end ? block : block.slice(0, end));
      },
      cancel() {
        discardStaged(kv, id);
      },
    },
    { highWaterMark: 1 },
  );
  return { stream, byteLength };
}

/**
 * Writes an upload into staged blocks as it arrives (never more than a block in memory) and returns
 * it as a StagedFile for the core's import. Past `maxBytes` the upload is cancelled and refused with
 * INVALID_ARGUMENT (details.limitBytes), nothing kept. `discard()` deletes the blocks.
 */
export async function stageUpload(kv: SyncKvStorage, body: ReadableStream<Uint8Array>, maxBytes: number): Promise<StagedFile & { discard(): void }> {
  const { id, store } = newStaged(kv);
  const reader = body.getReader();
  let block = new Uint8Array(BLOCK_BYTES);
  let filled = 0;
  let index = 0;
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new StoreError('INVALID_ARGUMENT', `the file is larger than the limit of ${maxBytes} bytes`, { details: { field: 'body', limitBytes: maxBytes } });
      }
      let at = 0;
      while (at < value.byteLength) {
        const n = Math.min(BLOCK_BYTES - filled, value.byteLength - at);
        block.set(value.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled === BLOCK_BYTES) {
          store.write(index++, block);
          // Kept up to date, so a refused or broken upload is discarded whole.
          store.setSize(index * BLOCK_BYTES);
          block = new Uint8Array(BLOCK_BYTES);
          filled = 0;
        }
      }
    }
    if (filled > 0) store.write(index, block.slice(0, filled));
    store.setSize(total);
  } catch (error) {
    discardStaged(kv, id);
    throw error;
  }
  const header = store.read(0)?.slice(0, 100) ?? new Uint8Array(0);
  return { header, byteLength: total, open: () => openStaged(id, store), discard: () => discardStaged(kv, id) };
}
