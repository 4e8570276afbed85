import { expect } from '@playwright/test';
import type { BrowserDriver, Tab } from '../driver.js';

/**
 * The hooks of agent-state-store/react on test/e2e/app/react.html (React 19, StrictMode, the
 * production build): useThreads and useBranch render what the store holds and follow another tab's
 * writes. Shared by test/e2e/react.spec.ts and test/browsers/react.spec.ts; it reads the DOM through
 * evaluate() only, so every driver runs it.
 */
export async function hooksFollowAnotherTab(driver: BrowserDriver): Promise<void> {
  const store = `react-shared-${crypto.randomUUID()}`;
  const page = await driver.newTab(`/react.html?store=${store}`);
  const other = await driver.newTab();
  await other.evaluate(async (name) => {
    (window as unknown as { store: unknown }).store = await window.openStateStore({ name });
  }, store);
  type S = { createThread(t: object): Promise<{ id: string }>; addMessage(id: string, m: object): Promise<unknown> };
  const id = await other.evaluate(async () => {
    const s = (window as unknown as { store: S }).store;
    const { id } = await s.createThread({ title: 'From the other tab' });
    await s.addMessage(id, { role: 'user', content: 'Q1' });
    return id;
  });
  const listed = (tab: Tab) => tab.evaluate(() => [...document.querySelectorAll('#threads li')].map((li) => li.textContent));
  await expect.poll(() => listed(page), { timeout: 10_000 }).toEqual(['From the other tab']);
  await page.evaluate((id) => window.reactPage.render({ selected: id }), id);
  const shown = (tab: Tab) => tab.evaluate(() => [...document.querySelectorAll('#branch li .content')].map((el) => el.textContent));
  await expect.poll(() => shown(page), { timeout: 10_000 }).toEqual(['Q1']);
  await other.evaluate(async (id) => {
    await (window as unknown as { store: S }).store.addMessage(id, { role: 'assistant', content: 'A1' });
  }, id);
  await expect.poll(() => shown(page), { timeout: 10_000 }).toEqual(['Q1', 'A1']);
  // One live query per mounted hook, whatever StrictMode did; no hook reported an error.
  expect(await page.evaluate(() => ({ active: window.reactPage.counts.active, errors: window.reactPage.errors }))).toEqual({ active: 2, errors: [] });
  await other.evaluate(async () => (window as unknown as { store: { close(): Promise<void> } }).store.close());
  await Promise.all([page.close(), other.close()]);
}
