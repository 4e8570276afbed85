import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { consumerApp } from '../consumer-app.js';
import { PORTS } from '../ports.js';

/**
 * The browser-test app, configured the way the README tells a consumer to. E2E_DIST points it at
 * another build of the package (a private `vite build --outDir`), so a test run is not disturbed by
 * someone rebuilding dist/ meanwhile.
 */
const root = fileURLToPath(new URL('./app', import.meta.url));

export default defineConfig(
  consumerApp({
    root,
    distEnv: 'E2E_DIST',
    outDir: 'e2e-app',
    devPort: PORTS.e2eDev,
    previewPort: PORTS.e2ePreview,
    // React and LangGraph run on pages of their own, so the main test app bundles neither.
    pages: ['react.html', 'langgraph.html'],
  }),
);
