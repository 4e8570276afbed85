import { rmSync } from 'node:fs';
import { PORTS, url } from '../ports.js';
import { expect, launchProfile, newProfileDir, openApp, test } from './fixtures.js';

const THREAD = { id: 't1', preview: 'first', ephemeral: false, modelProvider: 'openai', createdAt: 10, updatedAt: 20, status: 'idle', cwd: '/w', cliVersion: '1.0', source: 'interactive', name: 'Persisted Thread', rolloutPath: '/r/t1.jsonl' } as const;

test('data written before a reload is read back after it', async ({ app }) => {
  const name = `reload-${Date.now()}`;
  await app.evaluate(async ({ name, thread }) => {
    const store = await window.openStateStore({ name });
    await store.upsertThread(thread);
    await store.appendMessage('t1', 'user', 'before reload');
    // No close(): the page goes away with the store open, as a user's tab does.
  }, { name, thread: THREAD });
  await app.reload();
  await app.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  const after = await app.evaluate(async (name) => {
    const store = await window.openStateStore({ name });
    const result = { thread: await store.getThread('t1'), messages: (await store.listMessages('t1')).map((m) => m.content), named: await store.findThreadPathByName('persisted thread') };
    await store.close();
    return result;
  }, name);
  expect(after.thread).toMatchObject({ id: 't1', name: 'Persisted Thread', currentLeafId: 1 });
  expect(after.messages).toEqual(['before reload']);
  expect(after.named).toBe('/r/t1.jsonl');
});

test('data survives closing the browser and starting it again on the same profile', async () => {
  const dir = newProfileDir();
  try {
    let context = await launchProfile(dir);
    let page = await context.newPage();
    await openApp(page, `${url(PORTS.e2ePreview)}/`);
    await page.evaluate(async (thread) => {
      const store = await window.openStateStore({ name: 'restart' });
      await store.upsertThread(thread);
      const root = await store.appendMessage('t1', 'user', 'q');
      await store.appendMessage('t1', 'assistant', 'a1');
      await store.forkAtMessage(root, 'assistant', 'a2');
      await store.saveCheckpoint('t1', 'cp', { step: 3 });
    }, THREAD);
    await context.close();

    context = await launchProfile(dir);
    page = await context.newPage();
    await openApp(page, `${url(PORTS.e2ePreview)}/`);
    const read = await page.evaluate(async () => {
      const store = await window.openStateStore({ name: 'restart' });
      const result = {
        branch: (await store.listMessages('t1')).map((m) => m.content),
        leaves: (await store.listLeafMessages('t1')).map((m) => m.content),
        checkpoint: (await store.loadCheckpoint('t1'))?.state,
        name: await store.findThreadNameById('t1'),
      };
      await store.close();
      return result;
    });
    await context.close();
    expect(read).toEqual({ branch: ['q', 'a2'], leaves: ['a1', 'a2'], checkpoint: { step: 3 }, name: 'Persisted Thread' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('session_index.jsonl exists in the store directory of OPFS with one line per append, in the seed format', async ({ app }) => {
  const name = `index-${Date.now()}`;
  const text = await app.evaluate(async ({ name, thread }) => {
    const store = await window.openStateStore({ name });
    await store.upsertThread(thread);
    await store.appendThreadName('t1', 'Renamed', 30, '/r/t1.jsonl');
    await store.close();
    return window.readStoreFile(name, 'session_index.jsonl');
  }, { name, thread: THREAD });
  expect(text).toBe(
    '{"thread_id":"t1","thread_name":"Persisted Thread","updated_at":20,"rollout_path":"/r/t1.jsonl"}\n' +
      '{"thread_id":"t1","thread_name":"Renamed","updated_at":30,"rollout_path":"/r/t1.jsonl"}\n',
  );
});
