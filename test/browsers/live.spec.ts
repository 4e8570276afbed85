import * as live from './bodies/live.js';
import { test } from './fixtures.js';

// Shared with test/e2e/live.spec.ts (Chromium).
test("watchBranch in tab B delivers tab A's addMessage", async ({ driver }) => {
  await live.watchBranchDeliversOtherTabsWrite(driver);
});
test('watchThreads in tab B moves a thread to the top when tab A adds a message to it', async ({ driver }) => {
  await live.watchThreadsReorders(driver);
});
test("when the leader's tab closes, tab B's subscribers hear a leader notice and B's info() says it leads", async ({ driver }) => {
  await live.leaderNoticeAfterLeaderCloses(driver);
});
test("a live query in tab B keeps delivering after the leader's tab closes", async ({ driver }) => {
  await live.liveQuerySurvivesFailover(driver);
});
