/**
 * Timings the sync suite measures (test/sync, against a real local workerd sync server) and the benchmark
 * report shows beside its targets, as measured figures with no target: the bench page itself runs no sync
 * server. `SYNC_BENCH_RECORD=1 npm run test:sync -- -g "new device"` records the new device's first full
 * sync into bench/results/sync.json and re-renders targets.md and report.html around the last full run.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Results } from './analyze.js';
import { renderReport, renderTargetsMarkdown } from './report.js';

/** One recorded timing: what was measured, the figure, and when and under what load. */
export interface SyncTiming {
  id: string;
  description: string;
  value: number;
  unit: string;
  /** The figures behind it, and the load. */
  detail: string;
  date: string;
  commit: string | null;
}

/** The file of sync timings beside a run's results. */
export const syncTimingFile = (dir: string): string => join(dir, 'sync.json');

/** The sync timings recorded in `dir`, or none. */
export function readSyncTimings(dir: string): SyncTiming[] {
  const file = syncTimingFile(dir);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SyncTiming[]) : [];
}

/** Records a timing (replacing one with its id) and re-renders the report and targets.md of the last run in `dir`. */
export function recordSyncTiming(dir: string, timing: SyncTiming): void {
  const timings = [...readSyncTimings(dir).filter((t) => t.id !== timing.id), timing];
  writeFileSync(syncTimingFile(dir), JSON.stringify(timings, null, 2) + '\n');
  const latest = join(dir, 'latest.json');
  if (!existsSync(latest)) return;
  const results = JSON.parse(readFileSync(latest, 'utf8')) as Results;
  writeFileSync(join(dir, 'targets.md'), renderTargetsMarkdown(results, timings));
  writeFileSync(join(dir, 'report.html'), renderReport(results, timings));
}
