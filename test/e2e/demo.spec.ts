import { rmSync } from 'node:fs';
import { launchProfile, newProfileDir } from './fixtures.js';
import { actionsOpacity, expect, messages, newThread, openDemo, say, shoot, test, waitForNewReply, waitForReplies } from './demo-helpers.js';

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
  // The agent writes Markdown: bold, inline code and a numbered list are rendered as such.
  await expect(reply.locator('.content strong').first()).toBeVisible();
  await expect(reply.locator('.content ol > li')).toHaveCount(3);
  await expect(reply.locator('.content code').first()).toHaveText('search_docs');
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
  expect(stored.roles).toEqual(['user', 'assistant']);
  expect(stored.content).toContain('**');
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

test('edit and resend forks the conversation, the switcher moves between the branches, and regenerate counts ‹ n/m ›', async ({ demo: { page } }) => {
  await newThread(page);
  await say(page, 'What does the store keep?', 1);
  await say(page, 'And where does it keep it?', 2);

  const second = messages(page).nth(2);
  await second.getByRole('button', { name: 'Edit and resend' }).click();
  const edit = second.getByRole('textbox', { name: 'Edit message' });
  await expect(edit).toBeFocused();
  await edit.fill('Where exactly, which VFS?');
  await second.getByRole('button', { name: 'Send edit' }).click();
  await waitForNewReply(page, 2);

  await expect(messages(page)).toHaveCount(4);
  const edited = messages(page).nth(2);
  await expect(edited).toContainText('Where exactly, which VFS?');
  await expect(edited.getByRole('group', { name: 'Branch 2 of 2' })).toHaveText('‹2/2›');
  await shoot(page.getByRole('main'), 'conversation');

  await edited.getByRole('button', { name: 'Previous branch' }).click();
  await expect(messages(page).nth(2)).toContainText('And where does it keep it?');
  await expect(messages(page).nth(2).getByRole('group', { name: 'Branch 1 of 2' })).toBeVisible();
  await expect(messages(page).nth(3)).toContainText('You asked: “And where does it keep it?”');
  // Focus stays on the switcher, so a keyboard user can keep flipping.
  await expect(page.getByRole('button', { name: 'Next branch' })).toBeFocused();

  const leaf = await page.evaluate(async () => {
    const store = window.stateStore!;
    const threadId = (await store.listThreads())[0]!.id;
    return { leaf: (await store.getThread(threadId))!.currentLeafId, leaves: (await store.listLeafMessages(threadId)).map((m) => m.id) };
  });
  expect(leaf.leaves).toHaveLength(2);
  expect(leaf.leaf).toBe(leaf.leaves[0]);

  // Regenerating an answer adds a sibling to it: ‹ 2/2 ›, then ‹ 3/3 ›, each the newest.
  await messages(page).nth(3).getByRole('button', { name: 'Regenerate' }).click();
  await waitForNewReply(page, 2);
  await expect(messages(page).nth(3).getByRole('group', { name: 'Branch 2 of 2' })).toHaveText('‹2/2›');
  await messages(page).nth(3).getByRole('button', { name: 'Regenerate' }).click();
  await waitForNewReply(page, 2);
  await expect(messages(page).nth(3).getByRole('group', { name: 'Branch 3 of 3' })).toHaveText('‹3/3›');
  // The question keeps its own switcher, untouched by the answers' siblings.
  await expect(messages(page).nth(2).getByRole('group', { name: 'Branch 1 of 2' })).toBeVisible();
  const siblings = await page.evaluate(async () => {
    const store = window.stateStore!;
    const branch = await store.getBranch((await store.listThreads())[0]!.id);
    return branch.at(-1)!.siblings;
  });
  expect(siblings.index).toBe(2);
  expect(siblings.count).toBe(3);
  await messages(page).nth(3).getByRole('button', { name: 'Previous branch' }).click();
  await expect(messages(page).nth(3).getByRole('group', { name: 'Branch 2 of 3' })).toBeVisible();
});

