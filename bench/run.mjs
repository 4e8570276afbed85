#!/usr/bin/env node
// `npm run bench [-- --quick]`: runs the harness through Playwright (which loads its TypeScript).
// The full run writes bench/results/; --quick writes test-results/bench-quick/ and asserts nothing about speed.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const quick = process.argv.includes('--quick');
const root = fileURLToPath(new URL('..', import.meta.url));
const result = spawnSync('npx', ['playwright', 'test', '--config', 'bench/playwright.config.ts', 'bench/run.spec.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, BENCH_QUICK: quick ? '1' : '0' },
});
process.exit(result.status ?? 1);
