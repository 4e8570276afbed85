import type { BranchMessage } from 'agent-state-store';
import { activeRun, onRunsChanged, replyTo, type AgentRun } from './agent-run.js';
import { hasCode, type App } from './app.js';
import { copyText } from './clipboard.js';
import { focusedKey, h, reconcile, refocus } from './dom.js';
import { actionButton, branchSwitcher, fillBody, messageElement, placeCursor, type MessageParts } from './message-view.js';

/** Enter sends, Shift+Enter makes a new line: the convention of chat UIs. */
export function submitOnEnter(form: HTMLFormElement) {
  return (event: KeyboardEvent) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  };
}

/** One drawn message: its element, what it was drawn from, and whether someone is editing it. */
interface Entry {
  parts: MessageParts;
  signature: string;
  editing: boolean;
  dispose(): void;
}

/** What the conversation needs to know after each redraw. */
export interface BranchState {
  threadId: string | null;
  branch: BranchMessage[];
  /** This tab's agent is replying in the thread. */
  busy: boolean;
}

/** The conversation's message list: the selected thread's current branch, live. */
export interface MessageList {
  /** The scrolling element (the list and what shows when it is empty). */
  element: HTMLElement;
  /** Follows `threadId`'s current branch (watchBranch), or shows nothing. */
  show(threadId: string | null): void;
  /** Draws again from the last result (the highlight changed, say). */
  redraw(): void;
  /** The branch as last delivered. */
  branch(): BranchMessage[];
}

const STICK_PX = 80;

/**
 * The current branch through `watchBranch`: it delivers at once and after every change that alters
 * the branch, from this tab or another, coalesced per frame. Messages are drawn by id and redrawn
 * only when what they show changed, so an open tool card or a half-typed edit survives another
 * message streaming in. This tab's own streaming reply is drawn from its run, token by token; one
 * streaming in another tab grows with each delta the store commits.
 */
