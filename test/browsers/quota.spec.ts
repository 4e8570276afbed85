import * as quota from './bodies/quota.js';
import { test } from './fixtures.js';

// Shared with test/e2e/quota.spec.ts (Chromium): QuotaExceededError from OPFS sync access handles.
test('a full disk during a commit rejects appendMessage with QUOTA_EXCEEDED and loses nothing else', async ({ driver }) => {
  await quota.fullDiskDuringCommit(driver);
});
test('a full disk during the session index append rejects upsertThread with QUOTA_EXCEEDED and keeps no row', async ({ driver }) => {
  await quota.fullDiskDuringIndexAppend(driver);
});
test('a failing flush (the commit cannot be made durable) is QUOTA_EXCEEDED too, and the store recovers', async ({ driver }) => {
  await quota.failingFlush(driver);
});
