import { defineConfig } from '@playwright/test';

/**
 * Browser tests in Debian's Chromium (never a downloaded one): CHROMIUM_PATH or /usr/bin/chromium.
 * Two servers host the same test app: the production build (the full suite) and the dev server
 * (to prove the wasm and the worker are served in dev too). Neither sends COOP/COEP headers.
 */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export default defineConfig({
  testDir: 'test/e2e',
  testMatch: '**/*.spec.ts',
  timeout: 60_000,
  fullyParallel: false,
  workers: 2,
  retries: 0,
  reporter: process.env['CI'] ? [['list'], ['json', { outputFile: 'test-results/e2e.json' }]] : [['list']],
  outputDir: 'test-results/e2e-artifacts',
  use: {
    baseURL: 'http://localhost:4173',
    trace: 'off',
  },
  webServer: [
    {
      command: 'npx vite build --config test/e2e/vite.config.ts --logLevel warn && npx vite preview --config test/e2e/vite.config.ts',
      url: 'http://localhost:4173',
      reuseExistingServer: !process.env['CI'],
      timeout: 120_000,
    },
    {
      command: 'npx vite --config test/e2e/vite.config.ts',
      url: 'http://localhost:5173',
      reuseExistingServer: !process.env['CI'],
      timeout: 120_000,
    },
  ],
});
