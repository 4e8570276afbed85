import type { App } from './app.js';
import { h, panel } from './dom.js';

// The seed's examples of memory modes; "" clears it (null in the store).
const MODES: [string, string][] = [
  ['', 'Not set'],
  ['local', 'local (this device)'],
  ['remote', 'remote (synced)'],
];

/** The selected thread's memory mode (setThreadMemoryMode / getThreadMemoryMode). */
export function memoryPanel(app: App): HTMLElement {
  const status = h('p', { class: 'hint', role: 'status' });
  const select = h(
    'select',
    {
      id: 'memory-mode',
      onchange: () =>
        app.run(async () => {
          const threadId = app.selectedThreadId;
          if (!threadId) return;
          await app.store.setThreadMemoryMode(threadId, select.value || null);
          await render();
        }),
    },
    ...MODES.map(([value, label]) => h('option', { value, text: label })),
  );
  const body = h('div', {}, h('label', { class: 'field', for: 'memory-mode' }, 'Memory mode'), select, status);
  const empty = h('p', { class: 'empty', text: 'Select a thread to set its memory mode.' });

  async function render(): Promise<void> {
    const threadId = app.selectedThreadId;
    body.hidden = !threadId;
    empty.hidden = !!threadId;
    if (!threadId) return;
    const mode = await app.store.getThreadMemoryMode(threadId);
    select.value = mode ?? '';
    status.textContent = mode ? `Stored memory mode: “${mode}”.` : 'No memory mode stored (null).';
  }

  app.on(['selection', 'thread'], render);
  return panel('memory', 'Memory', empty, body);
}
