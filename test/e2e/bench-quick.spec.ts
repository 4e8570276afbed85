import { test, expect } from '@playwright/test';
import { runBench } from '../../bench/harness/run.js';

// The quick benchmark in CI: the same harness as `npm run bench -- --quick`, so it cannot rot. It
// checks that every case and contender produced numbers; speed is the report's business, never a test's.
test('the quick benchmark runs every case and every contender produces finite numbers', async () => {
  // Nine phases now (Dexie and the contention phase joined); about 3 minutes at load 8 on 2 cores.
  test.setTimeout(300_000);
  const results = await runBench({ quick: true, log: () => {} });
  expect(results.cases.length).toBeGreaterThan(10);
  const problems: string[] = [];
  for (const c of results.cases) {
    const contenders = Object.entries(c.stats);
    if (contenders.length < 2) problems.push(`${c.id}: fewer than two contenders`);
    for (const [name, s] of contenders) {
      if (s.ops < 1) problems.push(`${c.id}/${name}: no operations`);
      for (const [key, value] of Object.entries(s)) if (!Number.isFinite(value) || value < 0) problems.push(`${c.id}/${name}: ${key} = ${value}`);
    }
    for (const [key, value] of Object.entries(c.ratios)) if (!Number.isFinite(value) || value <= 0) problems.push(`${c.id}: ratio ${key} = ${value}`);
  }
  for (const m of results.memory) if (!(m.heapBytes > 0)) problems.push(`memory of ${m.contender} at ${m.messages}: ${m.heapBytes}`);
  expect(problems).toEqual([]);
  expect(results.targets.filter((t) => t.value !== null).length).toBeGreaterThan(0);
});
