import { rmSync } from 'node:fs';
import type { BrowserContext } from '@playwright/test';
import * as fallback from '../browsers/bodies/fallback.js';
import { playwrightDriver } from '../browsers/playwright-driver.js';
import { PORTS, url } from '../ports.js';
import { expect, launchProfile, newProfileDir, test } from './fixtures.js';

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

// The shared bodies of the fallback path (test/browsers/bodies/fallback.ts), also run in Firefox and WebKit.
test.describe('fallback path, shared with Firefox and WebKit', () => {
  const driverOf = (profile: { context: BrowserContext }, baseURL: string | undefined) => playwrightDriver(profile, baseURL ?? url(PORTS.e2ePreview));
  test('strict: IndexedDB holds each commit when its write resolves; relaxed: the debounced write lands later', async ({ profile, baseURL }) => {
    await fallback.strictWaitsForIndexedDb(driverOf(profile, baseURL));
  });
  test('strict: a thread created just before an immediate reload is there after it', async ({ profile, baseURL }) => {
    await fallback.strictWriteSurvivesAnImmediateReload(driverOf(profile, baseURL));
  });
  test('two tabs without OPFS or Web Locks never overwrite each other: a commit on a stale state is refused with CONFLICT and the tab reloads', async ({ profile, baseURL }) => {
    await fallback.twoTabsDoNotOverwriteEachOther(driverOf(profile, baseURL));
  });
  test('the storage is picked by feature detection, never by user agent (a worker claiming Mobile Safari changes nothing)', async ({ profile, baseURL }) => {
    expect(await fallback.storageIsPickedByFeaturesNotUserAgent(driverOf(profile, baseURL))).toEqual({ vfs: 'opfs-sahpool', fallbackReason: null });
  });
  test('the browser killed mid-write three times: no acknowledged strict write is lost', async ({ baseURL }) => {
    test.setTimeout(180_000);
    const dir = newProfileDir();
    const holder = { context: await launchProfile(dir) };
    try {
      await fallback.killedBrowserLosesNoAcknowledgedWrite(playwrightDriver(holder, baseURL ?? url(PORTS.e2ePreview), () => launchProfile(dir), dir));
    } finally {
      await holder.context.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
