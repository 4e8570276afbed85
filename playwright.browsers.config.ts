import { defineConfig } from '@playwright/test';
import { PORTS, previewServer, url } from './test/ports.js';

/**
 * The Firefox and WebKit runs (`npm run test:browsers`). Playwright Test is only the runner here: the
 * browsers are Debian's, driven by test/browsers/fixtures.ts — Firefox ESR through puppeteer-core over
 * WebDriver BiDi on an on-disk profile, WebKitGTK's MiniBrowser through WebKitWebDriver under xvfb-run.
 * The test bodies are shared with the Chromium suite (test/browsers/bodies/).
 */
export default defineConfig({
  testDir: 'test/browsers',
  timeout: 120_000,
  fullyParallel: false,
  workers: 2,
  retries: 0,
  reporter: process.env['CI'] ? [['list'], ['json', { outputFile: 'test-results/browsers.json' }]] : [['list']],
  outputDir: 'test-results/browsers-artifacts',
  use: { baseURL: url(PORTS.e2ePreview), trace: 'off' },
  projects: [
    // Firefox ESR: OPFS and the sahpool VFS, like Chromium; the whole list of shared suites.
    { name: 'firefox', testMatch: ['**/*.spec.ts'] },
    // WebKitGTK has no OPFS: the contract suite and the fallback path.
    { name: 'webkit', testMatch: ['**/contract.spec.ts', '**/contract-2.spec.ts', '**/fallback.spec.ts', '**/persistence.spec.ts'] },
    // WebKitGTK with its Storage API and File System (OPFS) features turned on at run time (both are off
    // in Debian's build): getDirectory is there but rejects (UnknownError) in WebDriver's ephemeral
    // session, as Safari's private windows did. The store must fall back and say why.
    { name: 'webkit-fs', testMatch: ['**/persistence.spec.ts', '**/fallback.spec.ts'] },
  ],
  webServer: [previewServer('test/e2e/vite.config.ts', PORTS.e2ePreview), previewServer('demo/vite.config.ts', PORTS.demoPreview)],
});
