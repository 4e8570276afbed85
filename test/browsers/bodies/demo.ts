import { expect } from '@playwright/test';
import type { BrowserDriver } from '../driver.js';

/**
 * A smoke test of the demo (its production build): a new chat, a message sent with Enter, the agent's
 * streamed reply stored complete, and both still there after a reload. Through evaluate() only, so
 * every driver runs it. Shared by test/e2e/demo-smoke.spec.ts and test/browsers/demo.spec.ts.
 */
export async function demoSmoke(driver: BrowserDriver, demoUrl: string): Promise<void> {
  const store = `demo-smoke-${crypto.randomUUID()}`;
  const tab = await driver.newTab(`${demoUrl}/?store=${store}`).catch((error: unknown) => {
    throw new Error(`the demo did not open: ${String(error)}`, { cause: error });
  });
  const ready = () => tab.evaluate(() => document.body.dataset['ready'] === 'true');
  await expect.poll(ready, { timeout: 30_000 }).toBe(true);
  await tab.evaluate(() => {
    const button = [...document.querySelectorAll('button')].find((b) => b.textContent?.trim() === 'New chat');
    if (!button) throw new Error('no New chat button');
    button.click();
  });
  await expect.poll(() => tab.evaluate(() => !(document.getElementById('composer-input') as HTMLTextAreaElement).disabled)).toBe(true);
  await tab.evaluate(() => {
    const input = document.getElementById('composer-input') as HTMLTextAreaElement;
    input.value = 'Please search the docs for the streaming API';
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
  });
  const stored = () =>
    tab.evaluate(async () => {
      const store = (window as unknown as { stateStore: Awaited<ReturnType<typeof window.openStateStore>> }).stateStore;
      const thread = (await store.listThreads())[0];
      if (!thread) return null;
      const branch = await store.listMessages(thread.id);
      const last = branch.at(-1);
      return { roles: branch.map((m) => m.role), status: last ? await store.getMessageStatus(last.id) : null, vfs: (await store.info()).vfs };
    });
  await expect.poll(stored, { timeout: 30_000 }).toMatchObject({ roles: ['user', 'assistant'], status: 'complete' });
  const onScreen = () => tab.evaluate(() => document.querySelectorAll('[aria-label="Messages"] > li').length);
  expect(await onScreen()).toBe(2);
  await tab.reload();
  await expect.poll(onScreen, { timeout: 30_000 }).toBe(2);
  await tab.close();
}
