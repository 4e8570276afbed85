import * as quota from '../browsers/bodies/quota.js';
import { playwrightDriver } from '../browsers/playwright-driver.js';
import { PORTS, url } from '../ports.js';
import { test } from './fixtures.js';

const base = url(PORTS.e2ePreview);

/**
 * A full origin quota, simulated at the storage layer: the test app's quota worker makes OPFS sync
 * access handle writes throw QuotaExceededError on demand (test/e2e/app/quota-hook.ts). A write that
 * hits it must reject with QUOTA_EXCEEDED (not a vague STORAGE), leave the store readable with
 * nothing half-written, and writes must work again once space is back.
 */

// The bodies are shared with Firefox (test/browsers/bodies/quota.ts).
test('a full disk during a commit rejects appendMessage with QUOTA_EXCEEDED and loses nothing else', async ({ profile }) => {
  await quota.fullDiskDuringCommit(playwrightDriver(profile, base));
});

test('a full disk during the session index append rejects upsertThread with QUOTA_EXCEEDED and keeps no row', async ({ profile }) => {
  await quota.fullDiskDuringIndexAppend(playwrightDriver(profile, base));
});

test('a failing flush (the commit cannot be made durable) is QUOTA_EXCEEDED too, and the store recovers', async ({ profile }) => {
  await quota.failingFlush(playwrightDriver(profile, base));
});
