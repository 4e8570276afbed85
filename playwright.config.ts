import { defineConfig } from '@playwright/test';
import { PORTS, previewServer, url } from './test/ports.js';

/**
 * Browser tests in Debian's Chromium (never a downloaded one): CHROMIUM_PATH or /usr/bin/chromium.
 * Two servers host the same test app: the production build (the full suite) and the dev server
 * (to prove the wasm and the worker are served in dev too). Neither sends COOP/COEP headers.
 */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

// E2E_SKIP_APPS=1 leaves out the demo and benchmark pages (their servers and specs), for a quick
// run of the store's own browser tests while someone is working on those pages.
const skipApps = process.env['E2E_SKIP_APPS'] === '1';

export default defineConfig({
  testDir: 'test/e2e',
  testMatch: '**/*.spec.ts',
  testIgnore: skipApps ? ['**/demo*.spec.ts', '**/bench*.spec.ts'] : [],
  timeout: 60_000,
  fullyParallel: false,
  workers: 2,
  retries: 0,
  reporter: process.env['CI'] ? [['list'], ['json', { outputFile: 'test-results/e2e.json' }]] : [['list']],
  outputDir: 'test-results/e2e-artifacts',
  use: {
    baseURL: url(PORTS.e2ePreview),
    trace: 'off',
  },
  webServer: [
    previewServer('test/e2e/vite.config.ts', PORTS.e2ePreview),
    {
      command: 'npx vite --config test/e2e/vite.config.ts',
      url: url(PORTS.e2eDev),
      reuseExistingServer: !process.env['CI'],
      timeout: 120_000,
    },
    {
      // The README's React chat as written (test/e2e/readme-chat-app.mjs writes it out), built and served.
      command: `node test/e2e/readme-chat-app.mjs && npx vite build .cache/readme-chat${process.env['PORT_OFFSET'] ? `-${process.env['PORT_OFFSET']}` : ''} --logLevel warn && npx vite preview .cache/readme-chat${process.env['PORT_OFFSET'] ? `-${process.env['PORT_OFFSET']}` : ''} --port ${PORTS.readmeChat} --strictPort`,
      url: url(PORTS.readmeChat),
      reuseExistingServer: !process.env['CI'],
      timeout: 120_000,
    },
    ...(skipApps
      ? []
      : [
        previewServer('demo/vite.config.ts', PORTS.demoPreview),
        previewServer('bench/vite.config.ts', PORTS.bench),
        ]),
  ],
});