export function messageList(app: App, changed: (state: BranchState) => void): MessageList {
  const list = h('ol', { class: 'messages', 'aria-label': 'Messages' });
  const empty = h('div', { class: 'empty-chat' });
  const element = h('div', { class: 'scroller' }, empty, list);
  const entries = new Map<number, Entry>();
  let threadId: string | null = null;
  let branch: BranchMessage[] = [];
  let stop = () => {};
  let firstDraw = true;
  // Until the first answer, an empty branch means "not read yet", not "no messages".
  let loaded = false;
  let errorShown = false;

  const nearBottom = () => element.scrollHeight - element.scrollTop - element.clientHeight < STICK_PX;
  const toBottom = () => (element.scrollTop = element.scrollHeight);

  function show(id: string | null): void {
    if (id === threadId) return;
    stop();
    for (const entry of entries.values()) entry.dispose();
    entries.clear();
    list.replaceChildren();
    threadId = id;
    branch = [];
    firstDraw = true;
    loaded = id === null;
    errorShown = false;
    stop = () => {};
    draw();
    if (!id) return;
    stop = app.store.watchBranch(
      id,
      (next) => {
        branch = next;
        loaded = true;
        errorShown = false;
        draw();
      },
      {
        limit: 500,
        onError: (error) => {
          // The thread was deleted (here or in another tab) or replaced by an import: move on quietly.
          if (hasCode(error, 'NOT_FOUND')) void app.run(() => app.leaveMissingThread());
          else if (!errorShown) {
            errorShown = true;
            app.report(error);
          }
        },
      },
    );
  }

  async function switchBranch(m: BranchMessage, delta: number): Promise<void> {
    const target = m.siblings.ids[m.siblings.index + delta];
    if (target === undefined || !threadId) return;
    // On to the most recently written leaf below the sibling, so its follow-ups come back with it.
    await app.store.switchBranch(threadId, target);
  }

  function editInPlace(entry: Entry, m: BranchMessage): void {
    const id = threadId;
    const field = h('textarea', { rows: 3, 'aria-label': 'Edit message', value: m.content });
    const resend = m.role === 'user';
    let submitting = false;
    const done = () => {
      entry.editing = false;
      entries.delete(m.id);
      entry.dispose();
      draw();
    };
    const form = h(
      'form',
      {
        class: 'edit',
        onsubmit: (e: SubmitEvent) => {
          e.preventDefault();
          const text = field.value.trim();
          if (!text || !id || submitting) return;
          submitting = true;
          void app.run(async () => {
            // An edit is a sibling of the original (same parent; null for a first message), added in
            // one transaction; the original stays on its own branch, reachable with ‹ ›.
            if (resend) {
              const edited = await app.store.addMessage(id, { role: 'user', content: text, parentId: m.parentEntryId });
              done();
              await replyTo(app, id, { parentId: edited.id, prompt: text });
            } else {
              const item = typeof m.item === 'object' && m.item !== null && !Array.isArray(m.item) ? m.item : {};
              await app.store.addMessage(id, { role: m.role as 'assistant', content: text, parentId: m.parentEntryId, item: { ...item, edited: true } });
              done();
            }
          }).finally(() => (submitting = false));
        },
      },
      field,
      h('div', { class: 'actions' }, h('button', { type: 'button', text: 'Cancel', onclick: done }), h('button', { type: 'submit', class: 'primary', text: resend ? 'Send edit' : 'Save edit' })),
    );
    field.addEventListener('keydown', submitOnEnter(form));
    field.addEventListener('keydown', (e) => e.key === 'Escape' && done());
    entry.editing = true;
    entry.parts.body.replaceWith(form);
    entry.parts.element.classList.add('editing');
    entry.parts.footer.hidden = true;
    field.focus();
    field.setSelectionRange(field.value.length, field.value.length);
  }

  // Draws this tab's own reply from its run, at most once a frame, with a cursor at the end.
  function followRun(parts: MessageParts, run: AgentRun): () => void {
    const cursor = h('span', { class: 'cursor', 'aria-hidden': 'true' });
    let frame = 0;
    const paint = () => {
      frame = 0;
      const stick = nearBottom();
      fillBody(parts.body, 'assistant', run.text);
      placeCursor(parts.body, cursor);
      if (stick) toBottom();
    };
    paint();
    const unsubscribe = run.subscribe(() => (frame ||= requestAnimationFrame(paint)));
    return () => {
      unsubscribe();
      cancelAnimationFrame(frame);
    };
  }

  function build(m: BranchMessage, index: number, run: AgentRun | undefined, own: boolean, busy: boolean): Entry {
    const parts = messageElement(m, own);
    const entry: Entry = { parts, signature: '', editing: false, dispose: () => {} };
    parts.element.dataset['messageId'] = String(m.id);
    if (m.id === app.highlightMessageId) parts.element.classList.add('highlight');
    if (m.siblings.count > 1) {
      parts.footer.prepend(branchSwitcher(m.siblings.index, m.siblings.count, `branch-${m.parentEntryId ?? 'root'}`, (d) => void app.run(() => switchBranch(m, d))));
    }
    if (own && run) entry.dispose = followRun(parts, run);
    else if (m.status === 'streaming') placeCursor(parts.body, h('span', { class: 'cursor', 'aria-hidden': 'true' }));

    const key = `msg-${m.id}`;
    const id = threadId!;
    const actions: HTMLElement[] = [];
    if (m.status !== 'streaming') actions.push(actionButton('Copy', 'copy', `${key}-copy`, () => void app.run(async () => (await copyText(m.content), app.notice('Copied to the clipboard.')))));
    if (!busy && m.status !== 'streaming') {
      if (m.role === 'user') actions.push(actionButton('Edit and resend', 'edit', `${key}-edit`, () => editInPlace(entry, m)));
      if (m.role === 'assistant') {
        actions.push(actionButton('Edit', 'edit', `${key}-edit`, () => editInPlace(entry, m)));
        const question = branch[index - 1];
        if (m.parentEntryId !== null && question?.id === m.parentEntryId) {
          actions.push(actionButton('Regenerate', 'regenerate', `${key}-regen`, () => void app.run(() => replyTo(app, id, { parentId: question.id, prompt: question.content }))));
        }
      }
    }
    parts.actions.append(...actions);
    return entry;
  }

  // Tool cards someone opened stay open when their message is drawn again.
  function keepOpenCards(from: Entry, to: Entry): void {
    const was = from.parts.element.querySelectorAll('details.tool-card');
    to.parts.element.querySelectorAll<HTMLDetailsElement>('details.tool-card').forEach((card, i) => (card.open = (was[i] as HTMLDetailsElement | undefined)?.open ?? false));
  }

  function draw(): void {
    const run = threadId ? activeRun(threadId) : undefined;
    const busy = run !== undefined;
    empty.hidden = !loaded || branch.length > 0;
    empty.replaceChildren(
      ...(threadId
        ? [h('p', { class: 'empty-title', text: 'What can the agent do for you?' }), h('p', { class: 'empty-hint', text: 'Every message, branch and streamed reply is stored in SQLite in this browser.' })]
        : [h('p', { class: 'empty-title', text: 'No chat selected' }), h('p', { class: 'empty-hint', text: 'Start one with “New chat”, or pick one from the list.' })]),
    );
    const stick = firstDraw || nearBottom();
    const key = focusedKey(list);
    const seen = new Set<number>();
    const items = branch.map((m, index) => {
      seen.add(m.id);
      const own = run !== undefined && m.status === 'streaming' && (run.messageId === m.id || run.messageId === null);
      const question = m.role === 'assistant' ? branch[index - 1]?.id : null;
      // Own streams are drawn from the run, so the text the store has so far is left out.
      const signature = JSON.stringify([own ? '' : m.content, m.status, m.siblings, m.item, own, busy, m.id === app.highlightMessageId, question, m.createdAt]);
      const old = entries.get(m.id);
      if (old && (old.editing || old.signature === signature)) return old.parts.element;
      const entry = build(m, index, run, own, busy);
      entry.signature = signature;
      if (old) {
        keepOpenCards(old, entry);
        old.dispose();
      }
      entries.set(m.id, entry);
      return entry.parts.element;
    });
    for (const [id, entry] of entries) {
      if (seen.has(id)) continue;
      entry.dispose();
      entries.delete(id);
    }
    reconcile(list, items);
    refocus(list, key);

    const target = app.highlightPending ? list.querySelector<HTMLElement>(`[data-message-id="${app.highlightMessageId}"]`) : null;
    if (target) {
      app.highlightPending = false;
      target.scrollIntoView({ block: 'center' });
    } else if (stick) toBottom();
    if (loaded && branch.length > 0) firstDraw = false;
    changed({ threadId, branch, busy });
  }

  onRunsChanged((id) => id === threadId && draw());
  return { element, show, redraw: draw, branch: () => branch };
}
