import { expect, test, type Page } from '@playwright/test';
import { DEMO_URL, messages, newThread, say } from '../e2e/demo-helpers.js';
import { Device, SyncServer, messagesWith, tokenFor } from './harness.js';

/**
 * The sync demo (what `npm run demo:sync` serves): two demo pages in two devices (persistent contexts with
 * profiles of their own), both synced to one store on the local sync server. Each shows the sync badge;
 * a conversation started on A continues on B, and B's answer shows up on A, live.
 */

const server = new SyncServer();
const devices: Device[] = [];

test.beforeAll(async () => {
  test.setTimeout(180_000);
  await server.start();
});

test.afterAll(async () => {
  await Promise.all(devices.splice(0).map((d) => d.close()));
  await server.dispose();
});

async function openSyncedDemo(label: string, remote: string): Promise<{ device: Device; page: Page }> {
  const device = await Device.launch(label);
  devices.push(device);
  const page = await device.context.newPage();
  page.on('pageerror', (e) => device.errors.push(`${label}: ${e.message}`));
  await page.setViewportSize({ width: 1280, height: 860 });
  const query = new URLSearchParams({ store: 'demo-synced', sync: server.storeUrl(remote), token: tokenFor(remote) });
  await page.goto(`${DEMO_URL}?${query.toString()}`);
  await expect(page.locator('body[data-ready="true"]')).toBeAttached({ timeout: 30_000 });
  return { device, page };
}

test('the sync demo: the badge shows the state and pending count, and one conversation continues on two devices', async () => {
  test.setTimeout(180_000);
  const remote = 'demo-a';
  const { page: a } = await openSyncedDemo('A', remote);
  const { page: b } = await openSyncedDemo('B', remote);
  const badgeA = a.locator('#sync-badge');
  const badgeB = b.locator('#sync-badge');
  for (const badge of [badgeA, badgeB]) {
    await expect(badge).toBeVisible();
    await expect(badge).toHaveAttribute('data-state', 'synced', { timeout: 30_000 });
    await expect(badge).toHaveText('synced · 0 pending');
  }

  // A starts a conversation through the UI; the agent answers there.
  await newThread(a);
  await say(a, 'Hello from device A', 1);
  await expect(badgeA).toHaveText('synced · 0 pending', { timeout: 30_000 });

  // B's thread list gets the thread; B opens it and sees A's question and the agent's finished answer.
  const thread = b.locator('.thread-item', { hasText: 'Hello from device A' });
  await expect(thread).toBeVisible({ timeout: 10_000 });
  await thread.click();
  await expect(messages(b).first()).toContainText('Hello from device A');
  await expect(messages(b).first()).toHaveClass(/role-user/);
  await expect(messages(b)).toHaveCount(2, { timeout: 10_000 });

  // B continues the conversation; A shows it live, without a reload.
  await say(b, 'And hello back from device B', 2);
  // (The agent's reply quotes the question, so the question is found by its role.)
  await expect(messages(a).and(a.locator('.role-user')).filter({ hasText: 'And hello back from device B' })).toHaveCount(1, { timeout: 10_000 });
  await expect(messages(a)).toHaveCount(4, { timeout: 10_000 });
  await expect(a.locator('.message.role-assistant:not(.streaming)')).toHaveCount(2);
  for (const badge of [badgeA, badgeB]) await expect(badge).toHaveText('synced · 0 pending', { timeout: 30_000 });

  // Offline, A's badge counts what waits to be pushed; back online it drains, and B gets the messages.
  const deviceA = devices[0]!;
  await deviceA.setOffline(true);
  await expect(badgeA).toHaveAttribute('data-state', 'offline', { timeout: 15_000 });
  await say(a, 'Written on A while offline', 3);
  await expect(badgeA).not.toHaveAttribute('data-pending', '0');
  expect(Number(await badgeA.getAttribute('data-pending'))).toBeGreaterThan(0);
  await expect(badgeA).toContainText('offline · ');
  // For a person to look at: the badge offline with its pending count (test-results, not committed).
  await a.screenshot({ path: 'test-results/sync-artifacts/demo-sync-a-offline.png' });
  await expect(messages(b)).toHaveCount(4);
  await deviceA.setOffline(false);
  await expect(badgeA).toHaveText('synced · 0 pending', { timeout: 30_000 });
  await expect(messages(b).and(b.locator('.role-user')).filter({ hasText: 'Written on A while offline' })).toHaveCount(1, { timeout: 10_000 });
  await expect(messages(b)).toHaveCount(6, { timeout: 10_000 });

  await a.screenshot({ path: 'test-results/sync-artifacts/demo-sync-a.png' });
  await b.screenshot({ path: 'test-results/sync-artifacts/demo-sync-b.png' });

  // The server holds the one conversation, each message once.
  const dump = await server.dump(remote);
  expect(messagesWith(dump, 'Hello from device A')).toHaveLength(1);
  expect(messagesWith(dump, 'And hello back from device B')).toHaveLength(1);
  expect(messagesWith(dump, 'Written on A while offline')).toHaveLength(1);
  expect(devices.flatMap((d) => d.errors)).toEqual([]);
});
