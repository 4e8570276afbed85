import { StagedSource } from '../src/core/transfer.js';
import { blobBlockStore, openOnBlocks } from '../src/driver/block-vfs.js';
import type { Sqlite3 } from '../src/driver/engine.js';

/**
 * A file to import that the page handed over as a Blob (a File from an input, a fetch Response's
 * blob()): opened in place through the block VFS, read 64 KiB at a time as SQLite asks, so the worker
 * never holds it whole (a Uint8Array would be copied to the worker, then into the engine's memory).
 */
export function blobFile(sqlite3: Sqlite3, blob: Blob): StagedSource {
  const store = blobBlockStore(blob);
  const header = store.read(0)?.slice(0, 100) ?? new Uint8Array(0);
  return new StagedSource({ header, byteLength: blob.size, open: () => openOnBlocks(sqlite3, `import-${crypto.randomUUID()}`, store) });
}
