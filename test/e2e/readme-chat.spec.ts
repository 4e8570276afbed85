import { rmSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { PORTS, url } from '../ports.js';
import { expect, launchProfile, newProfileDir, test } from './fixtures.js';

// The README's React chat (its src/main.tsx, vite.config.ts and index.html blocks, written out
// unchanged by test/e2e/readme-chat-app.mjs and built by `vite build` against the built package),
// used in Chromium as a person would: new chat, send, a streamed reply, regenerate, ‹ 2/3 ›, a second
// chat, and a browser restart that keeps both.
const CHAT = url(PORTS.readmeChat);

async function open(page: Page, problems: string[]): Promise<void> {
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) problems.push(m.text());
  });
  await page.goto(CHAT);
  await expect(page.getByRole('button', { name: 'New chat' })).toBeVisible({ timeout: 30_000 });
}

const answers = (page: Page) => page.locator('p.assistant');
const questions = (page: Page) => page.locator('p.user');

async function send(page: Page, text: string): Promise<void> {
  await page.locator('input[name=text]').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

test("the README's React chat runs as written", async () => {
  const dir = newProfileDir();
  const problems: string[] = [];
  try {
    let context = await launchProfile(dir);
    let page = await context.newPage();
    await open(page, problems);
    await expect(page.locator('li')).toHaveCount(0);

    // Send: a thread appears, titled by the question (never an empty item), and the reply streams in.
    await page.evaluate(() => {
      const seen: string[] = ((window as unknown as { seen: string[] }).seen = []);
      new MutationObserver(() => {
        const text = document.querySelector('p.assistant')?.textContent;
        if (text && seen.at(-1) !== text) seen.push(text);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await send(page, 'What is OPFS in a browser');
    await expect(page.locator('li')).toHaveText(['What is OPFS in a browser']);
    await expect(questions(page)).toContainText('What is OPFS in a browser');
    const full = 'You asked: What is OPFS in a browser';
    await expect(answers(page)).toContainText(full, { timeout: 20_000 });
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    // Drawn while it streamed: some rendering held only the start of the answer.
    expect(seen.some((text) => text.includes('You') && !text.includes('browser'))).toBe(true);

    // Regenerate twice: three answers to one question, the newest shown as 3/3.
    await answers(page).getByRole('button', { name: 'Regenerate' }).click();
    await expect(answers(page)).toContainText('2/2');
    await expect(answers(page)).toContainText(full);
    await answers(page).getByRole('button', { name: 'Regenerate' }).click();
    await expect(answers(page)).toContainText('3/3');
    await expect(answers(page)).toContainText(full);

    // A follow-up under the third answer, then ‹ to the second (2/3) and › back: the follow-up is kept.
    await send(page, 'And IndexedDB');
    await expect(questions(page)).toHaveCount(2);
    await expect(answers(page).nth(1)).toContainText('You asked: And IndexedDB');
    await answers(page).first().getByRole('button', { name: '‹' }).click();
    await expect(answers(page).first()).toContainText('2/3');
    await expect(questions(page)).toHaveCount(1);
    await answers(page).first().getByRole('button', { name: '›' }).click();
    await expect(answers(page).first()).toContainText('3/3');
    await expect(questions(page)).toHaveCount(2);
    await expect(answers(page).nth(1)).toContainText('You asked: And IndexedDB');

    // New chat: an empty conversation; sending starts a second thread.
    await page.getByRole('button', { name: 'New chat' }).click();
    await expect(questions(page)).toHaveCount(0);
    await send(page, 'Second chat');
    await expect(answers(page)).toContainText('You asked: Second chat', { timeout: 20_000 });
    await expect(page.locator('li')).toHaveCount(2);

    // A browser restart keeps both threads, and a click opens the first at the branch it was on.
    await context.close();
    context = await launchProfile(dir);
    page = await context.newPage();
    await open(page, problems);
    await expect(page.locator('li')).toHaveCount(2);
    await page.locator('li', { hasText: 'What is OPFS in a browser' }).click();
    await expect(answers(page).first()).toContainText('3/3');
    await expect(answers(page).nth(1)).toContainText('You asked: And IndexedDB');
    await context.close();
    expect(problems).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
