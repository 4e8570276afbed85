import { rmSync } from 'node:fs';
import * as persistence from '../browsers/bodies/persistence.js';
import { playwrightDriver } from '../browsers/playwright-driver.js';
import { PORTS, url } from '../ports.js';
import { expect, launchProfile, newProfileDir, test } from './fixtures.js';

// The bodies are shared with Firefox and WebKit (test/browsers/persistence.spec.ts).
const base = url(PORTS.e2ePreview);

test('data written before a reload is read back after it', async ({ profile }) => {
  expect(await persistence.reload(playwrightDriver(profile, base))).toEqual({ vfs: 'opfs-sahpool' });
});

test('data survives closing the browser and starting it again on the same profile', async () => {
  const dir = newProfileDir();
  const holder = { context: await launchProfile(dir) };
  try {
    await persistence.restart(playwrightDriver(holder, base, () => launchProfile(dir), dir));
  } finally {
    await holder.context.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});

test('session_index.jsonl exists in the store directory of OPFS with one line per append, in the seed format', async ({ profile }) => {
  await persistence.sessionIndexFile(playwrightDriver(profile, base));
});
