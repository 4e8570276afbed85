import * as tabs from './bodies/tabs.js';
import { test } from './fixtures.js';

// Shared with test/e2e/tabs.spec.ts (Chromium): the election, failover and the change feed over Web Locks and BroadcastChannel.
test('four tabs append 100 messages each to their own thread and 100 to a shared one at once: all land, every chain intact', async ({ driver }) => {
  await tabs.fourTabsAppendAtOnce(driver, 100);
});
test('when the leader tab closes mid-run another tab takes over within 2 s, and nothing is lost or duplicated', async ({ driver }) => {
  await tabs.leaderClosesMidRun(driver);
});
test('subscribers in every tab see every change, from every tab', async ({ driver }) => {
  await tabs.subscribersSeeEveryChange(driver);
});
