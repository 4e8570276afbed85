#!/usr/bin/env node
// `npm run demo:sync`: the demo with sync. Builds the package, starts a local sync server (wrangler dev on
// the sync suite's Worker, test/sync/server, persisting under .wrangler/demo-sync so the server keeps its
// data between runs), then the demo's dev server with VITE_SYNC_URL and VITE_SYNC_TOKEN pointing at it.
// Open the printed address in two browser profiles (or two browsers): one conversation, on both.
// Ctrl-C stops both servers.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const offset = Number(process.env.PORT_OFFSET ?? 0);
// The same ports as test/ports.ts (demoSyncServer, demoDev); PORT_OFFSET moves them.
const syncPort = 5197 + offset;
const demoPort = 5190 + offset;
// test/sync/server/wrangler.jsonc maps this token to the store "alice".
const token = process.env.SYNC_TOKEN ?? 'token-alice';
const syncUrl = `http://127.0.0.1:${syncPort}/stores/${process.env.SYNC_STORE ?? 'alice'}`;

const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

// Each server runs in a process group of its own (detached), so that stopping it stops what npx started
// under it too (wrangler's workerd, vite), not only the npx wrapper.
const children = [];
function stopAll(code) {
  for (const child of children) {
    if (child.exitCode !== null) continue;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  process.exit(code);
}
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

const server = spawn(
  'npx',
  ['wrangler', 'dev', '--config', 'test/sync/server/wrangler.jsonc', '--ip', '127.0.0.1', '--port', String(syncPort), '--persist-to', '.wrangler/demo-sync', '--show-interactive-dev-session=false', '--inspector-port', String(syncPort + 1000)],
  { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], detached: true },
);
children.push(server);
server.on('exit', (code) => {
  console.error(`the sync server stopped (exit ${code})`);
  stopAll(code ?? 1);
});

// Wait until the server answers (any HTTP answer: an unauthorized probe is a 401).
const until = Date.now() + 120_000;
for (;;) {
  try {
    await fetch(`${syncUrl}/sync`);
    break;
  } catch {
    if (Date.now() > until) {
      console.error(`the sync server did not start on port ${syncPort}`);
      stopAll(1);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

console.log(`\nSync server: ${syncUrl} (token ${token}). Demo: http://localhost:${demoPort}/ — open it in two browser profiles.\n`);
const demo = spawn('npx', ['vite', '--config', 'demo/vite.config.ts'], {
  cwd: root,
  // Not the terminal's input: a process group of its own must not read it (the shell would stop it).
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, VITE_SYNC_URL: syncUrl, VITE_SYNC_TOKEN: token },
  detached: true,
});
children.push(demo);
demo.on('exit', (code) => stopAll(code ?? 0));
