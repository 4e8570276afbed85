import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { PORTS } from '../test/ports.js';

const root = fileURLToPath(new URL('./app', import.meta.url));
// BENCH_DIST benchmarks another build of the package (say, one made from a clean checkout).
const dist = process.env['BENCH_DIST'] ? `${process.env['BENCH_DIST'].replace(/\/$/, '')}/` : fileURLToPath(new URL('../dist/', import.meta.url));

/**
 * The bench page, built like a consumer's app (and like the e2e test app): the package from dist/,
 * sqlite-wasm kept out of pre-bundling, ES-module workers. No COOP/COEP headers: under cross-origin
 * isolation sqlite-wasm would also start the `opfs` VFS's proxy worker, which a default deployment
 * does not pay for, so cold start would not be representative.
 */
export default defineConfig({
  root,
  resolve: {
    alias: [
      { find: /^agent-state-store$/, replacement: `${dist}index.js` },
      { find: /^agent-state-store\/worker$/, replacement: `${dist}worker.js` },
      { find: /^agent-state-store\/core$/, replacement: `${dist}core.js` },
    ],
  },
  optimizeDeps: { exclude: ['@sqlite.org/sqlite-wasm', 'agent-state-store'] },
  worker: { format: 'es' },
  build: {
    outDir: fileURLToPath(new URL('../.cache/bench-app', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    rolldownOptions: { input: { main: `${root}/index.html` } },
  },
  server: { port: PORTS.bench + 1, strictPort: true, fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
  preview: { port: PORTS.bench, strictPort: true },
});
