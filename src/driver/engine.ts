import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import { StoreError } from '../core/errors.js';

/** The sqlite-wasm namespace (oo1, capi, wasm, the VFS installers). */
export type Sqlite3 = Awaited<ReturnType<typeof sqlite3InitModule>>;

// One engine per process or worker: initialising the wasm module costs tens of milliseconds.
let engine: Promise<Sqlite3> | undefined;

/**
 * Loads sqlite-wasm once. The engine's own diagnostics (stdout, stderr, oo1's warning on every failed
 * step) are silenced: every failure reaches the caller as a StoreError instead.
 */
export function loadEngine(): Promise<Sqlite3> {
  engine ??= (sqlite3InitModule as unknown as (config: object) => Promise<Sqlite3>)({ print: () => {}, printErr: () => {} }).then(
    (sqlite3) => {
      (sqlite3 as unknown as { config: { warn: () => void } }).config.warn = () => {};
      return sqlite3;
    },
    (error: unknown) => {
      throw engineLoadError(error);
    },
  );
  return engine;
}

/**
 * Why the engine did not load, and what to do. In an app the usual cause is a bundler that moved
 * sqlite-wasm's code away from its .wasm (Vite's dependency pre-bundling does), so the fetch of
 * sqlite3.wasm finds nothing, or the app's HTML page instead ("expected magic word").
 */
export function engineLoadError(error: unknown): StoreError {
  const why = error instanceof Error ? error.message : String(error);
  return new StoreError(
    'STORAGE',
    `the SQLite engine (sqlite3.wasm) could not be loaded (${why}). With Vite, add '@sqlite.org/sqlite-wasm' and 'agent-state-store' to ` +
      'optimizeDeps.exclude (see docs/troubleshooting.md); with another bundler, make it emit sqlite3.wasm as a file and serve it as application/wasm',
    { cause: error, details: { reason: 'engine-load' } },
  );
}
