#!/usr/bin/env node
// Sums the JSON reports of Vitest and Playwright into the one line CI reads: "N passed, N failed, N skipped".
// A report that is missing (its runner never ran) counts as one failure, so a broken run cannot look green.
import { existsSync, readFileSync } from 'node:fs';

const reports = {
  'test-results/unit.json': (r) => ({ passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests }),
  // The edge suite in workerd (test/edge/vitest.config.ts): the same Vitest report.
  'test-results/edge.json': (r) => ({ passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests }),
  // Errors outside any test (a web server that did not start, a spec that did not load) count as failures.
  'test-results/e2e.json': (r) => ({ passed: r.stats.expected + r.stats.flaky, failed: r.stats.unexpected + (r.errors?.length ?? 0), skipped: r.stats.skipped }),
  // The Firefox and WebKit runs (playwright.browsers.config.ts): the same Playwright report.
  'test-results/browsers.json': (r) => ({ passed: r.stats.expected + r.stats.flaky, failed: r.stats.unexpected + (r.errors?.length ?? 0), skipped: r.stats.skipped }),
  // The sync scenarios (playwright.sync.config.ts): the same Playwright report.
  'test-results/sync.json': (r) => ({ passed: r.stats.expected + r.stats.flaky, failed: r.stats.unexpected + (r.errors?.length ?? 0), skipped: r.stats.skipped }),
};

const total = { passed: 0, failed: 0, skipped: 0 };
for (const [file, count] of Object.entries(reports)) {
  if (!existsSync(file)) {
    console.log(`${file}: missing (that runner did not finish)`);
    total.failed += 1;
    continue;
  }
  const c = count(JSON.parse(readFileSync(file, 'utf8')));
  console.log(`${file}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
  for (const k of Object.keys(total)) total[k] += c[k];
}
// The test command's own exit status (passed by .ci/run): a failure no runner counted is still one.
const status = Number(process.argv[2] ?? 0);
if (status !== 0 && total.failed === 0) {
  console.log(`the test command exited with status ${status}`);
  total.failed = 1;
}
console.log(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
