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
  /** Which list it belongs to: issue 13's targets against Dexie, or the earlier ones. */
  group: 'vs Dexie' | 'under contention' | 'earlier';
  /** The figures behind a derived value (say, the quiet and busy ratios of a contention target). */
  detail?: string;
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

/** The cases and contenders behind one of issue 13's ratio targets: ours over Dexie, in ops/s. */
interface RatioSpec {
  id: string;
  description: string;
  caseId: string;
  ours: string;
  dexie: string;
  min: number;
  /** Re-measured under contention (the write and branch-read ratios). */
  contention: boolean;
}

function ratioSpecs(cfg: BenchConfig): RatioSpec[] {
  const specs: RatioSpec[] = [
    { id: 'append-strict', description: 'sequential appendMessage, strict, vs Dexie strict', caseId: 'append-sequential', ours: 'ours-strict', dexie: 'dexie-strict', min: 1.5, contention: true },
    { id: 'append-relaxed', description: 'sequential appendMessage, relaxed, vs Dexie default', caseId: 'append-sequential', ours: 'ours-relaxed', dexie: 'dexie-default', min: 1.5, contention: true },
    { id: 'add-strict', description: 'sequential addMessage, strict, vs Dexie strict', caseId: 'add-message-sequential', ours: 'ours-strict', dexie: 'dexie-strict', min: 1.5, contention: true },
    { id: 'add-relaxed', description: 'sequential addMessage, relaxed, vs Dexie default', caseId: 'add-message-sequential', ours: 'ours-relaxed', dexie: 'dexie-default', min: 1.5, contention: true },
    { id: 'append-64', description: '64 appendMessage in flight, strict, vs Dexie strict with 64 in flight', caseId: 'append-64-in-flight', ours: 'ours-strict', dexie: 'dexie-strict', min: 10, contention: true },
  ];
  const depths = [...new Set([1000, 10000, ...cfg.contentionDepths])].sort((a, b) => a - b);
  for (const d of depths) {
    const contention = cfg.contentionDepths.includes(d);
    specs.push(
      { id: `list-${d}`, description: `listMessages, current branch ${d.toLocaleString('en')} deep, vs Dexie`, caseId: `list-messages-${d}`, ours: 'ours', dexie: 'dexie', min: 2, contention },
      { id: `branch-${d}`, description: `getBranch, current branch ${d.toLocaleString('en')} deep, vs Dexie`, caseId: `get-branch-${d}`, ours: 'ours', dexie: 'dexie', min: 2, contention },
    );
  }
  return specs;
}

/** How far a ratio may fall under contention: it passes while it keeps at least this share of the quiet figure. */
export const CONTENTION_KEEP = 0.8;

