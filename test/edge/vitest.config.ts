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
        durableObjects: { STORES: { className: 'StoreObject', useSQLite: true }, SMALL: { className: 'SmallLimitsObject', useSQLite: true } },
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
