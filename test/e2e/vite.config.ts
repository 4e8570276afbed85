import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { consumerApp } from '../consumer-app.js';
import { PORTS } from '../ports.js';

/**
 * The browser-test app, configured the way the README tells a consumer to. E2E_DIST points it at
 * another build of the package (a private `vite build --outDir`), so a test run is not disturbed by
 * someone rebuilding dist/ meanwhile.
 */
export default defineConfig(
  consumerApp({
    root: fileURLToPath(new URL('./app', import.meta.url)),
    distEnv: 'E2E_DIST',
    outDir: 'e2e-app',
    devPort: PORTS.e2eDev,
    previewPort: PORTS.e2ePreview,
    pages: ['react.html'],
  }),
);
