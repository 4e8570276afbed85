import { contractCases } from '../contract/index.js';
import { test } from './fixtures.js';

// The same contract suite as in Node, run in a page against openStateStore(): the worker, Comlink
// and sahpool on an on-disk OPFS, one fresh store per case.
for (const c of contractCases) {
  const name = `${c.group} › ${c.name}`;
  test(`contract: ${name}`, async ({ app }) => {
    await app.evaluate((n) => window.runContractCase(n), name);
  });
}
