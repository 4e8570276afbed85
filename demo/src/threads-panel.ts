import type { ThreadPage } from 'agent-state-store';
import type { App } from './app.js';
import { append, h, replaceKeepingFocus, timeLabel } from './dom.js';
import { searchBox } from './search-panel.js';
import { createThread, displayName, threadIdOfRolloutPath } from './threads.js';

/** Threads per page of the sidebar (listThreadsPage). */
export const THREAD_PAGE_SIZE = 30;

/** A thread's status as a small colored badge. */
export function statusBadge(status: string): HTMLElement {
  return h('span', { class: `badge status-${status}`, text: status });
}

/**
 * The sidebar: new thread, search across all chats, find by name through the session index, the
 * "show archived" toggle and the thread list (paged with listThreadsPage and "Load more") with names
 * from the session index and status badges.
 */
export function threadsPanel(app: App): HTMLElement {
  const list = h('ul', { class: 'thread-list', 'aria-label': 'Threads' });
  const found = h('p', { class: 'find-result', role: 'status' });
  const query = h('input', { type: 'search', name: 'name', placeholder: 'Thread name', 'aria-label': 'Find thread by name', autocomplete: 'off' });

  // How many pages are shown; a re-render reads them again from the top, because an update moves a
  // thread to the top and a cursor taken before it would skip or repeat one.
  let pages = 1;
  const more = h('button', { type: 'button', class: 'load-more', text: 'Load more', hidden: true, onclick: () => ((pages += 1), app.changed('threads')) });

  async function render(): Promise<void> {
    const threads = [];
    let cursor: string | null = null;
    for (let page = 0; page < pages; page++) {
      const next: ThreadPage = await app.store.listThreadsPage({ limit: THREAD_PAGE_SIZE, includeArchived: app.showArchived, cursor });
      threads.push(...next.items);
      cursor = next.nextCursor;
      if (!cursor) break;
    }
    more.hidden = cursor === null;
    const names = threads.length > 0 ? await app.store.findThreadNamesByIds(threads.map((t) => t.id)) : {};
    const items = threads.map((t) => {
      const selected = t.id === app.selectedThreadId;
      return h(
        'li',
        {},
        h(
          'button',
          { type: 'button', class: 'thread-item', 'data-key': `thread-${t.id}`, 'aria-current': selected ? 'true' : false, onclick: () => app.select(t.id) },
          h('span', { class: 'thread-name', text: displayName(names[t.id], t) }),
          h('span', { class: 'thread-meta' }, statusBadge(t.status), t.archived && t.status !== 'archived' ? h('span', { class: 'badge', text: 'archived' }) : null, timeLabel(t.updatedAt)),
        ),
      );
    });
    replaceKeepingFocus(list, items.length > 0 ? items : [h('li', { class: 'empty', text: app.showArchived ? 'No threads yet.' : 'No active threads.' })]);
  }

  async function find(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const name = query.value.trim();
    if (!name) return;
    const path = await app.store.findThreadPathByName(name);
    const id = path ? threadIdOfRolloutPath(path) : null;
    if (!path || !id) {
      found.replaceChildren(`No thread is named “${name}”.`);
      return;
    }
    const current = await app.store.findThreadNameById(id);
    const thread = await app.store.getThread(id);
    const open = h('button', {
      type: 'button',
      class: 'link',
      text: 'Open',
      onclick: async () => {
        if (thread?.archived && !app.showArchived) {
          app.showArchived = true;
          archivedToggle.checked = true;
        }
        await app.select(id);
      },
    });
    found.replaceChildren();
    append(found, [`Found “${current ?? name}” at `, h('code', { text: path }), thread ? ' ' : ' (deleted) ', thread ? open : null]);
  }

  const archivedToggle = h('input', {
    type: 'checkbox',
    checked: app.showArchived,
    onchange: (e: Event) => {
      app.showArchived = (e.target as HTMLInputElement).checked;
      pages = 1;
      void app.changed('threads');
    },
  });

  app.on(['threads', 'selection'], render);
  return h(
    'nav',
    { id: 'threads', class: 'sidebar', 'aria-labelledby': 'threads-heading' },
    h('div', { class: 'sidebar-head' }, h('h2', { id: 'threads-heading', text: 'Threads' }), h('button', {
      type: 'button',
      class: 'primary',
      text: 'New thread',
      onclick: () =>
        app.run(async () => {
          const id = await createThread(app.store);
          await app.select(id);
          await app.changed('threads');
          document.getElementById('composer-input')?.focus();
        }),
    })),
    searchBox(app, {
      revealArchived: () => {
        app.showArchived = archivedToggle.checked = true;
        pages = 1;
      },
    }),
    h('form', { class: 'find', role: 'search', 'aria-label': 'Find thread by name', onsubmit: (e: SubmitEvent) => app.run(() => find(e)) }, query, h('button', { type: 'submit', text: 'Find' })),
    found,
    h('label', { class: 'toggle' }, archivedToggle, 'Show archived'),
    list,
    more,
  );
}
