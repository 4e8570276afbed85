/**
 * Turns the page's raw samples into what the report quotes: p50, p95, mean and ops/s per
 * contender, ratios of our store to each baseline, and the targets as pass or miss.
 */
import type { BenchConfig, CaseRun, Measured, MemoryPoint } from '../app/types.js';

/** One contender's numbers in one case. */
export interface Stats {
  p50: number;
  p95: number;
  mean: number;
  opsPerSec: number;
  ops: number;
}

/** One case with its statistics and ratios. */
export interface CaseResult {
  id: string;
  group: string;
  title: string;
  params: CaseRun['params'];
  stats: Record<string, Stats>;
  /** `"a vs b"` → a's ops/s divided by b's: how many times as fast a is. */
  ratios: Record<string, number>;
}

/** One of the targets, evaluated. */
export interface TargetResult {
  id: string;
  description: string;
  goal: string;
  value: number | null;
  unit: string;
  /** null when the run did not measure it (the quick run skips the big sizes). */
  pass: boolean | null;
}

/** Everything a run writes to JSON. */
export interface Results {
  meta: Record<string, unknown>;
  config: BenchConfig;
  cases: CaseResult[];
  memory: MemoryPoint[];
  targets: TargetResult[];
  notes: string[];
}

/** The q-quantile of sorted values, nearest rank. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Statistics of one contender's measurements. */
export function summarize(m: Measured): Stats {
  const sorted = [...m.samples].sort((a, b) => a - b);
  return {
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    mean: m.ops > 0 ? m.elapsedMs / m.ops : NaN,
    opsPerSec: m.elapsedMs > 0 ? (m.ops * 1000) / m.elapsedMs : NaN,
    ops: m.ops,
  };
}

const durabilityOf = (name: string) => (name.endsWith('-strict') ? 'strict' : name.endsWith('-relaxed') ? 'relaxed' : null);

/** Ratios of each of our contenders to each baseline of the same durability (or to the first contender where none is ours). */
function ratiosOf(stats: Record<string, Stats>): Record<string, number> {
  const names = Object.keys(stats);
  const ours = names.filter((n) => n.startsWith('ours'));
  const out: Record<string, number> = {};
  if (ours.length === 0) {
    const first = names[0]!;
    for (const n of names.slice(1)) out[`${n} vs ${first}`] = stats[n]!.opsPerSec / stats[first]!.opsPerSec;
    return out;
  }
  for (const a of ours) {
    for (const b of names.filter((n) => !n.startsWith('ours'))) {
      const da = durabilityOf(a);
      const db = durabilityOf(b);
      if (da && db && da !== db) continue;
      out[`${a} vs ${b}`] = stats[a]!.opsPerSec / stats[b]!.opsPerSec;
    }
  }
  return out;
}

/** Statistics and ratios of one case. */
export function analyzeCase(run: CaseRun): CaseResult {
  const stats = Object.fromEntries(Object.entries(run.contenders).map(([name, m]) => [name, summarize(m)]));
  return { id: run.id, group: run.group, title: run.title, params: run.params, stats, ratios: ratiosOf(stats) };
}

/** The targets, evaluated on the run's cases (a target whose case was not run is left open). */
export function evaluateTargets(cases: CaseResult[], cfg: BenchConfig): TargetResult[] {
  const stat = (caseId: string, contender: string) => cases.find((c) => c.id === caseId)?.stats[contender];
  const ratio = (a?: Stats, b?: Stats) => (a && b ? a.opsPerSec / b.opsPerSec : null);
  const atLeast = (id: string, description: string, value: number | null, min: number): TargetResult => ({
    id, description, goal: `≥ ${min}×`, value, unit: '×', pass: value === null ? null : value >= min,
  });
  const targets: TargetResult[] = [
    atLeast('append-strict', 'sequential appendMessage, strict, vs IndexedDB strict', ratio(stat('append-sequential', 'ours-strict'), stat('append-sequential', 'idb-strict')), 1.5),
    atLeast('append-relaxed', 'sequential appendMessage, relaxed, vs IndexedDB relaxed', ratio(stat('append-sequential', 'ours-relaxed'), stat('append-sequential', 'idb-relaxed')), 1.0),
    atLeast('append-64', '64 appends in flight, strict, vs IndexedDB strict sequential', ratio(stat('append-64-in-flight', 'ours-strict'), stat('append-sequential', 'idb-strict')), 10),
  ];
  const ours = stat('append-sequential', 'ours-relaxed');
  const raw = stat('append-sequential', 'raw-relaxed');
  const ping = stat('append-sequential', 'postMessage');
  const overhead = ours && raw && ping ? (ours.mean - raw.mean) / ping.mean : null;
  targets.push({
    id: 'client-overhead',
    description: 'per-call overhead of the client over the raw sqlite floor (appendMessage relaxed, mean), in postMessage round trips',
    goal: '≤ 1.5×', value: overhead, unit: '× round trip', pass: overhead === null ? null : overhead <= 1.5,
  });
  const rd = stat('get-thread', 'ours-strict');
  const rr = stat('get-thread', 'raw-strict');
  const rp = stat('get-thread', 'postMessage');
  const readOverhead = rd && rr && rp ? (rd.mean - rr.mean) / rp.mean : null;
  targets.push({
    id: 'client-overhead-read',
    description: 'the same, on getThread (one row by key, no write path)',
    goal: '≤ 1.5×', value: readOverhead, unit: '× round trip', pass: readOverhead === null ? null : readOverhead <= 1.5,
  });
  for (const d of [1000, 10000]) {
    targets.push(atLeast(`list-${d}`, `listMessages on a branch ${d.toLocaleString('en')} deep vs the IndexedDB way`, ratio(stat(`list-messages-${d}`, 'ours'), stat(`list-messages-${d}`, 'idb')), 2));
  }
  targets.push(atLeast('name-100k', 'findThreadPathByName over 100k index entries vs re-reading the file', ratio(stat('find-path-by-name-100000', 'ours'), stat('find-path-by-name-100000', 'reread')), 100));
  const small = Math.min(...cfg.scaling);
  const big = Math.max(...cfg.scaling);
  const a0 = stat(`scaling-append-${small}`, 'ours-strict');
  const a1 = stat(`scaling-append-${big}`, 'ours-strict');
  const growth = a0 && a1 ? a1.mean / a0.mean : null;
  targets.push({
    id: 'append-scaling',
    description: `appendMessage (strict, mean) at ${big.toLocaleString('en')} messages vs at ${small.toLocaleString('en')}`,
    goal: '≤ 1.3×', value: growth, unit: '×', pass: growth === null ? null : growth <= 1.3,
  });
  const cold = stat(`cold-start-${cfg.coldMessages}`, 'ours');
  targets.push({
    id: 'cold-start',
    description: `cold start (p50) with ${cfg.coldMessages.toLocaleString('en')} messages`,
    goal: '≤ 300 ms', value: cold ? cold.p50 : null, unit: 'ms', pass: cold ? cold.p50 <= 300 : null,
  });
  return targets;
}
