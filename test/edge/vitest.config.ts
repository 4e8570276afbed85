import { fileURLToPath } from 'node:url';
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The edge suite: runs inside workerd (the Cloudflare Workers runtime) through
 * @cloudflare/vitest-pool-workers, apart from the Node projects in the root vitest.config.ts.
 */
export default defineConfig({
  plugins: [
    cloudflareTest({
      main: here('./worker.ts'),
      miniflare: {
        compatibilityDate: '2026-04-01',
        compatibilityFlags: ['nodejs_compat'],
        // The size of test/edge/big-store.test.ts's store: CI size by default, full size with
        // BIG_STORE_MB=300 (scripts/big-store.sh, which also samples workerd's memory).
        bindings: { BIG_STORE_MB: process.env['BIG_STORE_MB'] ?? '40', BIG_STORE_FILL_ONLY: process.env['BIG_STORE_FILL_ONLY'] ?? '' },
        durableObjects: { STORES: { className: 'StoreObject', useSQLite: true }, SMALL: { className: 'SmallLimitsObject', useSQLite: true }, SHORT: { className: 'ShortSocketObject', useSQLite: true } },
        // sqlite-wasm's engine and src/cloudflare's trampolines arrive as compiled modules, as wrangler bundles
        // them (workerd forbids compiling wasm at run time).
        modulesRules: [
          { type: 'CompiledWasm', include: ['**/*.wasm'] },
          // Test fixtures that are database files (the Rust store's own) arrive as ArrayBuffers.
          { type: 'Data', include: ['**/*.db'] },
        ],
      },
    }),
  ],
  test: {
    name: 'edge',
    root: here('../..'),
    include: ['test/edge/**/*.test.ts'],
    testTimeout: 60_000,
    // CI sums the counts from this report; people read the default reporter.
    reporters: process.env['CI'] ? ['default', ['json', { outputFile: 'test-results/edge.json' }]] : ['default'],
  },
});
