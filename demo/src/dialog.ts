import { h } from './dom.js';

/** Options of the confirmation and prompt dialogs. */
interface DialogOptions {
  title: string;
  message?: string;
  confirmLabel: string;
  danger?: boolean;
}

// A modal <dialog> gives focus trapping, Escape to cancel and focus return for free.
function showDialog(options: DialogOptions, field: HTMLInputElement | null): Promise<string | null> {
  const confirm = h('button', { type: 'submit', value: 'confirm', class: options.danger ? 'danger' : 'primary', text: options.confirmLabel });
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', { text: options.title }),
    options.message ? h('p', { text: options.message }) : null,
    field ? h('label', { class: 'field' }, field.getAttribute('aria-label') ?? '', field) : null,
    // Confirm comes first in the DOM because Enter in the field submits with the first button; CSS shows it last.
    h('div', { class: 'actions dialog-actions' }, confirm, h('button', { type: 'submit', value: 'cancel', formnovalidate: true, text: 'Cancel' })),
  );
  const dialog = h('dialog', { 'aria-label': options.title }, form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'confirm' ? (field?.value ?? '') : null);
    });
    dialog.showModal();
    (field ?? confirm).focus();
  });
}

/** Asks a yes/no question; true when confirmed. */
export async function confirmDialog(options: DialogOptions): Promise<boolean> {
  return (await showDialog(options, null)) !== null;
}

/** Asks for one line of text; null when cancelled. */
export async function promptDialog(options: DialogOptions & { label: string; value: string }): Promise<string | null> {
  const field = h('input', { type: 'text', value: options.value, required: true, 'aria-label': options.label, maxlength: 200 });
  const answer = await showDialog(options, field);
  return answer === null ? null : answer.trim() || null;
}
