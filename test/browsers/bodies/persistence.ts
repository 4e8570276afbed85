import { expect } from '@playwright/test';
import type { BrowserDriver } from '../driver.js';

/** Reload and restart: shared by test/e2e/persistence.spec.ts (Chromium) and test/browsers (Firefox, WebKit). */

const THREAD = { id: 't1', preview: 'first', ephemeral: false, modelProvider: 'openai', createdAt: 10, updatedAt: 20, status: 'idle', cwd: '/w', cliVersion: '1.0', source: 'interactive', name: 'Persisted Thread', rolloutPath: '/r/t1.jsonl' } as const;

/** Written, the page reloaded without close(), read back: on the best storage the browser has (`auto`). */
export async function reload(driver: BrowserDriver): Promise<{ vfs: string }> {
  const tab = await driver.newTab();
  const name = `reload-${crypto.randomUUID()}`;
  await tab.evaluate(
    async ({ name, thread }) => {
      const store = await window.openStateStore({ name });
      await store.upsertThread(thread);
      await store.appendMessage('t1', 'user', 'before reload');
      // No close(): the page goes away with the store open, as a user's tab does.
    },
    { name, thread: THREAD },
  );
  await tab.reload();
  const after = await tab.evaluate(async (name) => {
    const store = await window.openStateStore({ name });
    const result = { thread: await store.getThread('t1'), messages: (await store.listMessages('t1')).map((m) => m.content), named: await store.findThreadPathByName('persisted thread'), vfs: (await store.info()).vfs ?? '' };
    await store.close();
    return result;
  }, name);
  expect(after.thread).toMatchObject({ id: 't1', name: 'Persisted Thread', currentLeafId: 1 });
  expect(after.messages).toEqual(['before reload']);
  expect(after.named).toBe('/r/t1.jsonl');
  await tab.close();
  return { vfs: after.vfs };
}

/** Written, the browser closed and started again on the same profile, read back. */
export async function restart(driver: BrowserDriver): Promise<void> {
  if (!driver.restart) throw new Error(`${driver.engine}: this driver cannot restart its browser`);
  const name = `restart-${crypto.randomUUID()}`;
  const tab = await driver.newTab();
  await tab.evaluate(
    async ({ name, thread }) => {
      const store = await window.openStateStore({ name });
      await store.upsertThread(thread);
      const root = await store.appendMessage('t1', 'user', 'q');
      await store.appendMessage('t1', 'assistant', 'a1');
      await store.forkAtMessage(root, 'assistant', 'a2');
      await store.saveCheckpoint('t1', 'cp', { step: 3 });
    },
    { name, thread: THREAD },
  );
  await driver.restart();
  const again = await driver.newTab();
  const read = await again.evaluate(async (name) => {
    const store = await window.openStateStore({ name });
    const result = {
      branch: (await store.listMessages('t1')).map((m) => m.content),
      leaves: (await store.listLeafMessages('t1')).map((m) => m.content),
      checkpoint: (await store.loadCheckpoint('t1'))?.state,
      name: await store.findThreadNameById('t1'),
    };
    await store.close();
    return result;
  }, name);
  expect(read).toEqual({ branch: ['q', 'a2'], leaves: ['a1', 'a2'], checkpoint: { step: 3 }, name: 'Persisted Thread' });
  await again.close();
}

/** The session index is a JSONL file in the store's OPFS directory, one seed-format line per append (OPFS engines). */
export async function sessionIndexFile(driver: BrowserDriver): Promise<void> {
  const tab = await driver.newTab();
  const name = `index-${crypto.randomUUID()}`;
  const text = await tab.evaluate(
    async ({ name, thread }) => {
      const store = await window.openStateStore({ name });
      await store.upsertThread(thread);
      await store.appendThreadName('t1', 'Renamed', 30, '/r/t1.jsonl');
      await store.close();
      return window.readStoreFile(name, 'session_index.jsonl');
    },
    { name, thread: THREAD },
  );
  expect(text).toBe(
    '{"thread_id":"t1","thread_name":"Persisted Thread","updated_at":20,"rollout_path":"/r/t1.jsonl"}\n' +
      '{"thread_id":"t1","thread_name":"Renamed","updated_at":30,"rollout_path":"/r/t1.jsonl"}\n',
  );
  await tab.close();
}
