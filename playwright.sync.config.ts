import { defineConfig } from '@playwright/test';
import { PORTS, url } from './test/ports.js';

/**
 * `npm run test:sync`: the sync scenarios of issue 15 (test/sync). Each test starts Chromium "devices"
 * (persistent contexts with profiles of their own) against one local workerd sync server that the
 * harness starts, stops and restarts itself (test/sync/harness.ts). One worker: the devices of a
 * scenario share that server, and timings must not compete with another scenario.
 * The pages are the browser-test app and the demo, built and served as in playwright.config.ts.
 */
export default defineConfig({
  testDir: 'test/sync',
  testMatch: '**/*.spec.ts',
  timeout: 240_000,
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: process.env['CI'] ? [['list'], ['json', { outputFile: 'test-results/sync.json' }]] : [['list']],
  outputDir: 'test-results/sync-artifacts',
  use: {
    baseURL: url(PORTS.e2ePreview),
    trace: 'off',
  },
  webServer: [
    {
      command: 'npx vite build --config test/e2e/vite.config.ts --logLevel warn && npx vite preview --config test/e2e/vite.config.ts',
      url: url(PORTS.e2ePreview),
      reuseExistingServer: !process.env['CI'],
      timeout: 120_000,
    },
    {
      command: 'npx vite build --config demo/vite.config.ts --logLevel warn && npx vite preview --config demo/vite.config.ts',
      url: url(PORTS.demoPreview),
      reuseExistingServer: !process.env['CI'],
      timeout: 120_000,
    },
  ],
});
