import type { Locator } from '@playwright/test';
import { expect, messages, newThread, say, shoot, test } from './demo-helpers.js';

/** The current value of a <meter> or <progress>. */
function valueOf(bar: Locator): Promise<number> {
  return bar.evaluate((el) => (el as HTMLMeterElement | HTMLProgressElement).value);
}

test('threads: rename through the session index, find by name, archive and unarchive, delete with confirmation', async ({ demo: { page } }) => {
  await newThread(page);
  await say(page, 'Plan the migration', 1);
  const sidebar = page.getByRole('navigation', { name: 'Threads' });
  const list = sidebar.getByRole('list', { name: 'Threads' });
  await expect(list.getByRole('button', { name: /Plan the migration/ })).toBeVisible();

  await page.getByRole('button', { name: 'Rename' }).click();
  const dialog = page.getByRole('dialog', { name: 'Rename thread' });
  await dialog.getByRole('textbox', { name: 'Thread name' }).fill('Schema migration');
  await dialog.getByRole('textbox', { name: 'Thread name' }).press('Enter');
  await expect(dialog).toBeHidden();
  await expect(list.getByRole('button', { name: /Schema migration/ })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Schema migration' })).toBeVisible();

  await newThread(page);
  await expect(list.getByRole('listitem')).toHaveCount(2);
  await sidebar.getByText('Find by name (session index)').click();
  await sidebar.getByRole('searchbox', { name: 'Find thread by name' }).fill('SCHEMA MIGRATION');
  await sidebar.getByRole('button', { name: 'Find' }).click();
  await expect(sidebar.getByRole('status')).toContainText('Found “Schema migration” at /rollouts/');
  await sidebar.getByRole('button', { name: 'Open' }).click();
  await expect(page.getByRole('heading', { name: 'Schema migration' })).toBeVisible();
  await sidebar.getByRole('searchbox', { name: 'Find thread by name' }).fill('no such thread');
  await sidebar.getByRole('button', { name: 'Find' }).click();
  await expect(sidebar.getByRole('status')).toHaveText('No thread is named “no such thread”.');

  await page.getByRole('button', { name: 'Archive', exact: true }).click();
  await expect(list.getByRole('listitem')).toHaveCount(1);
  await expect(page.locator('.thread-badges')).toContainText('archived');
  await sidebar.getByLabel('Show archived').check();
  await expect(list.getByRole('listitem')).toHaveCount(2);
  await expect(list.getByRole('button', { name: /Schema migration/ })).toContainText('archived');
  await sidebar.getByRole('searchbox', { name: 'Find thread by name' }).fill('schema migration');
  await sidebar.getByRole('button', { name: 'Find' }).click();
  await expect(sidebar.getByRole('status')).toContainText('Found “Schema migration”');
  await shoot(sidebar, 'threads');
  await page.getByRole('button', { name: 'Unarchive' }).click();
  await expect(list.getByRole('button', { name: /Schema migration/ })).not.toContainText('archived');
  await expect(list.getByRole('button', { name: /Schema migration/ })).toContainText('idle');

  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete thread?' });
  await expect(confirm).toContainText('“Schema migration” is deleted with its messages');
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(list.getByRole('listitem')).toHaveCount(2);
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await confirm.getByRole('button', { name: 'Delete' }).click();
  await expect(list.getByRole('listitem')).toHaveCount(1);
  await expect(list.getByRole('button', { name: /Schema migration/ })).toHaveCount(0);
  const gone = await page.evaluate(async () => (await window.stateStore!.listThreads({ includeArchived: true })).length);
  expect(gone).toBe(1);
});

test('checkpoints: save the branch, keep talking, restore it; the saved messages are shown', async ({ demo: { page } }) => {
  await newThread(page);
  await say(page, 'Step one', 1);
  const panel = page.getByRole('region', { name: 'Checkpoints' });
  await panel.getByRole('textbox', { name: 'Checkpoint name' }).fill('after step one');
  await panel.getByRole('button', { name: 'Save checkpoint' }).click();
  await say(page, 'Step two', 2);
  await expect(messages(page)).toHaveCount(4);

  const saved = panel.getByRole('listitem').filter({ hasText: 'after step one' });
  await expect(saved).toContainText('2 messages');
  await saved.locator('summary').click();
  await expect(panel.getByRole('list', { name: 'Messages saved in after step one' }).getByRole('listitem')).toHaveText(['You: Step one', /Agent: /]);
  await shoot(panel, 'checkpoints');
  await saved.getByRole('button', { name: 'Restore' }).click();
  await expect(messages(page)).toHaveCount(2);
  await expect(messages(page).last()).toContainText('You asked: “Step one”');

  // After the conversation is cleared, restoring writes the saved messages again.
  await page.getByRole('button', { name: 'Clear', exact: true }).click();
  await page.getByRole('dialog', { name: 'Clear conversation?' }).getByRole('button', { name: 'Clear' }).click();
  await expect(messages(page)).toHaveCount(0);
  await saved.getByRole('button', { name: 'Restore' }).click();
  await page.getByRole('dialog', { name: 'Restore by rewriting?' }).getByRole('button', { name: 'Replace conversation' }).click();
  await expect(messages(page)).toHaveCount(2);
  await expect(messages(page).nth(0)).toContainText('Step one');

  await saved.getByRole('button', { name: 'Delete' }).click();
  await expect(panel.getByText('No checkpoints yet.')).toBeVisible();
});

test('dynamic tools: the JSON is checked as you type, saved, and the agent calls the new tool', async ({ demo: { page, reload } }) => {
  await newThread(page);
  const panel = page.getByRole('region', { name: 'Dynamic tools' });
  const editor = panel.getByRole('textbox', { name: 'Tools (JSON)' });
  await expect(panel.getByRole('status')).toHaveText('✓ 2 valid tools: search_docs, run_tests');

  await editor.fill('[{ "name": "bad name", "inputSchema": { "type": "object", "properties": { "q": { "type": "text" } }, "required": ["x"] } }]');
  const feedback = panel.getByRole('status');
  await expect(feedback).toContainText('tools[0].name must be 1–64 letters');
  await expect(feedback).toContainText('tools[0].inputSchema.properties.q.type must be one of');
  await expect(feedback).toContainText('tools[0].inputSchema.required[0] names no property ("x")');
  await expect(editor).toHaveAttribute('aria-invalid', 'true');
  await expect(panel.getByRole('button', { name: 'Save tools' })).toBeDisabled();
  await shoot(panel, 'tools-invalid');
  await editor.fill('[{ "name": "open');
  await expect(feedback).toContainText('JSON');

  await editor.fill(JSON.stringify([{ name: 'weather_lookup', description: 'Current weather for a city.', inputSchema: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] } }], null, 2));
  await expect(feedback).toHaveText('✓ 1 valid tool: weather_lookup');
  await panel.getByRole('button', { name: 'Save tools' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved 1 tool.' })).toBeVisible();
  await shoot(panel, 'tools');

  await say(page, 'What is the weather in Lisbon?', 1);
  const card = messages(page).last().locator('details.tool-card');
  await expect(card).toContainText('Tool call: weather_lookup');
  await card.locator('summary').click();
  await expect(card).toContainText('"days": 3');

  await reload();
  await expect(page.getByRole('region', { name: 'Dynamic tools' }).getByRole('textbox', { name: 'Tools (JSON)' })).toHaveValue(/"weather_lookup"/);
  const stored = await page.evaluate(async () => {
    const store = window.stateStore!;
    return store.getDynamicTools((await store.listThreads())[0]!.id);
  });
  expect(stored).toEqual([{ position: 0, name: 'weather_lookup', description: 'Current weather for a city.', inputSchema: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] } }]);
});

