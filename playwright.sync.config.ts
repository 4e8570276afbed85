import { defineConfig } from '@playwright/test';
import { PORTS, previewServer, url } from './test/ports.js';

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
    previewServer('test/e2e/vite.config.ts', PORTS.e2ePreview),
    previewServer('demo/vite.config.ts', PORTS.demoPreview),
  ],
});
