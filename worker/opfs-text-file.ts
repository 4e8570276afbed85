import type { TextFile } from '../src/driver/port.js';

/**
 * The session index on OPFS, through synchronous access handles held for the store's lifetime.
 * Appends are flushed before they return. `replace` is made crash-atomic with a side file: the new
 * content is written there first and sealed with a marker line, then copied over the main file, then
 * the side file is emptied. At open, a sealed side file means a copy was interrupted and is redone;
 * an unsealed one means the main file was never touched.
 */

const SEAL = '#agent-state-store:compaction-complete\n';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The slice of FileSystemSyncAccessHandle this file uses. */
interface SyncHandle {
  read(buffer: Uint8Array, options?: { at?: number }): number;
  write(buffer: Uint8Array, options?: { at?: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

async function openHandle(dir: FileSystemDirectoryHandle, name: string): Promise<SyncHandle> {
  const file = await dir.getFileHandle(name, { create: true });
  return (await (file as unknown as { createSyncAccessHandle(): Promise<SyncHandle> }).createSyncAccessHandle());
}

function readAll(handle: SyncHandle): string {
  const bytes = new Uint8Array(handle.getSize());
  handle.read(bytes, { at: 0 });
  return decoder.decode(bytes);
}

function writeAll(handle: SyncHandle, text: string): void {
  const bytes = encoder.encode(text);
  handle.truncate(0);
  handle.write(bytes, { at: 0 });
  handle.flush();
}

/** A TextFile on OPFS; `close()` releases its handles. */
export type OpfsTextFile = TextFile & { close(): void };

/** Opens (creating if needed) `name` in `dir`, finishing an interrupted compaction first. */
export async function openOpfsTextFile(dir: FileSystemDirectoryHandle, name: string): Promise<OpfsTextFile> {
  const main = await openHandle(dir, name);
  const side = await openHandle(dir, `${name}.compacting`);
  const pending = readAll(side);
  if (pending.endsWith(SEAL)) writeAll(main, pending.slice(0, -SEAL.length));
  if (pending.length > 0) writeAll(side, '');
  let size = main.getSize();
  return {
    read: () => readAll(main),
    append(text) {
      const bytes = encoder.encode(text);
      try {
        main.write(bytes, { at: size });
        main.flush();
      } catch (error) {
        // Cut off whatever part of the line did land, so that the file ends on a whole line.
        try {
          main.truncate(size);
        } catch {
          // The next open skips a torn tail anyway.
        }
        throw error;
      }
      size += bytes.byteLength;
    },
    replace(text) {
      writeAll(side, text + SEAL);
      writeAll(main, text);
      size = main.getSize();
      writeAll(side, '');
    },
    close() {
      main.close();
      side.close();
    },
  };
}
