import type { ImportProgress } from 'agent-state-store';
import { describeError, type App } from './app.js';
import { confirmDialog } from './dialog.js';
import { h } from './dom.js';

const PHASES: Record<ImportProgress['phase'], string> = {
  validate: 'Checking the file',
  integrity: 'Checking integrity',
  migrate: 'Migrating the schema',
  copy: 'Copying',
  index: 'Rebuilding the session index',
  done: 'Done',
};

/** Offers `data` as a file download named `name`. */
function download(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const link = h('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started by the time the click returns; the URL is only needed until then.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/**
 * Export and import of the whole store: the database as a SQLite file any SQLite 3.40+ opens
 * (exportDatabase), the session index as JSONL (exportSessionIndex), and an import that replaces
 * everything with a chosen file (importDatabase) with a progress bar. A bad file is refused whole:
 * the current data stays as it was.
 */
export function exportImport(app: App): HTMLElement {
  const file = h('input', { type: 'file', id: 'import-file', class: 'visually-hidden', tabindex: -1, 'aria-label': 'Database file to import', accept: '.sqlite,.sqlite3,.db,application/vnd.sqlite3,application/x-sqlite3' });
  const bar = h('progress', { max: 1, value: 0, 'aria-label': 'Import progress', hidden: true });
  const phase = h('span', { class: 'meter-text' });
  const result = h('p', { class: 'transfer-result', 'aria-live': 'polite' });

  async function importFile(chosen: File): Promise<void> {
    const ok = await confirmDialog({
      title: 'Import this database?',
      message: `Every thread, message, checkpoint, job and tool in store “${app.storeName}” is replaced by the contents of “${chosen.name}”. A file that fails its checks changes nothing.`,
      confirmLabel: 'Replace everything',
      danger: true,
    });
    if (!ok) return;
    result.replaceChildren();
    result.className = 'transfer-result';
    bar.hidden = false;
    bar.value = 0;
    phase.textContent = 'Reading the file…';
    let reported = false;
    let refused = false;
    try {
      const bytes = new Uint8Array(await chosen.arrayBuffer());
      const done = await app.store.importDatabase(bytes, {
        onProgress: ({ phase: now, fraction }) => {
          if (refused) return;
          reported = true;
          bar.value = fraction;
          phase.textContent = `${PHASES[now]} · ${Math.round(fraction * 100)}%`;
        },
      });
      // Progress comes over its own channel and may trail the answer; the last report wins.
      if (!reported) {
        bar.value = 1;
        phase.textContent = PHASES.done;
      }
      const migrated = done.fromVersion === done.schemaVersion ? `schema version ${done.schemaVersion}` : `schema version ${done.fromVersion}, migrated to ${done.schemaVersion}`;
      result.className = 'transfer-result ok';
      result.replaceChildren(`Imported ${done.threads} thread${done.threads === 1 ? '' : 's'} and ${done.messages} message${done.messages === 1 ? '' : 's'} from ${migrated}.`);
    } catch (error) {
      refused = true;
      const { code, message } = describeError(error);
      bar.hidden = true;
      phase.textContent = '';
      result.className = 'transfer-result error';
      result.replaceChildren(h('strong', { class: 'error-code', text: code }), ` Import refused: ${message}. Nothing was changed.`);
      return;
    }
    // The old selection is most likely gone; start from the newest thread of what was imported.
    const first = (await app.store.listThreads({ limit: 1, includeArchived: true }))[0];
    await app.select(first?.id ?? null);
    await app.changed('jobs', 'storage', 'tools');
  }

  file.addEventListener('change', () => {
    const chosen = file.files?.[0];
    file.value = '';
    if (chosen) void app.run(() => importFile(chosen));
  });

  return h(
    'div',
    { id: 'export-import', class: 'transfer' },
    h('h3', { text: 'Export and import' }),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', text: 'Export database', onclick: () => app.run(async () => download('agent-state.sqlite', (await app.store.exportDatabase()) as Uint8Array<ArrayBuffer>, 'application/vnd.sqlite3')) }),
      h('button', { type: 'button', text: 'Export session index', onclick: () => app.run(async () => download('session_index.jsonl', await app.store.exportSessionIndex(), 'application/jsonl')) }),
      // A real button opens the hidden file input, so the control looks and focuses like the others.
      h('button', { type: 'button', text: 'Import…', 'aria-controls': 'import-file', onclick: () => file.click() }),
      file,
    ),
    h('div', { class: 'meter' }, bar, phase),
    result,
  );
}