/** The targets, evaluated on the run's cases (a target whose case was not run is left open). */
export function evaluateTargets(cases: CaseResult[], cfg: BenchConfig): TargetResult[] {
  const stat = (caseId: string, contender: string) => cases.find((c) => c.id === caseId)?.stats[contender];
  const ratio = (a?: Stats, b?: Stats) => (a && b ? a.opsPerSec / b.opsPerSec : null);
  const atLeast = (id: string, description: string, value: number | null, min: number, group: TargetResult['group'] = 'earlier'): TargetResult => ({
    id, description, goal: `≥ ${min}×`, value, unit: '×', pass: value === null ? null : value >= min, group,
  });
  const specs = ratioSpecs(cfg);
  const targets: TargetResult[] = specs
    .filter((s) => !s.id.match(/^(list|branch)-/) || [1000, 10000].includes(Number(s.id.split('-')[1])))
    .map((s) => atLeast(s.id, s.description, ratio(stat(s.caseId, s.ours), stat(s.caseId, s.dexie)), s.min, 'vs Dexie'));
  // Cold start: one sample per round, so the medians are compared (Dexie's over ours: ≥ 1 means we are no slower).
  const coldOurs = stat(`cold-start-${cfg.coldMessages}`, 'ours');
  const coldDexie = stat(`cold-start-${cfg.coldMessages}`, 'dexie');
  const coldRatio = coldOurs && coldDexie ? coldDexie.p50 / coldOurs.p50 : null;
  targets.push({
    id: 'cold-start-dexie',
    description: `cold start to first read (p50), ${cfg.coldMessages.toLocaleString('en')} messages, vs Dexie`,
    goal: '≥ 1.0×', value: coldRatio, unit: '×', pass: coldRatio === null ? null : coldRatio >= 1, group: 'vs Dexie',
    ...(coldOurs && coldDexie ? { detail: `store ${coldOurs.p50.toFixed(0)} ms, Dexie ${coldDexie.p50.toFixed(0)} ms` } : {}),
  });
  const coldLarge = stat(`cold-start-${cfg.coldMessagesLarge}`, 'ours');
  targets.push({
    id: 'cold-start-large',
    description: `cold start to first read (p50), ${cfg.coldMessagesLarge.toLocaleString('en')} messages`,
    goal: '≤ 300 ms', value: coldLarge ? coldLarge.p50 : null, unit: 'ms', pass: coldLarge ? coldLarge.p50 <= 300 : null, group: 'vs Dexie',
  });
  for (const s of specs.filter((x) => x.contention)) {
    const quiet = ratio(stat(s.caseId, s.ours), stat(s.caseId, s.dexie));
    const busy = ratio(stat(`contention-${s.caseId}`, s.ours), stat(`contention-${s.caseId}`, s.dexie));
    const kept = quiet !== null && busy !== null ? busy / quiet : null;
    targets.push({
      id: `contention-${s.id}`,
      description: `${s.description}: ratio with one core busy over the quiet ratio`,
      goal: `≥ ${CONTENTION_KEEP}`, value: kept, unit: '× quiet', pass: kept === null ? null : kept >= CONTENTION_KEEP, group: 'under contention',
      ...(quiet !== null && busy !== null ? { detail: `quiet ${quiet.toFixed(2)}×, busy ${busy.toFixed(2)}×` } : {}),
    });
  }

  const ours = stat('append-sequential', 'ours-relaxed');
  const raw = stat('append-sequential', 'raw-relaxed');
  const ping = stat('append-sequential', 'postMessage');
  const overhead = ours && raw && ping ? (ours.mean - raw.mean) / ping.mean : null;
  targets.push({
    id: 'client-overhead',
    description: 'per-call overhead of the client over the raw sqlite floor (appendMessage relaxed, mean), in postMessage round trips',
    goal: '≤ 1.5×', value: overhead, unit: '× round trip', pass: overhead === null ? null : overhead <= 1.5, group: 'earlier',
  });
  const rd = stat('get-thread', 'ours-strict');
  const rr = stat('get-thread', 'raw-strict');
  const rp = stat('get-thread', 'postMessage');
  const readOverhead = rd && rr && rp ? (rd.mean - rr.mean) / rp.mean : null;
  targets.push({
    id: 'client-overhead-read',
    description: 'the same, on getThread (one row by key, no write path)',
    goal: '≤ 1.5×', value: readOverhead, unit: '× round trip', pass: readOverhead === null ? null : readOverhead <= 1.5, group: 'earlier',
  });
  targets.push(atLeast('name-100k', 'findThreadPathByName over 100k index entries vs re-reading the file', ratio(stat('find-path-by-name-100000', 'ours'), stat('find-path-by-name-100000', 'reread')), 100));
  const small = Math.min(...cfg.scaling);
  const big = Math.max(...cfg.scaling);
  const a0 = stat(`scaling-append-${small}`, 'ours-strict');
  const a1 = stat(`scaling-append-${big}`, 'ours-strict');
  const growth = a0 && a1 ? a1.mean / a0.mean : null;
  targets.push({
    id: 'append-scaling',
    description: `appendMessage (strict, mean) at ${big.toLocaleString('en')} messages vs at ${small.toLocaleString('en')}`,
    goal: '≤ 1.3×', value: growth, unit: '×', pass: growth === null ? null : growth <= 1.3, group: 'earlier',
  });
  return targets;
}
