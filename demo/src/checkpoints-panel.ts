import type { CheckpointRecord, JsonValue, MessageRecord } from 'agent-state-store';
import { StoreError } from 'agent-state-store';
import type { App } from './app.js';
import { confirmDialog } from './dialog.js';
import { consume, h, panel, replaceKeepingFocus, timeLabel } from './dom.js';
import { roleLabel } from './message-view.js';

/** What the demo saves in a checkpoint: the branch as it was, and where it ended. */
interface SavedState {
  [key: string]: JsonValue;
  leafId: number | null;
  messages: { role: string; content: string }[];
}

function savedState(checkpoint: CheckpointRecord): SavedState {
  const state = checkpoint.state as Partial<SavedState> | null;
  return { leafId: typeof state?.leafId === 'number' ? state.leafId : null, messages: Array.isArray(state?.messages) ? state.messages : [] };
}

function stateOf(branch: MessageRecord[]): SavedState {
  return { leafId: branch.at(-1)?.id ?? null, messages: branch.map((m) => ({ role: m.role, content: m.content })) };
}

/**
 * Checkpoints of the selected thread: save the current branch under a name, see what each one
 * holds, restore it (the current leaf moves back; if the messages were cleared since, they are
 * written again), delete it.
 */
export function checkpointsPanel(app: App): HTMLElement {
  const nameInput = h('input', { type: 'text', name: 'checkpoint', 'aria-label': 'Checkpoint name', placeholder: 'Name (optional)', maxlength: 80 });
  const form = h('form', { class: 'row', onsubmit: (e: SubmitEvent) => (e.preventDefault(), void app.run(save)) }, nameInput, h('button', { type: 'submit', text: 'Save checkpoint' }));
  const list = h('ul', { class: 'checkpoint-list', 'aria-label': 'Saved checkpoints' });
  const body = h('div', {}, form, list);
  const empty = h('p', { class: 'empty', text: 'Select a thread to save checkpoints.' });

  async function save(): Promise<void> {
    const threadId = app.selectedThreadId;
    if (!threadId) return;
    const name = await consume(nameInput, async (typed) => {
      const existing = await app.store.listCheckpoints(threadId);
      const chosen = typed || `Checkpoint ${existing.length + 1}`;
      await app.store.saveCheckpoint(threadId, chosen, stateOf(await app.store.listMessages(threadId)));
      return chosen;
    });
    app.notice(`Saved checkpoint “${name}”.`);
    await app.changed('checkpoints', 'storage');
  }

  async function restore(threadId: string, checkpoint: CheckpointRecord): Promise<void> {
    const state = savedState(checkpoint);
    try {
      if (state.leafId === null) throw new StoreError('NOT_FOUND', 'the checkpoint has no leaf');
      await app.store.setCurrentLeafId(threadId, state.leafId);
      app.notice(`Restored “${checkpoint.checkpointId}”: the conversation is back at ${state.messages.length} messages.`);
    } catch (error) {
      if (!(error instanceof StoreError && error.code === 'NOT_FOUND')) throw error;
      // The saved messages are gone (the conversation was cleared): write them again as a fresh branch.
      const replace = await confirmDialog({
        title: 'Restore by rewriting?',
        message: `The messages of “${checkpoint.checkpointId}” were cleared since it was saved. Restoring replaces the current conversation with its ${state.messages.length} saved messages.`,
        confirmLabel: 'Replace conversation',
        danger: true,
      });
      if (!replace) return;
      await app.store.clearMessages(threadId);
      for (const m of state.messages) await app.store.appendMessage(threadId, m.role, m.content);
      app.notice(`Restored “${checkpoint.checkpointId}” by writing its ${state.messages.length} messages again (they had been cleared).`);
    }
  }

  function item(threadId: string, checkpoint: CheckpointRecord): HTMLElement {
    const state = savedState(checkpoint);
    const key = `cp-${checkpoint.checkpointId}`;
    return h(
      'li',
      {},
      h(
        'details',
        { class: 'checkpoint' },
        h('summary', { 'data-key': `${key}-summary` }, h('strong', { text: checkpoint.checkpointId }), ' · ', `${state.messages.length} messages`, ' · ', timeLabel(checkpoint.createdAt)),
        h('ol', { class: 'saved-messages', 'aria-label': `Messages saved in ${checkpoint.checkpointId}` }, ...state.messages.map((m) => h('li', {}, h('span', { class: 'role', text: `${roleLabel(m.role)}: ` }), h('span', { text: m.content })))),
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', 'data-key': `${key}-restore`, text: 'Restore', onclick: () => app.run(() => restore(threadId, checkpoint)) }),
          h('button', {
            type: 'button',
            class: 'danger',
            'data-key': `${key}-delete`,
            text: 'Delete',
            onclick: () => app.run(async () => (await app.store.deleteCheckpoint(threadId, checkpoint.checkpointId), app.changed('checkpoints'))),
          }),
        ),
      ),
    );
  }

  // What the list shows: the change feed echoes this tab's own saves, and re-drawing the same list
  // would close the checkpoint someone just opened.
  let shown = '';

  async function render(): Promise<void> {
    const threadId = app.selectedThreadId;
    body.hidden = !threadId;
    empty.hidden = !!threadId;
    if (!threadId) return;
    const checkpoints = await app.store.listCheckpoints(threadId);
    const view = JSON.stringify([threadId, checkpoints]);
    if (view === shown) return;
    shown = view;
    replaceKeepingFocus(list, checkpoints.length > 0 ? checkpoints.map((c) => item(threadId, c)) : [h('li', { class: 'empty', text: 'No checkpoints yet.' })]);
  }

  app.on(['selection', 'checkpoints'], render);
  return panel('checkpoints', 'Checkpoints', empty, body);
}
