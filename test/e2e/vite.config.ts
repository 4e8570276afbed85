import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { PORTS } from '../ports.js';

const root = fileURLToPath(new URL('./app', import.meta.url));
// E2E_DIST points the app at another build of the package (a private `vite build --outDir`), so a
// test run is not disturbed by someone rebuilding dist/ meanwhile.
const dist = process.env['E2E_DIST'] ? `${process.env['E2E_DIST'].replace(/\/$/, '')}/` : fileURLToPath(new URL('../../dist/', import.meta.url));

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
    outDir: fileURLToPath(new URL(`../../.cache/e2e-app-${process.env['PORT_OFFSET'] ?? 0}`, import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    rolldownOptions: { input: { main: `${root}/index.html` } },
  },
  server: { port: PORTS.e2eDev, strictPort: true, fs: { allow: [fileURLToPath(new URL('../..', import.meta.url))] } },
  preview: { port: PORTS.e2ePreview, strictPort: true },
});
