import { PORTS, url } from '../ports.js';
import { expect, test } from './fixtures.js';

const roundTrip = async () => {
  const store = await window.openStateStore({ name: `smoke-${crypto.randomUUID()}` });
  await store.upsertThread({ id: 't', preview: '', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api' });
  const id = await store.appendMessage('t', 'user', 'hello');
  const messages = await store.listMessages('t');
  const info = await store.info();
  await store.close();
  return { id, contents: messages.map((m) => m.content), vfs: info.vfs, sqliteVersion: info.sqliteVersion, crossOriginIsolated: self.crossOriginIsolated };
};

const expected = { id: 1, contents: ['hello'], vfs: 'opfs-sahpool', sqliteVersion: '3.54.1', crossOriginIsolated: false };

test('the production build serves the worker and the wasm, and the store runs on OPFS without COOP/COEP', async ({ app }) => {
  expect(await app.evaluate(roundTrip)).toEqual(expected);
});

test('the Vite dev server serves the worker and the wasm too', async ({ profile }) => {
  const page = await profile.context.newPage();
  await page.goto(`${url(PORTS.e2eDev)}/`);
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', undefined, { timeout: 30_000 });
  expect(await page.evaluate(roundTrip)).toEqual(expected);
  await page.close();
});
