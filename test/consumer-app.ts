import { fileURLToPath } from 'node:url';
import type { UserConfig } from 'vite';
import { sqliteWasmDefaultVfsOnly } from '../src/vite/index.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

/** What differs between the apps built on the package: where they live and where they are served. */
export interface ConsumerApp {
  /** The app's directory (its index.html). */
  root: string;
  /** The build of the package to use: an env variable naming a private `vite build --outDir`, else dist/. */
  distEnv: string;
  /** Where `vite build` writes the app. */
  outDir: string;
  devPort: number;
  previewPort: number;
  /** More HTML pages of the app beside index.html, by file name, for `vite build`. */
  pages?: string[];
}

/**
 * The Vite setup the README gives consumers, shared by the test app, the demo and the bench page:
 * the package from its built dist/ (aliased here instead of installed), sqlite-wasm kept out of
 * dependency pre-bundling, workers as ES modules, the `agent-state-store/vite` plugin (so the build
 * does not emit sqlite-wasm's Worker1 and `opfs` proxy files, which the default VFS never loads), and
 * no COOP/COEP headers (the default opfs-sahpool VFS does not need them).
 */
export function consumerApp(app: ConsumerApp): UserConfig {
  const given = process.env[app.distEnv];
  const dist = given ? `${given.replace(/\/$/, '')}/` : `${repo}dist/`;
  return {
    root: app.root,
    resolve: {
      alias: [
        { find: /^agent-state-store$/, replacement: `${dist}index.js` },
        { find: /^agent-state-store\/worker$/, replacement: `${dist}worker.js` },
        { find: /^agent-state-store\/core$/, replacement: `${dist}core.js` },
        { find: /^agent-state-store\/react$/, replacement: `${dist}react.js` },
        { find: /^agent-state-store\/langgraph$/, replacement: `${dist}langgraph.js` },
      ],
    },
    optimizeDeps: { exclude: ['@sqlite.org/sqlite-wasm', 'agent-state-store'] },
    plugins: [sqliteWasmDefaultVfsOnly()],
    worker: { format: 'es', plugins: () => [sqliteWasmDefaultVfsOnly()] },
    build: {
      // One build directory per PORT_OFFSET, so two runs side by side do not empty each other's build.
      outDir: `${repo}.cache/${app.outDir}${process.env['PORT_OFFSET'] ? `-${process.env['PORT_OFFSET']}` : ''}`,
      emptyOutDir: true,
      target: 'es2022',
      rolldownOptions: {
        input: Object.fromEntries([['main', `${app.root}/index.html`], ...(app.pages ?? []).map((page) => [page.replace(/\.html$/, ''), `${app.root}/${page}`])]),
      },
    },
    server: { port: app.devPort, strictPort: true, fs: { allow: [repo] } },
    preview: { port: app.previewPort, strictPort: true },
  };
}
