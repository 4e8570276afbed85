import { contractCases } from '../contract/index.js';
import type { Tab } from './driver.js';
import { test } from './fixtures.js';

// The contract suite in one page of the test app per browser (not a page load per case): each case
// opens fresh stores through openStateStore() (OPFS in Firefox; memory + IndexedDB in WebKitGTK).
let tab: Tab | undefined;
test.afterAll(async () => {
  await tab?.close().catch(() => {});
  tab = undefined;
});

for (const c of contractCases) {
  const name = `${c.group} › ${c.name}`;
  test(`contract: ${name}`, async ({ driver }) => {
    tab ??= await driver.newTab();
    await tab.evaluate((n) => window.runContractCase(n), name);
  });
}
