import * as persistence from './bodies/persistence.js';
import { expect, test } from './fixtures.js';

// Shared with test/e2e/persistence.spec.ts. The store picks its storage by feature detection: OPFS in
// Firefox, memory with IndexedDB in WebKitGTK (no OPFS there).
test('data written before a reload is read back after it (on the storage the browser has)', async ({ driver }) => {
  const { vfs } = await persistence.reload(driver);
  expect(vfs).toBe(driver.opfs ? 'opfs-sahpool' : 'memory');
});

test('data survives closing the browser and starting it again on the same profile', async ({ driver }) => {
  test.skip(!driver.restart, `${driver.engine} has no on-disk profile here`);
  await persistence.restart(driver);
});

test('session_index.jsonl exists in the store directory of OPFS with one line per append, in the seed format', async ({ driver }) => {
  test.skip(!driver.opfs, `${driver.engine} has no OPFS here`);
  await persistence.sessionIndexFile(driver);
});
