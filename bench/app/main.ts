/**
 * The bench page: it runs one phase at a time when the Node harness asks, and hands back raw
 * samples. Every contender runs here, in the same page and the same run, interleaved.
 */
import { coldstartPhase, scalingPhase } from './phases-startup.js';
import { namesPhase, readsPhase, searchPhase, threadsPhase } from './phases-reads.js';
import { experimentsPhase, writesPhase } from './phases-writes.js';
import type { BenchConfig, BenchPage, PhaseName, PhaseOutput } from './types.js';

/**
 * The write and branch-read cases against Dexie again, with one core kept busy by the harness: it
 * exposes `benchBusy(on)` to the page, and the phases turn it on only while they measure.
 */
async function contentionPhase(cfg: BenchConfig): Promise<PhaseOutput> {
  const hook = (window as { benchBusy?: (on: boolean) => Promise<void> }).benchBusy;
  if (!hook) throw new Error('the contention phase needs the harness (bench/harness/run.ts) to expose benchBusy');
  const busy = (on: boolean) => hook(on);
  const writes = await writesPhase(cfg, { contention: true, busy });
  const reads = await readsPhase(cfg, { contention: true, busy });
  return { cases: [...writes.cases, ...reads.cases], memory: [], notes: [...writes.notes, ...reads.notes] };
}

const phases: Record<PhaseName, (cfg: BenchConfig) => Promise<PhaseOutput>> = {
  writes: (cfg) => writesPhase(cfg),
  contention: contentionPhase,
  experiments: experimentsPhase,
  reads: (cfg) => readsPhase(cfg),
  threads: threadsPhase,
  names: namesPhase,
  search: searchPhase,
  coldstart: coldstartPhase,
  scaling: scalingPhase,
};

/** The smallest step performance.now() shows here (coarsened without cross-origin isolation). */
function timerResolution(): number {
  let smallest = Infinity;
  for (let i = 0; i < 50; i++) {
    const a = performance.now();
    let b = a;
    while (b === a) b = performance.now();
    smallest = Math.min(smallest, b - a);
  }
  return smallest;
}

const bench: BenchPage = {
  run: (phase, cfg) => phases[phase](cfg),
  environment: () => ({
    userAgent: navigator.userAgent,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    hardwareConcurrency: navigator.hardwareConcurrency,
    timerResolutionMs: timerResolution(),
  }),
};

Object.assign(window, { bench });
document.getElementById('status')!.textContent = 'ready';
