import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { consumerApp } from '../test/consumer-app.js';
import { PORTS } from '../test/ports.js';

/** The demo, built the way a consumer builds an app on the package. DEMO_DIST picks another build of it. */
export default defineConfig(
  consumerApp({
    root: fileURLToPath(new URL('.', import.meta.url)),
    distEnv: 'DEMO_DIST',
    outDir: 'demo-dist',
    devPort: PORTS.demoDev,
    previewPort: PORTS.demoPreview,
  }),
);
