import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, test } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../playwright.config.js';
import { PORTS, url } from '../test/ports.js';

/**
 * `npm run bench:fallback`: a strict write on the fallback path (no OPFS) at 1k, 10k and 100k
 * messages, page-level (the store as shipped) against a whole-database snapshot per commit, in
 * Debian's Chromium on an on-disk profile. Writes bench/results/fallback.json and prints a table.
 */
test('fallback storage: page-level vs whole snapshot per commit', async () => {
  const sizes = (process.env['FALLBACK_SIZES'] ?? '1000,10000,100000').split(',').map(Number);
  const writes = Number(process.env['FALLBACK_WRITES'] ?? 30);
  const dir = mkdtempSync(join(tmpdir(), 'ass-bench-fallback-'));
  const load = () => loadavg().map((x) => x.toFixed(2)).join(' / ');
  const results: unknown[] = [];
  const loadBefore = load();
  try {
    const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
    const page = await context.newPage();
    await page.goto(`${url(PORTS.bench)}/fallback.html`);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    for (const messages of sizes) {
      const before = load();
      const r = await page.evaluate((arg) => (window as unknown as { fallbackBench(a: object): Promise<unknown> }).fallbackBench(arg), { messages, writes });
      results.push({ ...(r as object), loadAverage: { before, after: load() } });
      console.log(JSON.stringify(results.at(-1)));
    }
    await context.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  const report = { when: new Date().toISOString(), commit, cores: 2, loadAverage: { before: loadBefore, after: load() }, browser: 'Debian Chromium, on-disk profile', results };
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/fallback.json', `${JSON.stringify(report, null, 2)}\n`);
  type R = { messages: number; databaseBytes: number; pageLevel: { medianMs: number }; wholeSnapshot: { medianMs: number; snapshotBytes: number } };
  console.log('| messages | database | page-level strict write (median) | whole snapshot per commit (median) | ratio |');
  for (const r of results as R[]) {
    console.log(`| ${r.messages} | ${(r.databaseBytes / 1e6).toFixed(1)} MB | ${r.pageLevel.medianMs.toFixed(1)} ms | ${r.wholeSnapshot.medianMs.toFixed(1)} ms | ${(r.wholeSnapshot.medianMs / r.pageLevel.medianMs).toFixed(1)}× |`);
  }
});
