import * as fallback from './bodies/fallback.js';
import { expect, test } from './fixtures.js';

// The fallback path (no OPFS: memory, each commit's pages in IndexedDB). Shared with test/e2e/fallback.spec.ts.
test('strict: IndexedDB holds each commit when its write resolves; relaxed: the debounced write lands later', async ({ driver }) => {
  await fallback.strictWaitsForIndexedDb(driver);
});
test('strict: a thread created just before an immediate reload is there after it', async ({ driver }) => {
  await fallback.strictWriteSurvivesAnImmediateReload(driver);
});
test('two tabs without OPFS or Web Locks never overwrite each other: a commit on a stale state is refused with CONFLICT and the tab reloads', async ({ driver }) => {
  await fallback.twoTabsDoNotOverwriteEachOther(driver);
});
test('the browser killed mid-write three times: no acknowledged strict write is lost', async ({ driver }) => {
  // WebKitGTK's automation mode keeps website data in memory: a killed browser keeps nothing to check.
  test.skip(!driver.killAndRestart, `${driver.engine} has no on-disk profile here`);
  test.setTimeout(240_000);
  await fallback.killedBrowserLosesNoAcknowledgedWrite(driver);
});
test('on OPFS too: the browser killed mid-write three times loses no acknowledged strict write', async ({ driver }) => {
  test.skip(!driver.killAndRestart || !driver.opfs, `${driver.engine} has no OPFS or no on-disk profile here`);
  test.setTimeout(240_000);
  await fallback.killedBrowserLosesNoAcknowledgedWrite(driver, 'auto');
});
test('the storage is picked by feature detection, never by user agent (a worker claiming Mobile Safari changes nothing)', async ({ driver }) => {
  const { vfs, fallbackReason } = await fallback.storageIsPickedByFeaturesNotUserAgent(driver);
  // Firefox has OPFS; WebKitGTK has none (no navigator.storage in a worker), and with its features
  // turned on getDirectory rejects in WebDriver's ephemeral session: memory, and info() says why.
  expect(vfs).toBe(driver.opfs ? 'opfs-sahpool' : 'memory');
  if (driver.getDirectoryRejects) expect(fallbackReason).toMatch(/^UnknownError/);
  else if (!driver.opfs) expect(fallbackReason).toContain('getDirectory is not available');
});
