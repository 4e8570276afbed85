import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('./app', import.meta.url));
const dist = fileURLToPath(new URL('../../dist/', import.meta.url));

/**
 * The browser-test app, configured the way the README tells a consumer to: the package from its
 * built dist/ (aliased here instead of installed), sqlite-wasm kept out of dependency pre-bundling,
 * and workers built as ES modules. No COOP/COEP headers: the default VFS must not need them.
 */
export default defineConfig({
  root,
  resolve: {
    alias: [
      { find: /^agent-state-store$/, replacement: `${dist}index.js` },
      { find: /^agent-state-store\/worker$/, replacement: `${dist}worker.js` },
    ],
  },
  optimizeDeps: { exclude: ['@sqlite.org/sqlite-wasm', 'agent-state-store'] },
  worker: { format: 'es' },
  build: {
    outDir: fileURLToPath(new URL('../../.cache/e2e-app', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    rolldownOptions: { input: { main: `${root}/index.html` } },
  },
  server: { port: 5173, strictPort: true, fs: { allow: [fileURLToPath(new URL('../..', import.meta.url))] } },
  preview: { port: 4173, strictPort: true },
});
