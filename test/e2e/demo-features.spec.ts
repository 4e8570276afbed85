import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, messages, newThread, openDemo, say, shoot, test, waitForNewReply, waitForReplies } from './demo-helpers.js';

/** Renames the selected thread through the dialog. */
async function rename(page: Page, name: string): Promise<void> {
  await page.getByRole('button', { name: 'Rename' }).click();
  const dialog = page.getByRole('dialog', { name: 'Rename thread' });
  await dialog.getByRole('textbox', { name: 'Thread name' }).fill(name);
  await dialog.getByRole('button', { name: 'Rename' }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
}

/** Chooses `file` in the Storage panel's Import… and confirms the replacement. */
async function importFile(page: Page, file: string | { name: string; mimeType: string; buffer: Buffer }): Promise<void> {
  const chooser = page.waitForEvent('filechooser');
  await page.getByRole('region', { name: 'Storage' }).getByRole('button', { name: 'Import…' }).click();
  await (await chooser).setFiles(file);
  await page.getByRole('dialog', { name: 'Import this database?' }).getByRole('button', { name: 'Replace everything' }).click();
}

test('search hits say where they are (thread, role, time, branch); opening one switches to its branch and highlights it', async ({ demo: { page } }) => {
  await newThread(page);
  await say(page, 'Where do pelicans nest?', 1);
  await messages(page).nth(0).getByRole('button', { name: 'Edit and resend' }).click();
  await page.getByRole('textbox', { name: 'Edit message' }).fill('Where do herons nest?');
  await page.getByRole('button', { name: 'Send edit' }).click();
  await waitForNewReply(page, 1);
  await rename(page, 'Birds');
  await newThread(page);
  await say(page, 'Unrelated question about the test suite', 1);

  const sidebar = page.getByRole('navigation', { name: 'Threads' });
  const box = sidebar.getByRole('searchbox', { name: 'Search all chats' });
  const hits = sidebar.getByRole('list', { name: 'Search results' }).getByRole('button');
  await box.fill('pelicans');
  // The question and the agent's reply that quotes it; both in "Birds", on the branch that is not current.
  await expect(hits).toHaveCount(2);
  for (const hit of await hits.all()) {
    await expect(hit.locator('.hit-thread')).toHaveText('Birds');
    await expect(hit.locator('time')).toHaveText('just now');
    await expect(hit.locator('.hit-branch')).toHaveText('on another branch');
  }
  expect((await hits.locator('.hit-role').allTextContents()).sort()).toEqual(['Agent', 'You']);
  await expect(hits.first().locator('mark').first()).toHaveText(/^pelicans$/i);
  await shoot(sidebar, 'search');

  // Hits on the current branch carry no branch note.
  await box.fill('herons');
  await expect(hits.locator('mark').first()).toHaveText(/^herons$/i);
  await expect(hits.locator('.hit-branch')).toHaveCount(0);

  await box.fill('pelicans');
  await expect(hits.locator('mark').first()).toHaveText(/^pelicans$/i);
  await hits.filter({ has: page.locator('.hit-role', { hasText: 'You' }) }).click();
  await expect(page.getByRole('heading', { name: 'Birds' })).toBeVisible();
  const found = messages(page).nth(0);
  await expect(found).toContainText('Where do pelicans nest?');
  await expect(found).toHaveClass(/highlight/);
  await expect(found.getByRole('group', { name: 'Branch 1 of 2' })).toBeVisible();
  await expect(found).toBeInViewport();

  // From the keyboard: Enter in the box opens the best hit, here on the other branch.
  // The results follow the switch: pelicans are on the current branch now.
  await expect(hits.locator('.hit-branch')).toHaveCount(0);
  await box.fill('herons');
  await expect(hits.locator('mark').first()).toHaveText(/^herons$/i);
  await expect(hits.locator('.hit-branch')).toHaveCount(2);
  await box.press('Enter');
  await expect(messages(page).nth(0)).toContainText('Where do herons nest?');
  await expect(messages(page).nth(0).getByRole('group', { name: 'Branch 2 of 2' })).toBeVisible();
  await expect(page.locator('.message.highlight')).toHaveCount(1);
});

test('search shows results or "no results" for any query, never an error', async ({ demo: { page } }) => {
  await newThread(page);
  await say(page, 'Is the 🦜 NEAR the "unbalanced AND ( bracket?', 1);
  const sidebar = page.getByRole('navigation', { name: 'Threads' });
  const box = sidebar.getByRole('searchbox', { name: 'Search all chats' });
  const summary = sidebar.locator('.search-summary');
  for (const query of ['"unbalanced AND (', 'NEAR', 'NEAR(', '🦜', 'bracket*', 'a OR', '-', "'; DROP TABLE messages; --", '«»']) {
    await box.fill(query);
    await expect(summary, query).toHaveText(new RegExp(`^(\\d+\\+? results? for|No results for) “${query.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}”\\.?$`));
    await expect(summary.locator('.error-code'), query).toHaveCount(0);
  }
  await box.fill('NEAR');
  await expect(summary).toHaveText(/^\d+ results? for “NEAR”/);
  await expect(page.getByRole('alert')).toHaveCount(0);
  expect(await page.evaluate(async () => (await window.stateStore!.listThreads()).length)).toBe(1);
});

test('the thread list loads 30 threads at a time; "Load more" shows the rest', async ({ demo: { page } }) => {
  await page.evaluate(async () => {
    const store = window.stateStore!;
    for (let i = 0; i < 35; i++) {
      const at = 1_700_000_000 + i;
      await store.upsertThread({ id: `bulk-${String(i).padStart(2, '0')}`, preview: `Bulk thread ${i}`, ephemeral: false, modelProvider: 'test', createdAt: at, updatedAt: at, status: 'idle', cwd: '/', cliVersion: '1', source: 'api' });
    }
  });
  const list = page.getByRole('list', { name: 'Threads' });
  // The list follows the store's changes: no reload needed.
  await expect(list.getByRole('listitem')).toHaveCount(30);
  await expect(list.getByRole('listitem').first()).toContainText('Bulk thread 34');
  await expect(list.getByRole('listitem').last()).toContainText('Bulk thread 5');
  const more = page.getByRole('button', { name: 'Load more' });
  await more.click();
  await expect(list.getByRole('listitem')).toHaveCount(35);
  await expect(list.getByRole('listitem').last()).toContainText('Bulk thread 0');
  await expect(more).toBeHidden();
});

test('the thread list follows the store: a new message moves its thread to the top; long names have a tooltip', async ({ demo: { page } }) => {
  const list = page.getByRole('list', { name: 'Threads' });
  await newThread(page);
  await say(page, 'Older chat', 1);
  await newThread(page);
  await say(page, 'Newer chat', 1);
  await expect(list.getByRole('listitem')).toHaveCount(2);
  await expect(list.locator('.thread-name')).toHaveText(['Newer chat', 'Older chat']);

  // Store timestamps are whole seconds: wait for the next one, so the order cannot be a tie.
  await page.waitForTimeout(1100);
  await list.getByRole('button', { name: /Older chat/ }).click();
  await expect(page.getByRole('heading', { name: 'Older chat' })).toBeVisible();
  await say(page, 'Bump this one', 2);
  await expect(list.locator('.thread-name')).toHaveText(['Older chat', 'Newer chat']);

  // A message written elsewhere (here: the console, as another tab would) reorders the list too.
  await page.waitForTimeout(1100);
  await page.evaluate(async () => {
    const store = window.stateStore!;
    const newer = (await store.listThreads()).find((t) => t.name === 'Newer chat')!;
    await store.addMessage(newer.id, { role: 'user', content: 'Written in another tab' });
  });
  await expect(list.locator('.thread-name')).toHaveText(['Newer chat', 'Older chat']);

  const long = 'A very long thread name that goes on and on about the migration plan, the rollout, the rollback and the retro';
  await rename(page, long);
  const item = list.getByRole('button', { name: /A very long thread name/ });
  await expect(item).toHaveAttribute('title', long);
  await expect(page.getByRole('heading', { name: long })).toHaveAttribute('title', long);
  // It fits the sidebar: two lines at most, cut with an ellipsis, never wider than the list.
  const fits = await item.locator('.thread-name').evaluate((el) => el.scrollWidth <= el.clientWidth + 1 && el.clientHeight < 3 * parseFloat(getComputedStyle(el).lineHeight));
  expect(fits).toBe(true);
  await shoot(page.getByRole('navigation', { name: 'Threads' }), 'threads-long');
});

test('export then import into a fresh store shows the same threads; a truncated file is refused with INVALID_ARGUMENT', async ({ demo: { page, store }, profile }) => {
  await newThread(page);
  await say(page, 'Remember this across the export', 1);
  await rename(page, 'Exported chat');
  const panel = page.getByRole('region', { name: 'Storage' });
  const [database] = await Promise.all([page.waitForEvent('download'), panel.getByRole('button', { name: 'Export database' }).click()]);
  expect(database.suggestedFilename()).toBe('agent-state.sqlite');
  const path = await database.path();
  const bytes = readFileSync(path);
  expect(bytes.subarray(0, 15).toString('latin1')).toBe('SQLite format 3');
  const [index] = await Promise.all([page.waitForEvent('download'), panel.getByRole('button', { name: 'Export session index' }).click()]);
  expect(index.suggestedFilename()).toBe('session_index.jsonl');
  expect(readFileSync(await index.path(), 'utf8')).toContain('"thread_name":"Exported chat"');

  const other = await openDemo(profile.context, `${store}-other`);
  const otherList = other.getByRole('list', { name: 'Threads' });
  await expect(otherList).toContainText('No active threads.');
  await importFile(other, path);
  const result = other.getByRole('region', { name: 'Storage' }).locator('.transfer-result');
  await expect(result).toHaveText(/^Imported 1 thread and 2 messages from schema version \d+/);
  // The bar followed the import's own progress reports to the end.
  await expect(other.getByRole('region', { name: 'Storage' }).getByText('Done · 100%')).toBeVisible();
  await expect(other.getByRole('progressbar', { name: 'Import progress' })).toHaveJSProperty('value', 1);
  await expect(otherList.getByRole('listitem')).toHaveCount(1);
  await expect(otherList).toContainText('Exported chat');
  await expect(other.getByRole('heading', { name: 'Exported chat' })).toBeVisible();
  await expect(messages(other)).toHaveCount(2);
  await expect(messages(other).nth(0)).toContainText('Remember this across the export');
  await shoot(other.getByRole('region', { name: 'Storage' }), 'storage');

  await importFile(other, { name: 'truncated.sqlite', mimeType: 'application/vnd.sqlite3', buffer: bytes.subarray(0, 5000) });
  await expect(result).toContainText('INVALID_ARGUMENT');
  await expect(result).toContainText('truncated');
  await expect(result).toContainText('Nothing was changed.');
  // The refused file changed nothing.
  await expect(otherList.getByRole('listitem')).toHaveCount(1);
  await expect(messages(other)).toHaveCount(2);
  await other.close();
});

test('two tabs on one store: what one tab writes appears in the other without a reload, tool cards while it streams', async ({ demo: { page, store }, profile }) => {
  await newThread(page);
  await say(page, 'Hello from the first tab', 1);
  const second = await openDemo(profile.context, store);
  try {
    await expect(messages(second)).toHaveCount(2);
    await expect(page.getByRole('region', { name: 'Storage' })).toContainText('leader: its worker owns the database file');
    await expect(second.getByRole('region', { name: 'Storage' })).toContainText('follower');

    // While the first tab's reply streams, the second shows it growing, with its tool call card.
    const composer = page.getByRole('textbox', { name: 'Message' });
    await composer.fill('Please search the docs and explain the tabs in detail');
    await composer.press('Enter');
    const elsewhere = second.locator('.message.streaming-elsewhere');
    await expect(elsewhere).toBeVisible();
    await expect(elsewhere.locator('details.tool-card')).toContainText('Tool call: search_docs');
    await expect(elsewhere).toContainText('Being written in another tab');
    await expect(elsewhere.locator('.content')).toContainText('You asked');
    await expect(page.locator('.message.streaming')).toBeVisible();
    await shoot(second.getByRole('main'), 'streaming-elsewhere');
    await waitForReplies(page, 2);
    await expect(messages(second)).toHaveCount(4);
    await expect(messages(second).nth(2)).toContainText('Please search the docs and explain the tabs in detail');
    await expect(messages(second).last()).toHaveAttribute('data-status', 'complete');
    await expect(messages(second).last().locator('details.tool-card')).toContainText('search_docs');

    // And the other way round: a thread and a message created in the second tab reach the first.
    await newThread(second);
    await say(second, 'Written in the second tab', 1);
    await expect(page.getByRole('list', { name: 'Threads' }).getByRole('listitem')).toHaveCount(2);
    await expect(page.getByRole('list', { name: 'Threads' }).locator('.thread-name').first()).toHaveText('Written in the second tab');

    // The leader closes: the second tab takes the lead, and its storage panel says so unasked.
    await page.close();
    await expect(second.getByRole('region', { name: 'Storage' })).toContainText('leader: its worker owns the database file', { timeout: 15_000 });
  } finally {
    await second.close();
  }
});

test('an import in another tab while a reply streams: the reply stops with one REPLACED error, not one per delta', async ({ demo: { page, store }, profile }) => {
  await newThread(page);
  await say(page, 'Keep this one', 1);
  const image = await page.evaluate(async () => Array.from(await window.stateStore!.exportDatabase()));
  const second = await openDemo(profile.context, store);
  try {
    await expect(messages(second)).toHaveCount(2);
    const composer = page.getByRole('textbox', { name: 'Message' });
    await composer.fill('Tell me a long story');
    await composer.press('Enter');
    await expect(page.locator('.message.streaming')).toBeVisible();
    await expect(second.locator('.message.streaming-elsewhere .content')).not.toBeEmpty();

    await importFile(second, { name: 'before.sqlite', mimeType: 'application/vnd.sqlite3', buffer: Buffer.from(image) });
    await expect(second.getByRole('region', { name: 'Storage' }).locator('.transfer-result')).toHaveText(/^Imported 1 thread and 2 messages/);

    const alerts = page.getByRole('alert');
    await expect(alerts).toHaveCount(1);
    await expect(alerts).toContainText('REPLACED');
    await expect(alerts).toContainText('The reply stopped: a database was imported');
    await expect(page.locator('.message.streaming')).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Send', exact: true })).toBeEnabled();
    // The writer stopped at the first failure: no more deltas, so no more errors while the reply would have gone on.
    await page.waitForTimeout(1500);
    await expect(alerts).toHaveCount(1);
    // Both tabs show the imported conversation.
    await expect(messages(page)).toHaveCount(2);
    await expect(messages(second)).toHaveCount(2);
    await expect(messages(page).nth(0)).toContainText('Keep this one');
    await shoot(page, 'replaced', { showToasts: true });
  } finally {
    await second.close();
  }
});
