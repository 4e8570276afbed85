import type { MessageRecord, MessageStatus, ThreadMetadata } from 'agent-state-store';
import { activeRun, replyTo } from './agent-run.js';
import { coalesced, type App } from './app.js';
import { confirmDialog, promptDialog } from './dialog.js';
import { consume, h, replaceKeepingFocus } from './dom.js';
import { branchSwitcher, messageElement, toolCard } from './message-view.js';
import { statusBadge } from './threads-panel.js';
import { displayName, SYSTEM_PROMPT, updateThread } from './threads.js';
import { loadTree, type MessageTree } from './tree.js';

/** Enter sends, Shift+Enter makes a new line: the convention of chat UIs. */
function submitOnEnter(form: HTMLFormElement) {
  return (event: KeyboardEvent) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  };
}

/**
 * The conversation: the thread's header and actions, the current branch with a branch switcher
 * wherever a message has siblings, edit-and-resend, regenerate, the streaming reply, and the composer.
 */
export function conversationPanel(app: App): HTMLElement {
  const title = h('h2', { id: 'conversation-heading', text: 'No thread selected' });
  const badges = h('span', { class: 'thread-badges' });
  const threadActions = h('div', { class: 'thread-actions' });
  const list = h('ol', { class: 'messages', 'aria-label': 'Messages' });
  const input = h('textarea', { id: 'composer-input', name: 'message', rows: 2, placeholder: 'Ask the agent…', 'aria-label': 'Message', disabled: true });
  const send = h('button', { type: 'submit', class: 'primary', text: 'Send', disabled: true });
  const stop = h('button', { type: 'button', text: 'Stop', hidden: true, onclick: () => selected && activeRun(selected.id)?.stop() });
  const composer = h('form', { class: 'composer', onsubmit: (e: SubmitEvent) => void onSend(e) }, input, h('div', { class: 'composer-actions' }, h('span', { class: 'hint composer-hint', text: 'Enter sends · Shift+Enter new line' }), stop, send));
  input.addEventListener('keydown', submitOnEnter(composer));

  let selected: ThreadMetadata | null = null;
  let unsubscribe = () => {};
  // What the list shows, so that a change-feed echo of what is already on screen leaves it alone
  // (an open tool card, a half-typed edit).
  let shown = '';

  async function onSend(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const text = input.value.trim();
    const thread = selected;
    if (!text || !thread || activeRun(thread.id)) return;
    await app.run(async () => {
      const id = await consume(input, () => app.store.appendMessage(thread.id, 'user', text));
      if (!thread.preview) await updateThread(app.store, thread.id, { preview: text.slice(0, 80) });
      await replyTo(app, thread.id, { parentId: id, prompt: text });
    });
  }

  async function switchBranch(tree: MessageTree, message: MessageRecord, delta: number): Promise<void> {
    const siblings = tree.siblingsOf(message);
    const target = siblings[siblings.findIndex((s) => s.id === message.id) + delta];
    if (!target || !selected) return;
    await app.store.setCurrentLeafId(selected.id, tree.newestLeafUnder(target.id));
    await app.changed('messages');
  }

  function editInPlace(parts: ReturnType<typeof messageElement>, message: MessageRecord): void {
    const field = h('textarea', { rows: 3, 'aria-label': 'Edit message', value: message.content });
    const resend = message.role === 'user';
    const form = h(
      'form',
      {
        class: 'edit',
        onsubmit: (e: SubmitEvent) => {
          e.preventDefault();
          const text = field.value.trim();
          const thread = selected;
          if (!text || !thread || message.parentEntryId === null) return;
          void app.run(async () => {
            // Editing forks at the parent: the original stays on its own branch, reachable with ‹ ›.
            const id = await app.store.forkAtMessage(message.parentEntryId!, message.role, text, resend ? null : { edited: true });
            if (resend) await replyTo(app, thread.id, { parentId: id, prompt: text });
            else await app.changed('messages');
          });
        },
      },
      field,
      h('div', { class: 'actions' }, h('button', { type: 'button', text: 'Cancel', onclick: () => app.changed('messages') }), h('button', { type: 'submit', class: 'primary', text: resend ? 'Send edit' : 'Save edit' })),
    );
    field.addEventListener('keydown', submitOnEnter(form));
    parts.body.replaceWith(form);
    parts.actions.replaceChildren();
    field.focus();
  }

  function renderMessage(tree: MessageTree, message: MessageRecord, running: boolean, status: MessageStatus): HTMLElement {
    const parts = messageElement(message, false, status);
    parts.element.dataset['messageId'] = String(message.id);
    if (message.id === app.highlightMessageId) parts.element.classList.add('highlight');
    const siblings = tree.siblingsOf(message);
    if (siblings.length > 1) {
      const index = siblings.findIndex((s) => s.id === message.id);
      parts.head.append(branchSwitcher(index, siblings.length, `branch-${message.parentEntryId}`, (d) => void app.run(() => switchBranch(tree, message, d))));
    }
    // The root (the system prompt) has no parent to fork at, so it cannot be edited.
    if (message.parentEntryId !== null && !running && status !== 'streaming') {
      const key = `msg-${message.id}`;
      if (message.role === 'user') {
        parts.actions.append(h('button', { type: 'button', class: 'link', 'data-key': `${key}-edit`, text: 'Edit and resend', onclick: () => editInPlace(parts, message) }));
      } else if (message.role === 'assistant') {
        parts.actions.append(
          h('button', { type: 'button', class: 'link', 'data-key': `${key}-edit`, text: 'Edit', onclick: () => editInPlace(parts, message) }),
          h('button', {
            type: 'button',
            class: 'link',
            'data-key': `${key}-regen`,
            text: 'Regenerate',
            onclick: () => selected && app.run(() => replyTo(app, selected!.id, { parentId: message.parentEntryId!, prompt: promptBefore(tree, message) })),
          }),
        );
      }
    }
    return parts.element;
  }

  function promptBefore(tree: MessageTree, message: MessageRecord): string {
    return tree.branch.find((m) => m.id === message.parentEntryId)?.content ?? '';
  }

  function liveReply(threadId: string): HTMLElement | null {
    const run = activeRun(threadId);
    if (!run) return null;
    const parts = messageElement({ role: 'assistant', content: run.text, item: null, createdAt: Math.floor(Date.now() / 1000) }, true);
    const text = document.createTextNode(run.text);
    parts.body.replaceChildren(text, h('span', { class: 'cursor', 'aria-hidden': 'true' }));
    const tools = parts.element.querySelector('.tools')!;
    let shownCalls = 0;
    const update = () => {
      text.data = run.text;
      for (; shownCalls < run.toolCalls.length; shownCalls++) tools.append(toolCard(run.toolCalls[shownCalls]!));
      list.scrollTop = list.scrollHeight;
    };
    update();
    unsubscribe = run.subscribe(update);
    return parts.element;
  }

  // Only the assistant's messages of the branch shown can be anything but complete.
  async function statusesOf(branch: MessageRecord[]): Promise<Map<number, MessageStatus>> {
    const asked = branch.filter((m) => m.role === 'assistant');
    const statuses = await Promise.all(asked.map((m) => app.store.getMessageStatus(m.id)));
    return new Map(asked.map((m, i) => [m.id, statuses[i]!]));
  }

  async function render(force: boolean): Promise<void> {
    const id = app.selectedThreadId;
    const thread = id ? await app.store.getThread(id) : null;
    if (!thread) {
      unsubscribe();
      selected = null;
      shown = '';
      input.disabled = send.disabled = true;
      stop.hidden = true;
      title.textContent = 'No thread selected';
      badges.replaceChildren();
      threadActions.replaceChildren();
      list.replaceChildren(h('li', { class: 'empty', text: 'Create a thread with “New thread”, or pick one from the list.' }));
      return;
    }
    const name = await app.store.findThreadNameById(thread.id);
    const tree = await loadTree(app.store, thread.id);
    const statuses = await statusesOf(tree.branch);
    const run = activeRun(thread.id);
    // This tab's own streaming message is drawn live from the run, not from its stored partial text.
    const ownStream = (m: MessageRecord) => run !== undefined && (m.id === run.messageId || (run.messageId === null && statuses.get(m.id) === 'streaming'));
    const branch = tree.branch.filter((m) => !ownStream(m));
    const view = JSON.stringify([
      thread.id, name, thread.status, thread.archived, thread.preview, !!run, app.highlightMessageId,
      branch.map((m) => [m.id, m.content.length, statuses.get(m.id) ?? '', tree.siblingsOf(m).length]),
    ]);
    if (!force && view === shown) return;
    shown = view;

    unsubscribe();
    selected = thread;
    input.disabled = false;
    title.textContent = displayName(name, thread);
    badges.replaceChildren(statusBadge(thread.status), thread.archived && thread.status !== 'archived' ? h('span', { class: 'badge', text: 'archived' }) : '');
    threadActions.replaceChildren(...threadButtons(thread, name));

    const running = run !== undefined;
    const live = liveReply(thread.id);
    replaceKeepingFocus(list, [...branch.map((m) => renderMessage(tree, m, running, statuses.get(m.id) ?? 'complete')), live]);
    send.disabled = running;
    stop.hidden = !running;
    const target = app.highlightPending ? list.querySelector<HTMLElement>(`[data-message-id="${app.highlightMessageId}"]`) : null;
    if (target) {
      app.highlightPending = false;
      target.scrollIntoView({ block: 'center' });
    } else if (!list.contains(document.activeElement)) list.scrollTop = list.scrollHeight;
  }

  function threadButtons(thread: ThreadMetadata, name: string | null): HTMLElement[] {
    const label = displayName(name, thread);
    return [
      h('button', {
        type: 'button',
        'data-key': 'rename',
        text: 'Rename',
        onclick: async () => {
          const next = await promptDialog({ title: 'Rename thread', label: 'Thread name', value: name ?? '', confirmLabel: 'Rename' });
          if (next) await app.run(async () => (await updateThread(app.store, thread.id, { name: next }), app.changed('threads', 'selection')));
        },
      }),
      h('button', {
        type: 'button',
        'data-key': 'archive',
        text: thread.archived ? 'Unarchive' : 'Archive',
        onclick: () =>
          app.run(async () => {
            await (thread.archived ? app.store.markUnarchived(thread.id) : app.store.markArchived(thread.id));
            await app.changed('threads', 'selection');
          }),
      }),
      h('button', {
        type: 'button',
        'data-key': 'clear',
        text: 'Clear',
        onclick: async () => {
          if (!(await confirmDialog({ title: 'Clear conversation?', message: `Every message and branch of “${label}” is deleted. Checkpoints, tools and the goal stay.`, confirmLabel: 'Clear', danger: true }))) return;
          await app.run(async () => {
            await app.store.clearMessages(thread.id);
            await app.store.appendMessage(thread.id, 'system', SYSTEM_PROMPT);
            await app.changed('messages', 'storage');
          });
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
            const next = (await app.store.listThreads({ limit: 1 }))[0];
            await app.select(next?.id ?? null);
            await app.changed('threads', 'storage');
          });
        },
      }),
    ];
  }

  // A change of what is shown (selection, this tab's own write, Cancel of an edit) redraws; a change
  // from the feed redraws only what differs. One coalesced loop, so the two never interleave.
  let forced = false;
  const redraw = coalesced(() => {
    const force = forced;
    forced = false;
    return render(force);
  });
  app.on(['selection', 'messages'], () => ((forced = true), redraw()));
  app.on(['thread', 'live'], redraw);
  return h(
    'main',
    { id: 'conversation', class: 'conversation', 'aria-labelledby': 'conversation-heading' },
    h('header', { class: 'conversation-head' }, h('div', { class: 'title-row' }, title, badges), threadActions),
    list,
    composer,
  );
}
