/**
 * The whole-snapshot scheme the fallback used before (kept here only to measure it): the database in
 * memory, and after every commit the whole file serialized and written to IndexedDB in one strict
 * transaction. It runs the same engine and appends the same rows as the store, without the store's
 * other work, so its cost is the snapshot's alone.
 */
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import * as Comlink from 'comlink';

type Engine = Awaited<ReturnType<typeof sqlite3InitModule>>;

async function database(): Promise<IDBDatabase> {
  const open = indexedDB.open('bench-whole-snapshot', 1);
  open.onupgradeneeded = () => open.result.createObjectStore('snapshots');
  return new Promise((resolve, reject) => {
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}

const api = {
  /** Loads `bytes`, then times `writes` appends, each followed by serialize + a strict IndexedDB put of the whole file. */
  async run(bytes: Uint8Array, writes: number): Promise<{ perWriteMs: number[]; snapshotBytes: number }> {
    const sqlite3: Engine = await (sqlite3InitModule as unknown as (c: object) => Promise<Engine>)({ print: () => {}, printErr: () => {} });
    const db = new sqlite3.oo1.DB(':memory:', 'c');
    const capi = sqlite3.capi;
    const p = sqlite3.wasm.allocFromTypedArray(bytes);
    const rc = capi.sqlite3_deserialize(db.pointer!, 'main', p, bytes.byteLength, bytes.byteLength, capi.SQLITE_DESERIALIZE_FREEONCLOSE | capi.SQLITE_DESERIALIZE_RESIZEABLE);
    if (rc) throw new Error(`deserialize: ${rc}`);
    const idb = await database();
    const perWriteMs: number[] = [];
    let snapshotBytes = 0;
    for (let i = 0; i < writes; i++) {
      const started = performance.now();
      db.exec({ sql: "INSERT INTO messages (thread_id, role, content, item_json, created_at) VALUES ('t', 'user', ?, NULL, ?)", bind: [`whole snapshot write ${i} ${'x'.repeat(160)}`, Math.floor(Date.now() / 1000)] });
      const image = capi.sqlite3_js_db_export(db.pointer!);
      snapshotBytes = image.byteLength;
      await new Promise<void>((resolve, reject) => {
        const tx = idb.transaction('snapshots', 'readwrite', { durability: 'strict' });
        tx.objectStore('snapshots').put({ bytes: image, sessionIndex: '' }, 'snapshot');
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
      perWriteMs.push(performance.now() - started);
    }
    db.close();
    idb.close();
    return { perWriteMs, snapshotBytes };
  },
};

Comlink.expose(api);
export type SnapshotWorker = typeof api;
