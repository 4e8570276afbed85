/**
 * `agent-state-store/vite`: a Vite plugin that keeps two files of sqlite-wasm out of a consumer's
 * build. sqlite-wasm's one browser entry (`@sqlite.org/sqlite-wasm`, dist/index.mjs) names
 * `sqlite3-worker1.mjs` (the deprecated Worker1/Promiser API, about 216 KB once bundled) and
 * `sqlite3-opfs-async-proxy.js` (the `opfs` VFS's proxy, 32 KB) as `new URL('…', import.meta.url)`,
 * so Vite emits both even though the store's default VFS (opfs-sahpool) loads neither. The package
 * exports no other browser entry, so the plugin rewrites those two expressions in that one module:
 * the Worker1 promiser throws if it is ever called (the store never calls it), and the `opfs`
 * VFS's proxy is left out unless `{ opfs: true }` keeps it (its install then fails quietly and
 * `vfs: 'opfs'` is a STORAGE error; it needs a cross-origin isolated page anyway).
 *
 * Add it to `worker.plugins` (the engine is bundled inside the store's worker) and, so that dev
 * behaves as the build does, to `plugins`. It imports nothing of Vite: the object it returns is a
 * Vite plugin by shape.
 *
 * @module agent-state-store/vite
 */

/** What the plugin may keep. */
export interface EnginePluginOptions {
  /** Keep the `opfs` VFS's async proxy (for `openStateStore({ vfs: 'opfs' })` on a cross-origin isolated page). Default false. */
  opfs?: boolean;
}

/** sqlite-wasm's browser build, as Vite resolves `@sqlite.org/sqlite-wasm` (a path, maybe with a query). */
const ENGINE_MODULE = /[\\/]@sqlite\.org[\\/]sqlite-wasm[\\/]dist[\\/]index\.mjs(?:\?.*)?$/;
const WORKER1 = /new Worker\(new URL\("sqlite3-worker1\.mjs", import\.meta\.url\), \{ type: "module" \}\)/;
const OPFS_PROXY = /new URL\("sqlite3-opfs-async-proxy\.js", import\.meta\.url\)/;

const throwing = (message: string) => `(() => { throw new Error(${JSON.stringify(message)}); })()`;

/**
 * The plugin: rewrites sqlite-wasm's dist/index.mjs so that a build emits neither the Worker1 worker
 * nor (without `opfs: true`) the `opfs` proxy. If a future sqlite-wasm no longer has an expression
 * where it is expected, the build fails rather than silently shipping the files again.
 */
export function sqliteWasmDefaultVfsOnly(options: EnginePluginOptions = {}): {
  name: string;
  enforce: 'pre';
  transform(code: string, id: string): { code: string; map: null } | null;
} {
  return {
    name: 'agent-state-store:sqlite-wasm-default-vfs-only',
    enforce: 'pre',
    transform(code, id) {
      if (!ENGINE_MODULE.test(id)) return null;
      const missing = [WORKER1, ...(options.opfs ? [] : [OPFS_PROXY])].filter((pattern) => !pattern.test(code));
      if (missing.length > 0) {
        throw new Error(`agent-state-store/vite: sqlite-wasm's ${id} no longer contains ${missing.map(String).join(' and ')}; update the plugin`);
      }
      let out = code.replace(WORKER1, throwing('sqlite3Worker1Promiser is left out of this build by agent-state-store/vite'));
      if (!options.opfs) out = out.replace(OPFS_PROXY, throwing('the "opfs" VFS is left out of this build by agent-state-store/vite (pass { opfs: true } to keep it)'));
      return { code: out, map: null };
    },
  };
}
