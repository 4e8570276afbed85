import sqlite3InitModule from '@sqlite.org/sqlite-wasm';

/** The sqlite-wasm namespace (oo1, capi, wasm, the VFS installers). */
export type Sqlite3 = Awaited<ReturnType<typeof sqlite3InitModule>>;

// One engine per process or worker: initialising the wasm module costs tens of milliseconds.
let engine: Promise<Sqlite3> | undefined;

/**
 * Loads sqlite-wasm once. The engine's own diagnostics (stdout, stderr, oo1's warning on every failed
 * step) are silenced: every failure reaches the caller as a StoreError instead.
 */
export function loadEngine(): Promise<Sqlite3> {
  engine ??= (sqlite3InitModule as unknown as (config: object) => Promise<Sqlite3>)({ print: () => {}, printErr: () => {} }).then((sqlite3) => {
    (sqlite3 as unknown as { config: { warn: () => void } }).config.warn = () => {};
    return sqlite3;
  });
  return engine;
}