test('goal: the budget meter moves as the agent spends tokens; continue, status and memory mode are stored', async ({ demo: { page } }) => {
  await newThread(page);
  const panel = page.getByRole('region', { name: 'Goal' });
  await panel.getByRole('textbox', { name: 'Objective' }).fill('Ship the demo');
  await panel.getByRole('spinbutton', { name: 'Token budget' }).fill('600');
  await panel.getByRole('button', { name: 'Set goal' }).click();
  const meter = panel.getByRole('meter', { name: 'Token budget used' });
  await expect(meter).toHaveJSProperty('value', 0);
  await expect(panel.getByTestId('goal-usage')).toHaveText('0 / 600 tokens (0%)');

  await say(page, 'Start working on it', 1);
  const used = await valueOf(meter);
  expect(used).toBeGreaterThan(0);
  await expect(messages(page).last()).toContainText('That moves us toward the goal: Ship the demo.');
  await shoot(panel, 'goal');

  await panel.getByRole('button', { name: 'Continue' }).click();
  await expect(panel.getByTestId('goal-continuations')).toHaveText('1');
  await expect(page.locator('.message.streaming')).toBeVisible();
  await expect(page.locator('.message.streaming')).toHaveCount(0, { timeout: 20_000 });
  await expect(messages(page)).toHaveCount(3);
  await expect.poll(() => valueOf(meter)).toBeGreaterThan(used);

  await panel.getByRole('combobox', { name: 'Goal status' }).selectOption('paused');
  await expect.poll(() => page.evaluate(async () => {
    const store = window.stateStore!;
    return (await store.getThreadGoal((await store.listThreads())[0]!.id))?.status;
  })).toBe('paused');

  const memory = page.getByRole('region', { name: 'Memory' });
  await memory.getByLabel('Memory mode').selectOption('local');
  await expect(memory.getByRole('status')).toHaveText('Stored memory mode: “local”.');
  await shoot(memory, 'memory');
  await memory.getByLabel('Memory mode').selectOption('');
  await expect(memory.getByRole('status')).toHaveText('No memory mode stored (null).');

  await panel.getByRole('button', { name: 'Remove goal' }).click();
  await expect(panel.getByText('No goal yet.')).toBeVisible();
});

