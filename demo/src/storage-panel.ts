import type { StoreInfo } from 'agent-state-store';
import type { App } from './app.js';
import { bytes, h, panel } from './dom.js';
import { exportImport } from './export-import.js';

function facts(info: StoreInfo): [string, string][] {
  const estimate = info.storageEstimate;
  return [
    ['Store', info.name ?? ''],
    ['This tab', info.leader ? 'leader: its worker owns the database file' : 'follower: reaches the leader tab over a channel'],
    ['VFS', info.vfs === 'memory' ? `memory (IndexedDB snapshots)${info.fallbackReason ? ` — ${info.fallbackReason}` : ''}` : (info.vfs ?? '')],
    ['Durability', info.durability ?? ''],
    ['SQLite', info.sqliteVersion],
    ['Schema version', String(info.schemaVersion)],
    ['Database size', bytes(info.databaseSizeBytes)],
    ['Origin usage', estimate ? `${bytes(estimate.usage)} of ${bytes(estimate.quota)}` : 'unknown'],
    ['Persisted', info.persisted == null ? 'unknown' : info.persisted ? 'yes' : 'no (may be evicted under pressure)'],
    ['Session index', `${info.sessionIndexEntries} thread${info.sessionIndexEntries === 1 ? '' : 's'}, ${info.sessionIndexSkippedLines} skipped lines`],
    ['Transactions', `${info.commits} since this page opened the store`],
  ];
}

/**
 * What the store knows about its storage (info()), whether this tab leads, the button that asks the
 * browser to keep it (requestPersistence()), and export / import of the whole store.
 */
export function storagePanel(app: App): HTMLElement {
  const list = h('dl', { class: 'facts', 'aria-label': 'Storage facts' });
  const usage = h('div', { class: 'meter' });
  const result = h('p', { class: 'hint', role: 'status' });

  async function render(): Promise<void> {
    const info = await app.store.info();
    list.replaceChildren(...facts(info).flatMap(([term, value]) => [h('dt', { text: term }), h('dd', { text: value })]));
    const estimate = info.storageEstimate;
    usage.replaceChildren(
      ...(estimate && estimate.quota > 0 ? [h('meter', { min: 0, max: estimate.quota, value: estimate.usage, 'aria-label': 'Origin storage used' }), h('span', { class: 'meter-text', text: `${((estimate.usage / estimate.quota) * 100).toFixed(2)}% of this origin's quota used` })] : []),
    );
  }

  async function persist(): Promise<void> {
    const granted = await app.store.requestPersistence();
    result.textContent = granted ? 'The browser will keep this storage under pressure.' : 'The browser declined for now (it decides from engagement; installed apps and bookmarks help).';
    await render();
  }

  app.on(['storage'], render);
  return panel(
    'storage',
    'Storage',
    list,
    usage,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', text: 'Refresh', onclick: () => app.run(render) }),
      h('button', { type: 'button', text: 'Request persistence', onclick: () => app.run(persist) }),
    ),
    result,
    exportImport(app),
  );
}
