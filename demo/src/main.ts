/**
 * The demo: a small agent UI where every capability of agent-state-store has a visible use. It
 * imports the package exactly as an app would (the Vite config points the name at dist/).
 */
import { openStateStore, type StateStoreClient } from 'agent-state-store';
import { App, reportError } from './app.js';
import { checkpointsPanel } from './checkpoints-panel.js';
import { conversationPanel } from './conversation.js';
import { h } from './dom.js';
import { DRAWER_QUERIES, drawer } from './drawer.js';
import { goalPanel } from './goal-panel.js';
import { jobsPanel } from './jobs-panel.js';
import { memoryPanel } from './memory-panel.js';
import { followSideChanges } from './side-changes.js';
import { storagePanel } from './storage-panel.js';
import { followSync, syncTargetFromPage } from './sync-badge.js';
import { threadsPanel } from './threads-panel.js';
import { toolsPanel } from './tools-panel.js';

declare global {
  interface Window {
    /** The demo's connected store client, for poking at from the console (and for tests). */
    stateStore?: StateStoreClient;
  }
}

// `?store=<name>` picks the store, so that several independent demos (or tests) share an origin. A synced
// demo defaults to a store of its own, so that syncing never takes in the local-only demo's threads.
function storeNameFromUrl(synced: boolean): string {
  return new URLSearchParams(location.search).get('store') || (synced ? 'demo-sync' : 'demo');
}

function threadFromHash(): string | null {
  const match = /^#thread=(.+)$/.exec(location.hash);
  return match?.[1] ? decodeURIComponent(match[1]) : null;
}

async function start(): Promise<void> {
  const root = document.getElementById('root')!;
  const toasts = document.getElementById('toasts')!;
  const sync = syncTargetFromPage();
  const name = storeNameFromUrl(sync !== null);
  document.getElementById('store-name')!.textContent = `store “${name}”${sync ? `, synced with ${sync.url}` : ''}`;

  let store: StateStoreClient;
  try {
    store = await openStateStore(sync ? { name, sync: { url: sync.url, getToken: async () => sync.token } } : { name });
  } catch (error) {
    reportError(toasts, error);
    root.replaceChildren(h('p', { class: 'loading', text: 'The store could not be opened; see the message above.' }));
    return;
  }
  window.stateStore = store;
  const app = new App(store, name, toasts);

  document.querySelector('.skip-link')?.addEventListener('click', (event) => {
    event.preventDefault();
    document.getElementById('composer-input')?.focus();
  });

  const wanted = threadFromHash();
  const initial = (wanted && (await store.getThread(wanted))) || (await store.listThreads({ limit: 1 }))[0];
  app.showArchived = initial?.archived ?? false;
  app.selectedThreadId = initial?.id ?? null;

  // The thread list and the side panels are columns on a wide screen and drawers on a narrow one.
  const side = h('aside', { id: 'details', class: 'side', 'aria-label': 'Thread details and storage' });
  const details = drawer(side, { label: 'Details', icon: '☷', query: DRAWER_QUERIES.details });
  const threads = threadsPanel(app, { picked: () => threadsDrawer.close() });
  const threadsDrawer = drawer(threads, { label: 'Threads', icon: '☰', query: DRAWER_QUERIES.threads });
  threads.querySelector('.sidebar-head')!.append(threadsDrawer.closeButton);
  side.append(h('div', { class: 'side-head' }, h('h2', { class: 'side-title', text: 'Details' }), details.closeButton), goalPanel(app), checkpointsPanel(app), toolsPanel(app), memoryPanel(app), jobsPanel(app), storagePanel(app));
  root.replaceChildren(threads, conversationPanel(app, { threads: threadsDrawer.toggle, details: details.toggle }), side);
  root.querySelector('.composer-area')!.prepend(toasts);

  await app.changed('selection', 'jobs', 'storage');
  followSideChanges(app);
  if (sync) await followSync(store, document.getElementById('sync-badge')!);
  root.removeAttribute('aria-busy');
  document.body.dataset['ready'] = 'true';
}

void start();
