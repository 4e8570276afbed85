import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { consumerApp } from '../test/consumer-app.js';
import { PORTS } from '../test/ports.js';

/**
 * The bench page, built like a consumer's app. BENCH_DIST benchmarks another build of the package
 * (say, one made from a clean checkout). No COOP/COEP headers: under cross-origin isolation
 * sqlite-wasm would also start the `opfs` VFS's proxy worker, which a default deployment does not pay
 * for, so cold start would not be representative.
 */
export default defineConfig(
  consumerApp({
    root: fileURLToPath(new URL('./app', import.meta.url)),
    distEnv: 'BENCH_DIST',
    outDir: 'bench-app',
    devPort: PORTS.bench + 1,
    previewPort: PORTS.bench,
    // The fallback storage bench (npm run bench:fallback) has a page of its own.
    pages: ['fallback.html'],
  }),
);
