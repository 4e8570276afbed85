import { rmSync } from 'node:fs';
import { launchProfile, newProfileDir } from './fixtures.js';
import { expect, messages, newThread, openDemo, say, shoot, test, waitForNewReply, waitForReplies } from './demo-helpers.js';

test('a message gets a streamed reply with a tool call card, streamed into the store and ending complete', async ({ demo: { page } }) => {
  await newThread(page);
  const before = await page.evaluate(() => window.stateStore!.info().then((i) => i.commits ?? 0));
  const composer = page.getByRole('textbox', { name: 'Message' });
  await composer.fill('Please search the docs for the streaming API');
  await composer.press('Enter');

  // The reply is on screen while it streams.
  await expect(page.locator('.message.streaming')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Stop' })).toBeVisible();
  await waitForReplies(page, 1);

  const reply = messages(page).last();
  await expect(reply).toContainText('You asked: “Please search the docs for the streaming API”');
  const card = reply.locator('details.tool-card');
  await expect(card).toContainText('Tool call: search_docs');
  await expect(card.getByText('Output')).toBeHidden();
  await card.locator('summary').click();
  await expect(card.getByText(/"query": "Please search the docs/)).toBeVisible();

  const stored = await page.evaluate(async () => {
    const store = window.stateStore!;
    const threadId = (await store.listThreads())[0]!.id;
    const branch = await store.listMessages(threadId);
    return {
      roles: branch.map((m) => m.role),
      item: branch.at(-1)!.item as { toolCalls: { name: string }[] },
      content: branch.at(-1)!.content,
      commits: (await store.info()).commits ?? 0,
      messageStatus: await store.getMessageStatus(branch.at(-1)!.id),
      checkpoints: (await store.listCheckpoints(threadId)).length,
      status: (await store.getThread(threadId))!.status,
    };
  });
  expect(stored.roles).toEqual(['system', 'user', 'assistant']);
  expect(stored.item.toolCalls.map((c) => c.name)).toEqual(['search_docs']);
  expect(stored.messageStatus).toBe('complete');
  // No status badge on a complete reply, and no draft checkpoint on the side any more.
  await expect(reply.locator('.message-status')).toHaveCount(0);
  expect(stored.checkpoints).toBe(0);
  expect(stored.status).toBe('idle');
  // Each store call is one worker transaction; a write per streamed token alone would exceed this.
  const tokens = stored.content.split(/\s+/).length;
  expect(stored.commits - before).toBeLessThan(tokens);
});

test('edit and resend forks the conversation, and the switcher moves between the branches', async ({ demo: { page } }) => {
  await newThread(page);
  await say(page, 'What does the store keep?', 1);
  await say(page, 'And where does it keep it?', 2);

  const second = messages(page).nth(3);
  await second.getByRole('button', { name: 'Edit and resend' }).click();
  const edit = second.getByRole('textbox', { name: 'Edit message' });
  await expect(edit).toBeFocused();
  await edit.fill('Where exactly, which VFS?');
  await second.getByRole('button', { name: 'Send edit' }).click();
  await waitForNewReply(page, 2);

  await expect(messages(page)).toHaveCount(5);
  const edited = messages(page).nth(3);
  await expect(edited).toContainText('Where exactly, which VFS?');
  await expect(edited.getByRole('group', { name: 'Branch 2 of 2' })).toBeVisible();
  await shoot(page.getByRole('main'), 'conversation');

  await edited.getByRole('button', { name: 'Previous branch' }).click();
  await expect(messages(page).nth(3)).toContainText('And where does it keep it?');
  await expect(messages(page).nth(3).getByRole('group', { name: 'Branch 1 of 2' })).toBeVisible();
  await expect(messages(page).nth(4)).toContainText('You asked: “And where does it keep it?”');
  // Focus stays on the switcher, so a keyboard user can keep flipping.
  await expect(page.getByRole('button', { name: 'Next branch' })).toBeFocused();

  const leaf = await page.evaluate(async () => {
    const store = window.stateStore!;
    const threadId = (await store.listThreads())[0]!.id;
    return { leaf: (await store.getThread(threadId))!.currentLeafId, leaves: (await store.listLeafMessages(threadId)).map((m) => m.id) };
  });
  expect(leaf.leaves).toHaveLength(2);
  expect(leaf.leaf).toBe(leaf.leaves[0]);

  // Regenerating an answer is a fork too: a third answer to the same question.
  await messages(page).nth(4).getByRole('button', { name: 'Regenerate' }).click();
  await waitForNewReply(page, 2);
  await expect(messages(page).nth(4).getByRole('group', { name: 'Branch 2 of 2' })).toBeVisible();
});

test('after a reload every panel shows the same data, and the branch that was selected is still selected', async ({ demo: { page, reload } }) => {
  await newThread(page);
  const goal = page.getByRole('region', { name: 'Goal' });
  await goal.getByRole('textbox', { name: 'Objective' }).fill('Survive a reload');
  await goal.getByRole('button', { name: 'Set goal' }).click();
  await expect(goal.getByText('Survive a reload')).toBeVisible();
  await say(page, 'First question', 1);
  await messages(page).nth(1).getByRole('button', { name: 'Edit and resend' }).click();
  await page.getByRole('textbox', { name: 'Edit message' }).fill('First question, rephrased');
  await page.getByRole('button', { name: 'Send edit' }).click();
  await waitForNewReply(page, 1);
  await messages(page).nth(1).getByRole('button', { name: 'Previous branch' }).click();
  await expect(messages(page).nth(1)).toContainText('First question');

  await page.getByRole('button', { name: 'Rename' }).click();
  await page.getByRole('dialog', { name: 'Rename thread' }).getByRole('textbox', { name: 'Thread name' }).fill('Reload check');
  await page.getByRole('dialog', { name: 'Rename thread' }).getByRole('button', { name: 'Rename' }).click();
  const checkpoints = page.getByRole('region', { name: 'Checkpoints' });
  await checkpoints.getByRole('textbox', { name: 'Checkpoint name' }).fill('before reload');
  await checkpoints.getByRole('button', { name: 'Save checkpoint' }).click();
  await expect(checkpoints.getByText('before reload')).toBeVisible();
  await page.getByRole('region', { name: 'Memory' }).getByLabel('Memory mode').selectOption('remote');
  await expect(page.getByRole('region', { name: 'Memory' }).getByText('Stored memory mode: “remote”.')).toBeVisible();
  const jobs = page.getByRole('region', { name: 'Jobs' });
  await jobs.getByRole('textbox', { name: 'Job name' }).fill('Reload job');
  await jobs.getByRole('button', { name: 'Start job' }).click();
  await expect(jobs.getByRole('listitem').filter({ hasText: 'Reload job' }).getByText('completed')).toBeVisible({ timeout: 20_000 });
  await messages(page).nth(2).locator('summary').click();
  await page.locator('.side').evaluate((side) => side.scrollTo(0, 0));
  await shoot(page, 'overview');

  await reload();

  await expect(page.getByRole('heading', { name: 'Reload check' })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Threads' }).getByText('Reload check')).toBeVisible();
  await expect(messages(page)).toHaveCount(3);
  await expect(messages(page).nth(1)).toContainText('First question');
  await expect(messages(page).nth(1)).not.toContainText('rephrased');
  await expect(messages(page).nth(1).getByRole('group', { name: 'Branch 1 of 2' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Goal' }).getByText('Survive a reload')).toBeVisible();
  await expect(page.getByRole('region', { name: 'Checkpoints' }).getByText('before reload')).toBeVisible();
  await expect(page.getByRole('region', { name: 'Memory' }).getByLabel('Memory mode')).toHaveValue('remote');
  await expect(page.getByRole('region', { name: 'Dynamic tools' }).getByRole('textbox', { name: 'Tools (JSON)' })).toHaveValue(/search_docs/);
  await expect(page.getByRole('region', { name: 'Jobs' }).getByRole('listitem').filter({ hasText: 'Reload job' })).toContainText('completed');
  // Learning the side branch after the reload moved the leaf for a moment; it must be back.
  await expect(messages(page).nth(1).getByRole('group', { name: 'Branch 1 of 2' })).toBeVisible();
  await messages(page).nth(1).getByRole('button', { name: 'Next branch' }).click();
  await expect(messages(page).nth(1)).toContainText('First question, rephrased');
});

test('a reply cut off by closing the browser is marked interrupted and keeps its partial text', async () => {
  const dir = newProfileDir();
  try {
    let context = await launchProfile(dir);
    let page = await openDemo(context, 'interrupted');
    await newThread(page);
    const composer = page.getByRole('textbox', { name: 'Message' });
    await composer.fill('Tell me a long story');
    await composer.press('Enter');
    // Wait until some streamed text is in the store (the page sends a delta every 250 ms), then pull the plug.
    const readPartial = () =>
      page.evaluate(async () => {
        const store = window.stateStore!;
        const [thread] = await store.listThreads();
        const last = (await store.listMessages(thread!.id)).at(-1);
        // Stored as it streams: a message with status "streaming" that grows.
        return last?.role === 'assistant' && (await store.getMessageStatus(last.id)) === 'streaming' ? last.content : '';
      });
    await expect.poll(readPartial).not.toBe('');
    const partial = await readPartial();
    await context.close();

    context = await launchProfile(dir);
    page = await openDemo(context, 'interrupted');
    await expect(messages(page)).toHaveCount(3);
    const reply = messages(page).last();
    await expect(reply.locator('.message-status')).toHaveText('interrupted');
    await expect(reply).toContainText('Interrupted: the app closed while this reply streamed');
    // Everything stored before the plug was pulled is there (a later delta may have added more).
    const kept = (await reply.locator('.content').textContent()) ?? '';
    expect(kept.slice(0, partial.length)).toBe(partial);
    const status = await page.evaluate(async () => {
      const store = window.stateStore!;
      const last = (await store.listMessages((await store.listThreads())[0]!.id)).at(-1)!;
      return store.getMessageStatus(last.id);
    });
    expect(status).toBe('interrupted');
    // An interrupted reply can be answered again: regenerate forks a fresh one beside it.
    await reply.getByRole('button', { name: 'Regenerate' }).click();
    await waitForNewReply(page, 1);
    await expect(messages(page).last().getByRole('group', { name: 'Branch 2 of 2' })).toBeVisible();
    await expect(messages(page).last().locator('.message-status')).toHaveCount(0);
    await context.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('message content is shown as text: markup in a message never runs', async ({ demo: { page, reload } }) => {
  await newThread(page);
  const attack = '<img src=x onerror="window.__xss=1"> and <script>window.__xss=2</script> <b>bold?</b>';
  await say(page, attack, 1);
  await expect(messages(page).nth(1).locator('.content')).toHaveText(attack);
  // The agent quotes the message back: that must be text too.
  await expect(messages(page).nth(2)).toContainText('<img src=x onerror=');
  await expect(page.locator('.messages img, .messages script, .messages b')).toHaveCount(0);

  await messages(page).nth(1).getByRole('button', { name: 'Edit and resend' }).click();
  await expect(page.getByRole('textbox', { name: 'Edit message' })).toHaveValue(attack);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('region', { name: 'Checkpoints' }).getByRole('button', { name: 'Save checkpoint' }).click();
  await page.getByRole('region', { name: 'Checkpoints' }).locator('summary').click();
  await expect(page.getByRole('list', { name: 'Messages saved in Checkpoint 1' })).toContainText('<script>window.__xss=2</script>');

  expect(await page.evaluate(() => (window as { __xss?: unknown }).__xss)).toBeUndefined();

  // Rendering from the database after a reload is no different.
  await reload();
  await expect(messages(page).nth(1).locator('.content')).toHaveText(attack);
  await expect(page.locator('.messages img, .messages script, .messages b')).toHaveCount(0);
  expect(await page.evaluate(() => (window as { __xss?: unknown }).__xss)).toBeUndefined();
});

test('a store error is shown as a readable message with its code', async ({ demo: { page } }) => {
  await newThread(page);
  // Another tab (here: the console) deletes the thread under the UI, and the user sends before the
  // live update (100 ms later) has moved the view off it: the send must explain itself. Both happen
  // in one task, so the live update cannot come first.
  const composer = await page.getByRole('textbox', { name: 'Message' }).elementHandle();
  const send = await page.getByRole('button', { name: 'Send', exact: true }).elementHandle();
  await page.evaluate(
    async ([composer, send]) => {
      const store = window.stateStore!;
      await store.deleteThread((await store.listThreads())[0]!.id);
      (composer as HTMLTextAreaElement).value = 'Anyone there?';
      composer!.dispatchEvent(new Event('input', { bubbles: true }));
      (send as HTMLButtonElement).click();
    },
    [composer, send] as const,
  );
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('NOT_FOUND');
  await expect(alert).toContainText('not found');
  // What the user typed is not lost with the failed write.
  await expect(page.getByRole('textbox', { name: 'Message' })).toHaveValue('Anyone there?');
  await shoot(alert, 'error', { showToasts: true });
  await alert.getByRole('button', { name: 'Dismiss' }).click();
  await expect(page.getByRole('alert')).toHaveCount(0);
});

test('at 375 px wide the main actions are reachable and nothing scrolls sideways', async ({ profile }) => {
  const page = await openDemo(profile.context, `narrow-${Date.now()}`, { width: 375, height: 740 });
  await newThread(page);
  await say(page, 'Hello from a phone', 1);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(375);
  for (const name of ['New thread', 'Send', 'Rename', 'Archive', 'Delete', 'Save checkpoint', 'Save tools', 'Set goal', 'Start job', 'Request persistence', 'Export database', 'Import…']) {
    const button = page.getByRole('button', { name, exact: true });
    await button.scrollIntoViewIfNeeded();
    await expect(button, name).toBeInViewport();
    const box = (await button.boundingBox())!;
    expect(box.x, name).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width, name).toBeLessThanOrEqual(375);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  await shoot(page, 'mobile');
  await page.close();
});

test('keyboard only: Tab reaches the composer, Enter sends, and focus is always visible', async ({ demo: { page } }) => {
  await page.getByRole('button', { name: 'New thread' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('textbox', { name: 'Message' })).toBeFocused();

  // From the top of the page, Tab until the composer has focus, checking every stop shows focus.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  let reached = false;
  for (let i = 0; i < 80 && !reached; i++) {
    await page.keyboard.press('Tab');
    const focus = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      return { id: el.id, what: `${el.tagName} ${el.className} ${el.textContent?.slice(0, 30)}`, outline: getComputedStyle(el).outlineStyle, visible: el.matches(':focus-visible') };
    });
    // Past the last control focus goes to the browser's own UI (the body here), then wraps around.
    if (!focus.what.startsWith('BODY')) expect(focus.visible && focus.outline !== 'none', `focus at stop ${i} (${focus.what}) is visible`).toBe(true);
    reached = focus.id === 'composer-input';
  }
  expect(reached).toBe(true);
  await page.keyboard.type('Typed without a mouse');
  await page.keyboard.press('Enter');
  await waitForReplies(page, 1);
  await expect(messages(page).nth(1)).toContainText('Typed without a mouse');

  // Shift+Enter is a new line, not a send.
  await page.getByRole('textbox', { name: 'Message' }).focus();
  await page.keyboard.type('line one');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('line two');
  await expect(page.getByRole('textbox', { name: 'Message' })).toHaveValue('line one\nline two');
  await expect(messages(page)).toHaveCount(3);
});

test('the skip link jumps straight to the message box', async ({ demo: { page, reload } }) => {
  await newThread(page);
  await reload();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to the message box' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('textbox', { name: 'Message' })).toBeFocused();
});
