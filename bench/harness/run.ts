/**
 * Runs the benchmark: one persistent on-disk Chromium profile, one page of the bench app, the
 * phases one after another, then statistics, targets, the JSON files, the HTML report and its
 * screenshot. `npm run bench` and the CI check (test/e2e/bench-quick.spec.ts) both call runBench.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchProfile, newProfileDir } from '../../test/e2e/fixtures.js';
import { PORTS, url } from '../../test/ports.js';
import { PHASES, type BenchConfig, type CaseRun, type MemoryPoint, type PhaseOutput } from '../app/types.js';
import { analyzeCase, evaluateTargets, type Results } from './analyze.js';
import { renderReport } from './report.js';

/** The bench app's preview server (bench/vite.config.ts). */
export const BENCH_URL = `${url(PORTS.bench)}/`;

/** The sizes of the full run (the one the README quotes) and of the quick CI run. */
export function benchConfig(quick: boolean): BenchConfig {
  return quick
    ? { quick, rounds: 2, batch: 8, waves: 1, depths: [10, 100], threadCounts: [1000], bushy: 200, indexSizes: [1000], coldRounds: 2, coldMessages: 2000, scaling: [1000, 3000], searchMessages: 2000 }
    : {
        quick, rounds: 7, batch: 40, waves: 3, depths: [10, 100, 1000, 10000], threadCounts: [1000, 10_000, 100_000], bushy: 5000,
        indexSizes: [1000, 100_000], coldRounds: 8, coldMessages: 100_000, scaling: [1000, 10_000, 100_000, 1_000_000],
        searchMessages: 100_000,
      };
}

/** Where a run writes: the full run into bench/results (committed), the quick run out of the way. */
export function defaultOutDir(quick: boolean): string {
  return resolve(quick ? 'test-results/bench-quick' : 'bench/results');
}

export interface RunOptions {
  quick: boolean;
  outDir?: string;
  url?: string;
  log?: (line: string) => void;
}

const NOT_MEASURED = [
  'exportDatabase and search are not benchmarked yet: they arrive with their own issues.',
  'IndexedDB is left out of the scaling curve and the memory points: seeding it to a million messages would dominate the run, and the targets compare our store with itself there.',
];

/** Whether src/ or worker/ differ from the commit: then the numbers are for a build of uncommitted code. */
function sourceDirty(): boolean | null {
  try {
    return execFileSync('git', ['status', '--porcelain', '--', 'src', 'worker'], { encoding: 'utf8' }).trim().length > 0;
  } catch {
    return null;
  }
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

/** Runs every phase and writes the results; returns them. */
export async function runBench(options: RunOptions): Promise<Results> {
  const log = options.log ?? ((line: string) => console.log(line));
  const cfg = benchConfig(options.quick);
  const only = process.env['BENCH_PHASES']?.split(',').filter(Boolean);
  // A partial run is for working on a phase; it never lands where results are committed.
  const outDir = options.outDir ?? (only ? resolve('test-results/bench-partial') : defaultOutDir(options.quick));
  const started = Date.now();
  const loadBefore = loadavg();
  const profile = newProfileDir();
  const context = await launchProfile(profile);
  const runs: CaseRun[] = [];
  const memory: MemoryPoint[] = [];
  const notes: string[] = [];
  const phaseSeconds: Record<string, number> = {};
  try {
    const errors: string[] = [];
    const openPage = async () => {
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error' && !m.text().includes('404')) log(`bench page console: ${m.text()}`);
      });
      await page.goto(options.url ?? BENCH_URL);
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
      return page;
    };
    let env: Awaited<ReturnType<typeof window.bench.environment>> | undefined;
    // BENCH_PHASES=coldstart,scaling runs only those phases.
    for (const phase of PHASES.filter((p) => !only || only.includes(p))) {
      // A fresh page per phase (same profile): no phase inherits another's workers, heap or garbage.
      const page = await openPage();
      env ??= await page.evaluate(() => window.bench.environment());
      const t = Date.now();
      const out: PhaseOutput = await page.evaluate(([p, c]) => window.bench.run(p, c), [phase, cfg] as const);
      phaseSeconds[phase] = (Date.now() - t) / 1000;
      await page.close();
      log(`bench: ${phase} done in ${phaseSeconds[phase]!.toFixed(1)} s (${out.cases.length} cases)`);
      runs.push(...out.cases);
      memory.push(...out.memory);
      notes.push(...out.notes.map((n) => `${phase}: ${n}`));
    }
    if (errors.length > 0) throw new Error(`uncaught errors in the bench page: ${errors.join('; ')}`);
    const cases = runs.map(analyzeCase);
    const results: Results = {
      meta: {
        date: new Date(started).toISOString(),
        commit: gitCommit(),
        sourceDirty: sourceDirty(),
        packageBuild: process.env['BENCH_DIST'] ?? 'dist/',
        quick: cfg.quick,
        durationSeconds: Math.round((Date.now() - started) / 1000),
        phaseSeconds,
        userAgent: env?.userAgent,
        crossOriginIsolated: env?.crossOriginIsolated,
        timerResolutionMs: env?.timerResolutionMs,
        hardwareConcurrency: env?.hardwareConcurrency,
        nodeCpus: cpus().length,
        loadAverageBefore: loadBefore.map((n) => Number(n.toFixed(2))),
        loadAverageAfter: loadavg().map((n) => Number(n.toFixed(2))),
        profile: 'persistent on-disk Chromium profile (launchPersistentContext)',
      },
      config: cfg,
      cases,
      memory,
      targets: evaluateTargets(cases, cfg),
      notes: [...notes, ...NOT_MEASURED],
    };
    mkdirSync(outDir, { recursive: true });
    const json = JSON.stringify(results, null, 2) + '\n';
    writeFileSync(join(outDir, `${results.meta['date']!.toString().slice(0, 10)}.json`), json);
    writeFileSync(join(outDir, 'latest.json'), json);
    const html = join(outDir, 'report.html');
    writeFileSync(html, renderReport(results));
    const shot = await context.newPage();
    await shot.setViewportSize({ width: 1060, height: 900 });
    await shot.goto(pathToFileURL(html).href);
    await shot.screenshot({ path: join(outDir, 'report.png'), fullPage: true });
    log(`bench: wrote ${outDir} in ${results.meta['durationSeconds']} s`);
    return results;
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
