import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The package as a user gets it: the tarball `npm pack` makes, installed with npm into fresh
// projects outside the repo. Packs dist/ as built (`npm run build` first, as for
// package-exports.test.ts) with --ignore-scripts, so the prepack build does not run again.
// npm installs the tarball's dependencies from its cache (the repo's `npm ci` filled it), and
// from the registry only on a miss; Vite and TypeScript are the repo's own, linked or run by path.
const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const INSTALL_TIMEOUT_MS = 120_000;

/**
 * The environment without the npm_* variables that `npm run` sets: an npm started from a test
 * would otherwise take npm_config_local_prefix and install into the repo instead of the project.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
}

async function npm(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('npm', args, { cwd, env: cleanEnv(), encoding: 'utf8', maxBuffer: 16 << 20 });
  return stdout;
}

let dir = '';
let tarball = '';

/** A fresh project in its own directory with the tarball installed, as `npm install <tarball>` leaves it. */
async function freshProject(name: string): Promise<string> {
  const project = join(dir, name);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  await npm(project, 'install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball);
  return project;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ass-packed-'));
  const name = (await npm(root, 'pack', '--ignore-scripts', '--silent', '--pack-destination', dir)).trim().split('\n').pop()!;
  tarball = join(dir, name);
}, INSTALL_TIMEOUT_MS);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packed tarball, installed into fresh projects', () => {
  it('holds the built entries, their types, the LICENSE and the README, and no sources or tests', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball], { encoding: 'utf8' });
    const files = stdout.trim().split('\n');
    for (const file of ['LICENSE', 'README.md', 'package.json', 'dist/index.js', 'dist/core.js', 'dist/worker.js', 'dist/types/src/index.d.ts']) {
      expect(files, file).toContain(`package/${file}`);
    }
    expect(files.filter((f) => /^package\/(src|worker|test|demo|bench|scripts)\//.test(f))).toEqual([]);
  });

  it("runs a Node script that opens a store from 'agent-state-store/core', writes a thread and reads it back", async () => {
    const project = await freshProject('node-app');
    writeFileSync(
      join(project, 'main.js'),
      `import { createMemoryStore, StoreError } from 'agent-state-store/core';
const store = await createMemoryStore();
const thread = store.createThread({ title: 'from the tarball' });
store.appendMessage(thread.id, 'user', 'hello');
store.appendMessage(thread.id, 'assistant', 'hi');
const reopened = await createMemoryStore({ bytes: store.exportBytes() });
let refused = null;
try { reopened.appendMessage('no-such-thread', 'user', 'x'); } catch (e) { refused = e instanceof StoreError ? e.code : String(e); }
console.log(JSON.stringify({
  titles: reopened.listThreads({}).map((t) => t.name),
  branch: reopened.getBranch(thread.id).map((m) => m.role + ': ' + m.content),
  refused,
}));
`,
    );
    const { stdout } = await run(process.execPath, ['main.js'], { cwd: project, env: cleanEnv(), encoding: 'utf8' });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({
      titles: ['from the tarball'],
      branch: ['user: hello', 'assistant: hi'],
      refused: 'NOT_FOUND',
    });
  }, INSTALL_TIMEOUT_MS);

  it("builds a Vite app with the README's vite.config.ts, whose code typechecks against the package's types", async () => {
    const project = await freshProject('vite-app');
    // Vite from the repo, linked in as an app's own devDependency would be.
    symlinkSync(join(root, 'node_modules/vite'), join(project, 'node_modules/vite'), 'dir');
    writeFileSync(
      join(project, 'vite.config.ts'),
      `import { defineConfig } from 'vite';
import { sqliteWasmDefaultVfsOnly } from 'agent-state-store/vite';

export default defineConfig({
  optimizeDeps: { exclude: ['@sqlite.org/sqlite-wasm', 'agent-state-store'] },
  plugins: [sqliteWasmDefaultVfsOnly()],
  worker: { format: 'es', plugins: () => [sqliteWasmDefaultVfsOnly()] },
});
`,
    );
    writeFileSync(join(project, 'index.html'), '<!doctype html>\n<ul id="messages"></ul>\n<script type="module" src="./main.ts"></script>\n');
    writeFileSync(
      join(project, 'main.ts'),
      `import { openStateStore, StoreError } from 'agent-state-store';

try {
  const store = await openStateStore({ name: 'packed' });
  const thread = await store.createThread({ title: 'from the tarball' });
  await store.appendMessage(thread.id, 'user', 'hello');
  const list = document.querySelector('#messages')!;
  for (const m of await store.getBranch(thread.id)) list.append(Object.assign(document.createElement('li'), { textContent: m.content }));
} catch (error) {
  document.body.textContent = error instanceof StoreError ? \`\${error.code}: \${error.message}\` : String(error);
}
`,
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2022', module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'],
          strict: true, noEmit: true, types: [], skipLibCheck: true,
        },
        include: ['main.ts'],
      }),
    );
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', '.'], { cwd: project, env: cleanEnv(), encoding: 'utf8' });
    await run(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'error'], { cwd: project, env: cleanEnv(), encoding: 'utf8' });
    const assets = readdirSync(join(project, 'dist/assets'));
    expect(assets.filter((f) => f.endsWith('.wasm')), 'sqlite3.wasm').toHaveLength(1);
    expect(assets.filter((f) => /^worker-.*\.js$/.test(f)), "the store's worker").toHaveLength(1);
    expect(assets.filter((f) => /sqlite3-worker1|opfs-async-proxy/.test(f)), 'files the plugin leaves out').toEqual([]);
  }, INSTALL_TIMEOUT_MS);
});
