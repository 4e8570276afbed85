import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { PORTS } from '../test/ports.js';

const root = fileURLToPath(new URL('.', import.meta.url));
// DEMO_DIST points the demo at another build of the package (a private `vite build --outDir`), so a
// test run is not disturbed by someone rebuilding dist/ meanwhile.
const dist = process.env['DEMO_DIST'] ? `${process.env['DEMO_DIST'].replace(/\/$/, '')}/` : fileURLToPath(new URL('../dist/', import.meta.url));

/**
 * The demo app, built the way a consumer builds theirs: the package from its dist/ (aliased here
 * instead of installed), sqlite-wasm kept out of dependency pre-bundling, workers as ES modules, and
 * no COOP/COEP headers (the default opfs-sahpool VFS does not need them).
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
    // One build directory per PORT_OFFSET, so two runs side by side do not empty each other's build.
    outDir: fileURLToPath(new URL(`../.cache/demo-dist${process.env['PORT_OFFSET'] ? `-${process.env['PORT_OFFSET']}` : ''}`, import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
  server: { port: PORTS.demoDev, strictPort: true, fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
  preview: { port: PORTS.demoPreview, strictPort: true },
});