test('the agent stops at budget_limited: the reply is cut off, the goal is marked, and the agent does not start again', async ({ demo: { page } }) => {
  await newThread(page);
  const panel = page.getByRole('region', { name: 'Goal' });
  await panel.getByRole('textbox', { name: 'Objective' }).fill('Tiny budget');
  await panel.getByRole('spinbutton', { name: 'Token budget' }).fill('20');
  await panel.getByRole('button', { name: 'Set goal' }).click();
  await say(page, 'Please explain the budget in detail', 1);
  await expect(panel.getByRole('combobox', { name: 'Goal status' })).toHaveValue('budget_limited');

  // The reply stopped where the budget ran out, long before its end, and says so.
  const reply = messages(page).last();
  await expect(reply).toHaveAttribute('data-status', 'cancelled');
  await expect(reply).toContainText('Stopped: the goal’s token budget ran out (budget limited).');
  await expect(reply).not.toContainText('Several tabs');
  const banner = page.locator('.agent-banner');
  await expect(banner).toContainText('The agent has stopped');
  await expect(banner).toContainText('“Tiny budget” used its token budget');
  await expect(page.locator('.thread-badges')).toHaveText('idle');
  await shoot(page.getByRole('main'), 'budget');

  // A new message is kept, but the agent checks its goal and does not answer.
  const composer = page.getByRole('textbox', { name: 'Message' });
  await composer.fill('Are you still there?');
  await composer.press('Enter');
  await expect(page.getByRole('status').filter({ hasText: 'The agent did not answer' })).toBeVisible();
  await expect(messages(page)).toHaveCount(3);
  await expect(page.locator('.message.streaming')).toHaveCount(0);

  // Set back to active, the agent goes on (and, still over budget, stops again at once).
  await panel.getByRole('combobox', { name: 'Goal status' }).selectOption('active');
  await expect(banner).toBeHidden();
  await panel.getByRole('button', { name: 'Continue' }).click();
  await expect(messages(page)).toHaveCount(4);
  await expect(panel.getByRole('combobox', { name: 'Goal status' })).toHaveValue('budget_limited');
  await expect(banner).toBeVisible();
});

test('jobs: progress bars advance to completion; a job can be cancelled or failed', async ({ demo: { page } }) => {
  const panel = page.getByRole('region', { name: 'Jobs' });
  const name = panel.getByRole('textbox', { name: 'Job name' });
  const start = panel.getByRole('button', { name: 'Start job' });
  await name.fill('Index workspace');
  await start.click();
  const first = panel.getByRole('listitem').filter({ hasText: 'Index workspace' });
  const bar = first.getByRole('progressbar', { name: 'Progress of Index workspace' });
  await expect.poll(() => valueOf(bar)).toBeGreaterThan(0);

  await name.fill('Build embeddings');
  await start.click();
  await name.fill('Flaky upload');
  await start.click();
  const cancelled = panel.getByRole('listitem').filter({ hasText: 'Build embeddings' });
  const failed = panel.getByRole('listitem').filter({ hasText: 'Flaky upload' });
  await cancelled.getByRole('button', { name: 'Cancel' }).click();
  await failed.getByRole('button', { name: 'Fail' }).click();
  await expect(cancelled).toContainText('cancelled');
  await expect(failed).toContainText('failed');
  await expect(failed).toContainText('simulated error');

  await expect(first).toContainText('completed', { timeout: 20_000 });
  await expect(bar).toHaveJSProperty('value', 100);
  await shoot(panel, 'jobs');
  const stored = await page.evaluate(async () => (await window.stateStore!.listJobs()).map((j) => [j.name, j.status]));
  expect(Object.fromEntries(stored)).toEqual({ 'Index workspace': 'completed', 'Build embeddings': 'cancelled', 'Flaky upload': 'failed' });

  await cancelled.getByRole('button', { name: 'Remove' }).click();
  await expect(panel.getByRole('listitem')).toHaveCount(2);
});

test('storage: info() facts and the persistence request are shown', async ({ demo: { page } }) => {
  const panel = page.getByRole('region', { name: 'Storage' });
  const facts = panel.getByRole('definition');
  await expect(panel).toContainText('opfs-sahpool');
  await expect(panel).toContainText('3.54.1');
  await expect(panel).toContainText('strict');
  await expect(panel).toContainText('0 skipped lines');
  expect(await facts.count()).toBeGreaterThanOrEqual(10);
  await panel.getByRole('button', { name: 'Request persistence' }).click();
  await expect(panel.getByRole('status')).toHaveText(/The browser (will keep this storage|declined for now)/);
  await newThread(page);
  await panel.getByRole('button', { name: 'Refresh' }).click();
  await expect(panel).toContainText('1 thread,');
  // A single tab leads: its worker owns the database file.
  await expect(panel).toContainText('leader: its worker owns the database file');
  await expect(panel.getByRole('button', { name: 'Export database' })).toBeVisible();
  await expect(panel.getByRole('button', { name: 'Import…' })).toBeVisible();
});
