import type { App } from './app.js';
import { h, panel } from './dom.js';
import { parseTools, toolsText } from './tool-schema.js';

/**
 * The selected thread's dynamic tools as editable JSON, checked as you type, saved in one
 * transaction with persistDynamicTools and read back with getDynamicTools.
 */
export function toolsPanel(app: App): HTMLElement {
  const editor = h('textarea', { id: 'tools-editor', class: 'code', rows: 12, spellcheck: 'false', 'aria-label': 'Tools (JSON)', 'aria-describedby': 'tools-feedback' });
  const feedback = h('div', { id: 'tools-feedback', class: 'feedback', role: 'status' });
  const save = h('button', { type: 'submit', class: 'primary', text: 'Save tools' });
  const revert = h('button', { type: 'button', text: 'Revert', onclick: () => app.run(() => load(app.selectedThreadId)) });
  const form = h('form', { onsubmit: (e: SubmitEvent) => (e.preventDefault(), void app.run(persist)) }, editor, feedback, h('div', { class: 'actions' }, revert, save));
  const empty = h('p', { class: 'empty', text: 'Select a thread to edit its tools.' });
  let loadedFor: string | null = null;
  let loadedText = '';

  function check(): ReturnType<typeof parseTools> {
    const parsed = parseTools(editor.value);
    editor.setAttribute('aria-invalid', String(!parsed.ok));
    feedback.className = `feedback ${parsed.ok ? 'ok' : 'invalid'}`;
    if (parsed.ok) {
      feedback.replaceChildren(`✓ ${parsed.tools.length} valid tool${parsed.tools.length === 1 ? '' : 's'}: ${parsed.tools.map((t) => t.name).join(', ') || 'none'}`);
    } else {
      feedback.replaceChildren(h('ul', {}, ...parsed.problems.map((p) => h('li', {}, h('code', { text: p.path }), ` ${p.message}`))));
    }
    save.disabled = !parsed.ok;
    return parsed;
  }

  async function persist(): Promise<void> {
    const threadId = app.selectedThreadId;
    const parsed = check();
    if (!threadId || !parsed.ok) return;
    await app.store.persistDynamicTools(threadId, parsed.tools);
    const stored = await app.store.getDynamicTools(threadId);
    editor.value = loadedText = toolsText(stored);
    editor.scrollTop = 0;
    check();
    app.notice(`Saved ${stored.length} tool${stored.length === 1 ? '' : 's'}.`);
    await app.changed('storage');
  }

  async function load(threadId: string | null): Promise<void> {
    form.hidden = !threadId;
    empty.hidden = !!threadId;
    loadedFor = threadId;
    if (!threadId) return;
    editor.value = loadedText = toolsText(await app.store.getDynamicTools(threadId));
    editor.scrollTop = 0;
    check();
  }

  // A rename or archive also announces "selection"; unsaved edits survive anything but a new thread.
  const render = () => (app.selectedThreadId === loadedFor ? undefined : load(app.selectedThreadId));

  // Tools saved elsewhere (another tab) replace what is shown, unless it holds unsaved edits.
  const reload = () => (loadedFor && editor.value === loadedText ? load(loadedFor) : undefined);

  editor.addEventListener('input', () => loadedFor && check());
  app.on(['selection'], render);
  app.on(['tools'], reload);
  return panel('tools', 'Dynamic tools', empty, form, h('p', { class: 'hint', text: 'An array of { name, description, inputSchema }; the agent calls the tool whose name matches your message.' }));
}
