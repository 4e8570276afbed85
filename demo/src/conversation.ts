import type { ThreadMetadata } from 'agent-state-store';
import { activeRun, budgetExhausted, replyTo } from './agent-run.js';
import type { App } from './app.js';
import { confirmDialog, promptDialog } from './dialog.js';
import { consume, h, replaceKeepingFocus } from './dom.js';
import { messageList, submitOnEnter } from './message-list.js';
import { statusBadge } from './threads-panel.js';
import { displayName } from './threads.js';

const number = new Intl.NumberFormat('en');

/**
 * The conversation: the thread's header and actions, the current branch (message-list.ts), a
 * banner when the goal has stopped the agent, and the composer, which stays at the bottom.
 * `toggles` are the buttons that open the drawers on narrow screens.
 */
export function conversationPanel(app: App, toggles: { threads: HTMLElement; details: HTMLElement }): HTMLElement {
  const title = h('h2', { id: 'conversation-heading', text: 'No chat selected' });
  const badges = h('span', { class: 'thread-badges' });
  const threadActions = h('div', { class: 'thread-actions' });
  const banner = h('p', { class: 'agent-banner', role: 'status', hidden: true });

  const input = h('textarea', { id: 'composer-input', name: 'message', rows: 1, placeholder: 'Message the agent…', 'aria-label': 'Message', disabled: true });
  const send = h('button', { type: 'submit', class: 'primary send', text: 'Send', disabled: true });
  const stop = h('button', { type: 'button', class: 'stop', text: 'Stop', hidden: true, onclick: () => app.selectedThreadId && activeRun(app.selectedThreadId)?.stop() });
  const composer = h(
    'form',
    { class: 'composer', onsubmit: (e: SubmitEvent) => (e.preventDefault(), void onSend()) },
    h('div', { class: 'composer-box' }, input, stop, send),
    h('p', { class: 'hint composer-hint', text: 'Enter sends · Shift+Enter adds a line' }),
  );
  input.addEventListener('keydown', submitOnEnter(composer));
  // The box grows with what is typed, up to a limit, like the chat apps people know.
  const fit = () => {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight + 2, 200)}px`;
  };
  input.addEventListener('input', fit);

  const messages = messageList(app, ({ threadId, busy }) => {
    input.disabled = !threadId;
    send.disabled = !threadId;
    send.hidden = busy;
    stop.hidden = !busy;
  });

  // A second Enter while the message is still being written would answer the same (not yet redrawn) branch.
  let sending = false;

  async function onSend(): Promise<void> {
    const id = app.selectedThreadId;
    if (!id || sending || activeRun(id) || !input.value.trim()) return;
    // The message answers what is on screen: the last message of the branch shown (none: a first message).
    const parentId = messages.branch().at(-1)?.id ?? null;
    sending = true;
    let sent;
    try {
      sent = await app.run(() => consume(input, (content) => app.store.addMessage(id, { role: 'user', content, parentId })));
    } finally {
      sending = false;
    }
    fit();
    // replyTo marks the thread busy before its first await, so no send slips in between.
    if (sent) await replyTo(app, id, { parentId: sent.id, prompt: sent.content });
  }

  function threadButtons(thread: ThreadMetadata): HTMLElement[] {
    const label = displayName(thread);
    return [
      h('button', {
        type: 'button',
        'data-key': 'rename',
        text: 'Rename',
        onclick: async () => {
          const next = await promptDialog({ title: 'Rename thread', label: 'Thread name', value: thread.name ?? '', confirmLabel: 'Rename' });
          // updateThread patches the name alone (and writes it to the session index).
          if (next) await app.run(async () => (await app.store.updateThread(thread.id, { name: next }), app.changed('thread')));
        },
      }),
      h('button', {
        type: 'button',
        'data-key': 'archive',
        text: thread.archived ? 'Unarchive' : 'Archive',
        onclick: () =>
          app.run(async () => {
            await (thread.archived ? app.store.markUnarchived(thread.id) : app.store.markArchived(thread.id));
            await app.changed('thread');
          }),
      }),
      h('button', {
        type: 'button',
        'data-key': 'clear',
        text: 'Clear',
        onclick: async () => {
          if (!(await confirmDialog({ title: 'Clear conversation?', message: `Every message and branch of “${label}” is deleted. Checkpoints, tools and the goal stay.`, confirmLabel: 'Clear', danger: true }))) return;
          await app.run(async () => (await app.store.clearMessages(thread.id), app.changed('storage')));
        },
      }),
      h('button', {
        type: 'button',
        class: 'danger',
        'data-key': 'delete',
        text: 'Delete',
        onclick: async () => {
          if (!(await confirmDialog({ title: 'Delete thread?', message: `“${label}” is deleted with its messages, checkpoints, tools and goal. This cannot be undone.`, confirmLabel: 'Delete', danger: true }))) return;
          await app.run(async () => {
            await app.store.deleteThread(thread.id);
            const next = (await app.store.listThreads({ limit: 1, includeArchived: app.showArchived }))[0];
            await app.select(next?.id ?? null);
            await app.changed('storage');
          });
        },
      }),
    ];
  }

  function drawHeader(): void {
    const thread = app.thread;
    const name = thread ? displayName(thread) : 'No chat selected';
    title.textContent = name;
    title.title = name;
    badges.replaceChildren(...(thread ? [statusBadge(thread.status), thread.archived && thread.status !== 'archived' ? h('span', { class: 'badge', text: 'archived' }) : ''] : []));
    replaceKeepingFocus(threadActions, thread ? threadButtons(thread) : []);
  }

  // The agent checks its goal before every turn; this says why it will not answer.
  async function drawBanner(): Promise<void> {
    const id = app.selectedThreadId;
    const goal = id ? await app.store.getThreadGoal(id) : null;
    if (id !== app.selectedThreadId) return;
    banner.hidden = !budgetExhausted(goal);
    if (!goal || banner.hidden) return;
    const used = goal.tokenBudget === null ? `${number.format(goal.tokensUsed)} tokens` : `${number.format(goal.tokensUsed)} / ${number.format(goal.tokenBudget)} tokens`;
    banner.replaceChildren(
      h('strong', { text: 'The agent has stopped: ' }),
      `the goal “${goal.objective}” used its token budget (${used}, budget limited). Replace the goal, remove it, or set its status back to active to let the agent go on.`,
    );
  }

  app.on(['selection'], () => {
    messages.show(app.selectedThreadId);
    messages.redraw();
  });
  app.on(['selection', 'thread'], drawHeader);
  app.on(['selection', 'goal'], drawBanner);
  return h(
    'main',
    { id: 'conversation', class: 'conversation', 'aria-labelledby': 'conversation-heading' },
    h('header', { class: 'conversation-head' }, toggles.threads, h('div', { class: 'title-row' }, title, badges), threadActions, toggles.details),
    messages.element,
    h('div', { class: 'composer-area' }, banner, composer),
  );
}