test('message actions show on hover and on keyboard focus; Copy puts the text on the clipboard', async ({ demo: { page } }) => {
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await newThread(page);
  await say(page, 'First question', 1);
  await say(page, 'Second question', 2);
  const first = messages(page).nth(0);
  const reply = messages(page).nth(1);

  await page.mouse.move(0, 0);
  await expect.poll(() => actionsOpacity(first)).toBe(0);
  await expect.poll(() => actionsOpacity(reply)).toBe(0);
  // The newest message keeps its actions in view, as chat apps do.
  await expect.poll(() => actionsOpacity(messages(page).last())).toBe(1);

  await reply.hover();
  await expect.poll(() => actionsOpacity(reply)).toBe(1);
  await expect(reply.getByRole('button', { name: 'Regenerate' })).toBeVisible();
  await page.mouse.move(0, 0);
  await expect.poll(() => actionsOpacity(reply)).toBe(0);

  // From the keyboard: Tab onto the question's actions and they show, with a visible focus ring.
  await first.getByRole('button', { name: 'Copy' }).focus();
  await page.keyboard.press('Tab');
  const editButton = first.getByRole('button', { name: 'Edit and resend' });
  await expect(editButton).toBeFocused();
  expect(await editButton.evaluate((el) => el.matches(':focus-visible'))).toBe(true);
  await expect.poll(() => actionsOpacity(first)).toBe(1);

  await first.getByRole('button', { name: 'Copy' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Copied to the clipboard.' })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('First question');
});

test('after a reload every panel shows the same data, and the branch that was selected is still selected', async ({ demo: { page, reload } }) => {
  await newThread(page);
  const goal = page.getByRole('region', { name: 'Goal' });
  await goal.getByRole('textbox', { name: 'Objective' }).fill('Survive a reload');
  await goal.getByRole('button', { name: 'Set goal' }).click();
  await expect(goal.getByText('Survive a reload')).toBeVisible();
  await say(page, 'First question', 1);
  // Editing the very first message starts a second root (addMessage with parentId null).
  await messages(page).nth(0).getByRole('button', { name: 'Edit and resend' }).click();
  await page.getByRole('textbox', { name: 'Edit message' }).fill('First question, rephrased');
  await page.getByRole('button', { name: 'Send edit' }).click();
  await waitForNewReply(page, 1);
  await expect(messages(page).nth(0).getByRole('group', { name: 'Branch 2 of 2' })).toBeVisible();
  const roots = await page.evaluate(async () => {
    const store = window.stateStore!;
    return (await store.listThreadMessages((await store.listThreads())[0]!.id)).filter((m) => m.parentEntryId === null).length;
  });
  expect(roots).toBe(2);
  await messages(page).nth(0).getByRole('button', { name: 'Previous branch' }).click();
  await expect(messages(page).nth(0)).toContainText('First question');

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
  await messages(page).nth(1).locator('summary').click();
  await page.locator('.side').evaluate((side) => side.scrollTo(0, 0));
  await shoot(page, 'overview');

  await reload();

  await expect(page.getByRole('heading', { name: 'Reload check' })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Threads' }).getByText('Reload check')).toBeVisible();
  await expect(messages(page)).toHaveCount(2);
  await expect(messages(page).nth(0)).toContainText('First question');
  await expect(messages(page).nth(0)).not.toContainText('rephrased');
  await expect(messages(page).nth(0).getByRole('group', { name: 'Branch 1 of 2' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Goal' }).getByText('Survive a reload')).toBeVisible();
  await expect(page.getByRole('region', { name: 'Checkpoints' }).getByText('before reload')).toBeVisible();
  await expect(page.getByRole('region', { name: 'Memory' }).getByLabel('Memory mode')).toHaveValue('remote');
  await expect(page.getByRole('region', { name: 'Dynamic tools' }).getByRole('textbox', { name: 'Tools (JSON)' })).toHaveValue(/search_docs/);
  await expect(page.getByRole('region', { name: 'Jobs' }).getByRole('listitem').filter({ hasText: 'Reload job' })).toContainText('completed');
  await messages(page).nth(0).getByRole('button', { name: 'Next branch' }).click();
  await expect(messages(page).nth(0)).toContainText('First question, rephrased');
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
    await expect.poll(readPartial).toContain('You asked');
    const partial = await readPartial();
    await context.close();

    context = await launchProfile(dir);
    page = await openDemo(context, 'interrupted');
    await expect(messages(page)).toHaveCount(2);
    const reply = messages(page).last();
    await expect(reply.locator('.message-status')).toHaveText('interrupted');
    await expect(reply).toContainText('Interrupted: the app closed while this reply streamed');
    // Everything stored before the plug was pulled is there (a later delta may have added more), and shown.
    const kept = await page.evaluate(async () => {
      const store = window.stateStore!;
      return (await store.getBranch((await store.listThreads())[0]!.id)).at(-1)!;
    });
    expect(kept.content.slice(0, partial.length)).toBe(partial);
    expect(kept.status).toBe('interrupted');
    await expect(reply.locator('.content')).toContainText('You asked');
    // An interrupted reply can be answered again: regenerate forks a fresh one beside it.
    await reply.getByRole('button', { name: 'Regenerate' }).click();
    await waitForNewReply(page, 1);
    await expect(messages(page).last().getByRole('group', { name: 'Branch 2 of 2' })).toBeVisible();
    await expect(messages(page).last().locator('.message-status')).toHaveCount(0);
    await messages(page).last().getByRole('button', { name: 'Previous branch' }).click();
    await expect(messages(page).last().locator('.message-status')).toHaveText('interrupted');
    await context.close();
  } finally {
    // Chromium may still be writing its profile for a moment after the close.
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  }
});

test('markup in a message never runs: what people type stays text, the agent’s Markdown renders without HTML or unsafe links', async ({ demo: { page, reload } }) => {
  await newThread(page);
  const attack = '<img src=x onerror="window.__xss=1"> and <script>window.__xss=2</script> <b>bold?</b>';
  await say(page, attack, 1);
  await expect(messages(page).nth(0).locator('.content')).toHaveText(attack);
  // The agent quotes the message back in Markdown: the tags stay text there too.
  await expect(messages(page).nth(1)).toContainText('<img src=x onerror=');
  await expect(page.locator('.messages img, .messages script, .messages b')).toHaveCount(0);

  // A reply with Markdown and hostile HTML, written from the console (another tab, say): it arrives
  // live, its Markdown is rendered, its HTML is shown as text, and only its https link is a link.
  const hostile = [
    '## Findings',
    '**Bold** and *italic*, `code`, a [safe link](https://example.com/docs) and a [bad link](javascript:window.__xss=3).',
    '<a href="javascript:window.__xss=4">raw link</a> <img src=x onerror="window.__xss=5"> <iframe src="https://example.com"></iframe>',
    '![tracker](https://example.com/pixel.png) [data](data:text/html,<script>window.__xss=6</script>)',
    '```html\n<script>window.__xss=7</script>\n```',
  ].join('\n\n');
  await page.evaluate(async (content) => {
    const store = window.stateStore!;
    await store.addMessage((await store.listThreads())[0]!.id, { role: 'assistant', content });
  }, hostile);
  const reply = messages(page).nth(2);
  await expect(reply.locator('.content h2')).toHaveText('Findings');
  await expect(reply.locator('.content strong')).toHaveText('Bold');
  await expect(reply.locator('.content em')).toHaveText('italic');
  await expect(reply.locator('.content pre code')).toHaveText('<script>window.__xss=7</script>');
  // Links are http(s) only (bare addresses are linked too), open in a new tab, and get no opener.
  const safe = reply.getByRole('link', { name: 'safe link' });
  await expect(safe).toHaveAttribute('href', 'https://example.com/docs');
  const links = await reply.locator('.content a').evaluateAll((all) => all.map((a) => [a.getAttribute('href'), a.getAttribute('target'), a.getAttribute('rel')]));
  for (const [href, target, rel] of links) {
    expect(href).toMatch(/^https:\/\//);
    expect(target).toBe('_blank');
    expect(rel).toContain('noopener');
  }
  await expect(reply).toContainText('[bad link](javascript:window.__xss=3)');
  await expect(reply).toContainText('<a href="javascript:window.__xss=4">raw link</a>');
  // An image is never loaded: its Markdown leaves a plain link to it.
  await expect(reply.getByRole('link', { name: 'tracker' })).toHaveAttribute('href', 'https://example.com/pixel.png');
  await expect(page.locator('.messages img, .messages script, .messages iframe, .messages b, .messages a[href^="javascript"], .messages a[href^="data"]')).toHaveCount(0);
  await shoot(reply, 'markdown');

  await messages(page).nth(0).getByRole('button', { name: 'Edit and resend' }).click();
  await expect(page.getByRole('textbox', { name: 'Edit message' })).toHaveValue(attack);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('region', { name: 'Checkpoints' }).getByRole('button', { name: 'Save checkpoint' }).click();
  await page.getByRole('region', { name: 'Checkpoints' }).locator('summary').click();
  await expect(page.getByRole('list', { name: 'Messages saved in Checkpoint 1' })).toContainText('<script>window.__xss=2</script>');

  expect(await page.evaluate(() => (window as { __xss?: unknown }).__xss)).toBeUndefined();

  // Rendering from the database after a reload is no different.
  await reload();
  await expect(messages(page).nth(0).locator('.content')).toHaveText(attack);
  await expect(messages(page).nth(2).getByRole('link', { name: 'safe link' })).toBeVisible();
  await expect(page.locator('.messages img, .messages script, .messages iframe, .messages b, .messages a[href^="javascript"]')).toHaveCount(0);
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

test('at 375 px the threads are in a drawer, the composer is always in view, and nothing scrolls sideways', async ({ profile }) => {
  const page = await openDemo(profile.context, `narrow-${Date.now()}`, { width: 375, height: 740 });
  const composer = page.getByRole('textbox', { name: 'Message' });
  const threadsToggle = page.getByRole('button', { name: 'Threads', exact: true });
  const sidebar = page.getByRole('navigation', { name: 'Threads' });
  // The thread list starts closed, out of the way (and out of the Tab order).
  await expect(sidebar).toBeHidden();
  await expect(threadsToggle).toHaveAttribute('aria-expanded', 'false');
  await newThread(page);
  // Picking (or creating) a chat closes the drawer.
  await expect(sidebar).toBeHidden();
  await expect(composer).toBeInViewport();
  await say(page, 'Please explain the tabs in detail', 1);
  await say(page, 'Hello from a phone', 2);
  await expect(composer).toBeInViewport();
  await expect(page.getByRole('button', { name: 'Send', exact: true })).toBeInViewport();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  await shoot(page, 'mobile');

  const within = async (name: string) => {
    const button = page.getByRole('button', { name, exact: true });
    await button.scrollIntoViewIfNeeded();
    await expect(button, name).toBeInViewport();
    const box = (await button.boundingBox())!;
    expect(box.x, name).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width, name).toBeLessThanOrEqual(375);
  };
  for (const name of ['Send', 'Rename', 'Archive', 'Delete', 'Details']) await within(name);

  await threadsToggle.click();
  await expect(sidebar).toBeVisible();
  await expect(threadsToggle).toHaveAttribute('aria-expanded', 'true');
  await expect(page.getByRole('button', { name: 'New chat' })).toBeFocused();
  await within('New chat');
  await expect(sidebar.getByRole('list', { name: 'Threads' }).getByRole('listitem')).toHaveCount(1);
  await shoot(page, 'mobile-threads');
  await page.keyboard.press('Escape');
  await expect(sidebar).toBeHidden();
  await expect(threadsToggle).toBeFocused();

  await page.getByRole('button', { name: 'Details', exact: true }).click();
  const details = page.getByRole('complementary', { name: 'Thread details and storage' });
  await expect(details).toBeVisible();
  for (const name of ['Save checkpoint', 'Save tools', 'Set goal', 'Start job', 'Request persistence', 'Export database', 'Import…']) await within(name);
  await details.evaluate((side) => side.scrollTo(0, 0));
  await shoot(page, 'mobile-details');
  await page.getByRole('button', { name: 'Close details' }).click();
  await expect(details).toBeHidden();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  await page.close();
});

test('keyboard only: Tab reaches the composer, Enter sends, and focus is always visible', async ({ demo: { page } }) => {
  await page.getByRole('button', { name: 'New chat' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('textbox', { name: 'Message' })).toBeFocused();

  // From the top of the page, Tab until the composer has focus, checking every stop shows focus.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  let reached = false;
  for (let i = 0; i < 80 && !reached; i++) {
    await page.keyboard.press('Tab');
    const focus = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      // The message box draws its ring around the whole composer box, as chat apps do.
      const ringed = el.id === 'composer-input' ? el.closest('.composer-box')! : el;
      return { id: el.id, what: `${el.tagName} ${el.className} ${el.textContent?.slice(0, 30)}`, outline: getComputedStyle(ringed).outlineStyle, visible: el.matches(':focus-visible') };
    });
    // Past the last control focus goes to the browser's own UI (the body here), then wraps around.
    if (!focus.what.startsWith('BODY')) expect(focus.visible && focus.outline !== 'none', `focus at stop ${i} (${focus.what}) is visible`).toBe(true);
    reached = focus.id === 'composer-input';
  }
  expect(reached).toBe(true);
  await page.keyboard.type('Typed without a mouse');
  await page.keyboard.press('Enter');
  await waitForReplies(page, 1);
  await expect(messages(page).nth(0)).toContainText('Typed without a mouse');

  // Shift+Enter is a new line, not a send.
  await page.getByRole('textbox', { name: 'Message' }).focus();
  await page.keyboard.type('line one');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('line two');
  await expect(page.getByRole('textbox', { name: 'Message' })).toHaveValue('line one\nline two');
  await expect(messages(page)).toHaveCount(2);
});

test('the skip link jumps straight to the message box', async ({ demo: { page, reload } }) => {
  await newThread(page);
  await reload();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to the message box' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('textbox', { name: 'Message' })).toBeFocused();
});
