import { expect, test } from './fixtures.js';

test('without OPFS, `auto` falls back to memory, says so in info(), and keeps data across a reload through IndexedDB', async ({ app }) => {
  const name = `fallback-${Date.now()}`;
  const first = await app.evaluate(async (name) => {
    const store = await window.openStateStore({ name, worker: window.workerWithoutOpfs() });
    await store.upsertThread({ id: 't', preview: '', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api', name: 'Kept' });
    await store.appendMessage('t', 'user', 'kept in IndexedDB');
    const info = await store.info();
    // Let the debounced snapshot land, then leave without close(), as a tab does.
    await new Promise((r) => setTimeout(r, 600));
    return { vfs: info.vfs, fallbackReason: info.fallbackReason };
  }, name);
  expect(first.vfs).toBe('memory');
  expect(first.fallbackReason).toContain('getDirectory');

  await app.reload();
  await app.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  const after = await app.evaluate(async (name) => {
    const store = await window.openStateStore({ name, worker: window.workerWithoutOpfs() });
    const result = { messages: (await store.listMessages('t')).map((m) => m.content), name: await store.findThreadNameById('t'), vfs: (await store.info()).vfs };
    await store.close();
    return result;
  }, name);
  expect(after).toEqual({ messages: ['kept in IndexedDB'], name: 'Kept', vfs: 'memory' });
});

test('vfs: "memory" works on request and its snapshot is written on close()', async ({ app }) => {
  const name = `memory-${Date.now()}`;
  const result = await app.evaluate(async (name) => {
    const a = await window.openStateStore({ name, vfs: 'memory' });
    await a.upsertThread({ id: 't', preview: '', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api' });
    await a.appendMessage('t', 'user', 'one');
    await a.close();
    const b = await window.openStateStore({ name, vfs: 'memory' });
    const out = { messages: (await b.listMessages('t')).map((m) => m.content), info: await b.info() };
    await b.close();
    return out;
  }, name);
  expect(result.messages).toEqual(['one']);
  expect(result.info.vfs).toBe('memory');
  expect(result.info.fallbackReason).toBe('memory was requested');
});
