import { test } from '@playwright/test';
import { runBench } from './harness/run.js';

test('benchmark', async () => {
  await runBench({ quick: process.env['BENCH_QUICK'] === '1' });
});
