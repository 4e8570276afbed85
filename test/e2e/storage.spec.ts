import { rmSync } from 'node:fs';
import { PORTS, url } from '../ports.js';
import { expect, launchProfile, newProfileDir, openApp, test } from './fixtures.js';

/**
 * The opfs-sahpool starts small and grows on demand: every pool file is an OPFS file held open with
 * a sync access handle, and the browser counts what it reserves for each as used storage.
 */

test('a fresh store keeps a small pool, and info() reports the database and the pool apart', async () => {
  const dir = newProfileDir();
  try {
    const context = await launchProfile(dir);
    const page = await context.newPage();
    await openApp(page, `${url(PORTS.e2ePreview)}/`);
    const seen = await page.evaluate(async () => {
      const empty = (await navigator.storage.estimate()).usage ?? 0;
      const store = await window.openStateStore({ name: 'fresh' });
      const thread = await store.createThread({ title: 'small' });
      await store.addMessage(thread.id, { role: 'user', content: 'hello' });
      const info = await store.info();
      await store.close();
      return { empty, info };
    });
    await context.close();
    console.log(`fresh origin: ${seen.empty} bytes before, ${seen.info.storageEstimate?.usage} bytes with the store open; database ${seen.info.databaseSizeBytes} bytes, pool ${seen.info.poolBytes} bytes in ${seen.info.poolFiles} files (${seen.info.poolFilesInUse} in use)`);
    expect(seen.info.vfs).toBe('opfs-sahpool');
    // The pool starts with three files: the database, its WAL, and one spare.
    expect(seen.info.poolFilesInUse).toBe(2);
    expect(seen.info.poolFiles).toBe(3);
    expect(seen.info.poolBytes).toBeGreaterThan(seen.info.databaseSizeBytes);
    // Three 4 KiB headers, the database and a WAL of a few commits.
    expect(seen.info.poolBytes).toBeLessThan(1024 * 1024);
    // Chromium counts about 1 MiB per open pool file: a twelve-file pool showed 12 MB here.
    expect(seen.info.storageEstimate!.usage - seen.empty).toBeLessThan(6 * 1024 * 1024);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the pool grows when a crash leaves a WAL behind and an import needs a journal, and no write is lost across reopens', async ({ app }) => {
  const name = `grow-${Date.now()}`;
  const result = await app.evaluate(async (name) => {
    const text = 'x'.repeat(2000);
    // A worker the page ends abruptly, as a closed tab would: the WAL stays in the pool.
    const worker = window.ownWorker();
    const first = await window.openStateStore({ name, worker });
    const thread = await first.createThread({ title: 'big' });
    await Promise.all(Array.from({ length: 1500 }, (_, i) => first.appendMessage(thread.id, 'user', `${i} ${text}`)));
    const written = await first.info();
    worker.terminate();

    const second = await window.openStateStore({ name });
    const afterCrash = await second.info();
    const bytes = await second.exportDatabase();
    const imported = await second.importDatabase(bytes);
    const afterImport = await second.info();
    await second.appendMessage(thread.id, 'assistant', 'after the import');
    await second.close();

    const third = await window.openStateStore({ name });
    const messages = await third.listMessages(thread.id, 5000);
    const reopened = await third.info();
    await third.close();
    return { written, afterCrash, imported, afterImport, reopened, count: messages.length, last: messages.at(-1)?.content };
  }, name);
  console.log(JSON.stringify({ written: result.written, afterCrash: result.afterCrash, afterImport: result.afterImport, reopened: result.reopened }, null, 1));
  expect(result.count).toBe(1501);
  expect(result.last).toBe('after the import');
  // Three megabytes of messages: the pool's files grew with them.
  expect(result.written.databaseSizeBytes + 0).toBeGreaterThan(3_000_000);
  expect(result.written.poolBytes).toBeGreaterThan(result.written.databaseSizeBytes);
  // The crash left the database and its WAL in use; at open the pool grew to keep two spare.
  expect(result.afterCrash.poolFilesInUse).toBe(2);
  expect(result.afterCrash.poolFiles).toBe(4);
  // Before and after an import (whose journal is one more file) it keeps two spare too.
  expect(result.afterImport.poolFiles! - result.afterImport.poolFilesInUse!).toBeGreaterThanOrEqual(2);
  // A clean close gives back all but two spare, and the WAL of the next writes takes one.
  expect(result.reopened.poolFiles).toBe(3);
});
