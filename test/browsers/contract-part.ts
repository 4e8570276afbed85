import { contractCases } from '../contract/index.js';
import type { Tab } from './driver.js';
import { test } from './fixtures.js';

/**
 * Registers every `parts`-th contract case from `part` on: the suite is split over two spec files so
 * that Playwright's two workers share it. Each file's cases run in one page of the test app (not a
 * page load per case); each case opens fresh stores through openStateStore() (OPFS in Firefox, memory
 * + IndexedDB in WebKitGTK).
 */
export function contractPart(part: number, parts: number): void {
  let tab: Tab | undefined;
  test.afterAll(async () => {
    await tab?.close().catch(() => {});
    tab = undefined;
  });
  contractCases.forEach((c, i) => {
    if (i % parts !== part) return;
    const name = `${c.group} › ${c.name}`;
    test(`contract: ${name}`, async ({ driver }) => {
      tab ??= await driver.newTab();
      await tab.evaluate((n) => window.runContractCase(n), name);
    });
  });
}
