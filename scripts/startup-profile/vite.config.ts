import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { consumerApp } from '../../test/consumer-app.js';

/** The cold-start probe app, built like a consumer's; PROFILE_DIST picks the package build. */
const root = fileURLToPath(new URL('.', import.meta.url));
const port = Number(process.env['PROFILE_PORT'] ?? 4300);
export default defineConfig(consumerApp({ root, distEnv: 'PROFILE_DIST', outDir: `startup-profile-${process.env['PROFILE_TAG'] ?? 'new'}`, devPort: port + 50, previewPort: port }));
