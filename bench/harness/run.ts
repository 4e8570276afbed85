/**
 * Runs the benchmark: one persistent on-disk Chromium profile, one page of the bench app, the
 * phases one after another, then statistics, targets, the JSON files, the HTML report and its
 * screenshot. `npm run bench` and the CI check (test/e2e/bench-quick.spec.ts) both call runBench.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchProfile, newProfileDir } from '../../test/e2e/fixtures.js';
import { PORTS, url } from '../../test/ports.js';
import { PHASES, type BenchConfig, type CaseRun, type MemoryPoint, type PhaseOutput } from '../app/types.js';
import { analyzeCase, evaluateTargets, type Results } from './analyze.js';
import { renderReport, renderTargetsMarkdown } from './report.js';
import { readSyncTimings } from './sync-timing.js';

/** The bench app's preview server (bench/vite.config.ts). */
export const BENCH_URL = `${url(PORTS.bench)}/`;

/**
 * The sizes of the full run (the one the README quotes) and of the quick CI run. The full run is
 * kept to about six minutes so that it can run alone: the scaling curve stops at 100,000 messages
 * (1,000,000 took 458 of the old 852 s), search runs over 10,000 messages (100,000 took 176 s, most
 * of it seeding), listThreads skips the 10,000 point, the 100,000-message cold start runs the store
 * only, and the deepest reads take one operation per contender per round.
 */
export function benchConfig(quick: boolean): BenchConfig {
  return quick
    ? {
        quick, rounds: 2, batch: 8, waves: 1, depths: [10, 100], threadCounts: [1000], bushy: 200, indexSizes: [1000], coldRounds: 2,
        coldMessages: 1000, coldMessagesLarge: 1000, contentionDepths: [100], scaling: [1000, 3000], searchMessages: 2000,
      }
    : {
        quick, rounds: 7, batch: 40, waves: 3, depths: [10, 100, 1000, 10000], threadCounts: [1000, 100_000], bushy: 5000,
        indexSizes: [1000, 100_000], coldRounds: 8, coldMessages: 10_000, coldMessagesLarge: 100_000, contentionDepths: [1000, 10000],
        scaling: [1000, 10_000, 100_000], searchMessages: 10_000,
      };
}

/**
 * The busy process of the contention phase: a Node spin loop pinned to CPU 0 (taskset) where the
 * machine has more than one core, so that it takes one core and leaves the rest. Answers a stop.
 */
function startBusy(): () => void {
  const spin = ['-e', 'for(;;){}'];
  let child: ChildProcess;
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    child = spawn('taskset', ['-c', '0', process.execPath, ...spin], { stdio: 'ignore' });
  } catch {
    child = spawn(process.execPath, spin, { stdio: 'ignore' });
  }
  return () => {
    child.kill('SIGKILL');
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
  'exportDatabase is not benchmarked.',
  'IndexedDB and Dexie (and, for the 100,000-message cold start, the raw engine) are left out of the scaling curve, the memory points and the large cold start: seeding them that large would dominate the run, and those targets compare the store with itself or with a fixed budget.',
  'Dexie runs in the page (as a Dexie app does); the store and the raw engine run in a worker. Dexie is not in the pragma experiments, the job/goal cases, listThreads, the session index or search.',
  'Cold start: each Dexie start first waits 2.5 s (untimed), longer than the 2 s Chromium keeps an origin\'s IndexedDB backing store open after its last connection closes, so it opens from disk; the IndexedDB baseline does not wait (a warm-backend figure). The store\'s start includes creating its worker and instantiating the wasm; Dexie\'s module is already loaded in the page.',
];

/** Whether src/ or worker/ differ from the commit: then the numbers are for a build of uncommitted code. */
function sourceDirty(): boolean | null {
  try {
    return execFileSync('git', ['status', '--porcelain', '--', 'src', 'worker'], { encoding: 'utf8' }).trim().length > 0;
  } catch {
    return null;
  }
}

const round2 = (n: number) => Number(n.toFixed(2));

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
  const loadAround: Record<string, { before: number[]; after: number[] }> = {};
  let stopBusy: (() => void) | undefined;
  const busyWindows: { phase: string; seconds: number }[] = [];
  let busySince = 0;
  let currentPhase = '';
  try {
    const errors: string[] = [];
    const openPage = async () => {
      const page = await context.newPage();
      // The contention phase turns the busy process on while it measures and off before it cleans up.
      await page.exposeFunction('benchBusy', (on: boolean) => {
        if (on && !stopBusy) {
          stopBusy = startBusy();
          busySince = Date.now();
        } else if (!on && stopBusy) {
          stopBusy();
          stopBusy = undefined;
          busyWindows.push({ phase: currentPhase, seconds: (Date.now() - busySince) / 1000 });
        }
      });
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
      currentPhase = phase;
      const before = loadavg();
      const out: PhaseOutput = await page.evaluate(([p, c]) => window.bench.run(p, c), [phase, cfg] as const);
      loadAround[phase] = { before: before.map(round2), after: loadavg().map(round2) };
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
        loadAverageBefore: loadBefore.map(round2),
        loadAverageAfter: loadavg().map(round2),
        loadAverageByPhase: loadAround,
        contention: { busyProcess: 'node -e "for(;;){}", pinned to CPU 0 with taskset where available, on only while the contention phase measures', windows: busyWindows },
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
    // The sync suite's timings recorded beside the results (bench/results/sync.json), shown with them.
    const sync = readSyncTimings(outDir);
    writeFileSync(html, renderReport(results, sync));
    writeFileSync(join(outDir, 'targets.md'), renderTargetsMarkdown(results, sync));
    const shot = await context.newPage();
    await shot.setViewportSize({ width: 1060, height: 900 });
    await shot.goto(pathToFileURL(html).href);
    await shot.screenshot({ path: join(outDir, 'report.png'), fullPage: true });
    log(`bench: wrote ${outDir} in ${results.meta['durationSeconds']} s`);
    return results;
  } finally {
    stopBusy?.();
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
