/**
 * What the bench page and the Node harness exchange. The page measures and hands back raw samples;
 * the harness turns them into statistics, ratios, targets and the report.
 */

/** Sizes of one run: `quick` is the CI smoke version, the full run is the one the report quotes. */
export interface BenchConfig {
  quick: boolean;
  /** Interleaved rounds per case, after one discarded warm-up round. */
  rounds: number;
  /** Operations per contender per round for the cheap sequential cases. */
  batch: number;
  /** Waves of 64 concurrent appends per contender per round. */
  waves: number;
  depths: number[];
  threadCounts: number[];
  /** Messages in the bushy tree of listLeafMessages. */
  bushy: number;
  indexSizes: number[];
  coldRounds: number;
  /** Messages in the cold-start case every contender (Dexie included) runs. */
  coldMessages: number;
  /** Messages in the cold-start case only the store (and the raw engine) run: the absolute target. */
  coldMessagesLarge: number;
  /** Branch depths re-measured under contention (the write cases are re-measured too). */
  contentionDepths: number[];
  /** Database sizes (messages) of the scaling curve. */
  scaling: number[];
  /** Messages in the database of the full-text search case. */
  searchMessages: number;
}

/** One contender's measurements in one case. */
export interface Measured {
  /** Latency of each operation, in ms. */
  samples: number[];
  /** Time its batches took in total; ops / elapsed gives ops/s even where timers are coarse. */
  elapsedMs: number;
  ops: number;
}

/** One case as the page measured it. */
export interface CaseRun {
  id: string;
  group: string;
  title: string;
  params: Record<string, number | string>;
  contenders: Record<string, Measured>;
}

/** Wasm heap of a worker at a database size. */
export interface MemoryPoint {
  contender: string;
  messages: number;
  heapBytes: number;
  /** sqlite3_memory_used(), where the worker can ask the engine (the raw worker). */
  sqliteBytes: number | null;
}

/** What one phase returns. */
export interface PhaseOutput {
  cases: CaseRun[];
  memory: MemoryPoint[];
  notes: string[];
}

/** How a phase runs: `contention` runs the subset the contention ratios need; `busy` turns the harness's busy process on and off. */
export interface PhaseMode {
  contention?: boolean;
  busy?: (on: boolean) => Promise<void>;
}

/**
 * The phases, in the order the harness runs them. `contention` re-measures the write and branch
 * cases against Dexie while the harness keeps one core busy; it follows the quiet ones directly.
 */
export const PHASES = ['writes', 'reads', 'contention', 'experiments', 'threads', 'names', 'search', 'coldstart', 'scaling'] as const;
export type PhaseName = (typeof PHASES)[number];

/** What the page puts on `window.bench`. */
export interface BenchPage {
  run(phase: PhaseName, config: BenchConfig): Promise<PhaseOutput>;
  environment(): { userAgent: string; crossOriginIsolated: boolean; hardwareConcurrency: number; timerResolutionMs: number };
}
