import { defineConfig } from '@playwright/test';
import { PORTS, url } from '../test/ports.js';

/**
 * `npm run bench`: the harness runs as one Playwright test (Playwright loads the TypeScript and
 * drives Debian's Chromium); bench/run.mjs picks full or quick through BENCH_QUICK.
 */
export default defineConfig({
  testDir: '.',
  testMatch: ['run.spec.ts', 'fallback.spec.ts'],
  timeout: 0,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: '../test-results/bench-artifacts',
  webServer: {
    command: 'npx vite build --config bench/vite.config.ts --logLevel warn && npx vite preview --config bench/vite.config.ts',
    cwd: '..',
    url: url(PORTS.bench),
    reuseExistingServer: false,
    timeout: 120_000,
  },
});
