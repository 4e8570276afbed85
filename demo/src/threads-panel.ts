import type { ThreadMetadata } from 'agent-state-store';
import type { App } from './app.js';
import { append, h, replaceKeepingFocus, timeLabel } from './dom.js';
import { searchBox } from './search-panel.js';
import { createChat, displayName, threadIdOfRolloutPath } from './threads.js';

/** Threads per page of the sidebar. */
export const THREAD_PAGE_SIZE = 30;

/** A thread's status as a small colored badge. */
export function statusBadge(status: string): HTMLElement {
  return h('span', { class: `badge status-${status}`, text: status });
}

/** Options of threadsPanel. */
export interface ThreadsPanelOptions {
  /** Called after a thread was picked or created (the drawer closes on a phone). */
  picked(): void;
}

/**
 * The sidebar: new chat, search across all chats, find by name through the session index, the
 * "show archived" toggle and the thread list, live through watchThreads: most recently active first,
 * so a thread moves to the top when it gets a message, in this tab or another. It shows 30 threads;
 * "Load more" asks the live query for 30 more.
 */
export function threadsPanel(app: App, options: ThreadsPanelOptions): HTMLElement {
  const list = h('ul', { class: 'thread-list', 'aria-label': 'Threads' });
  const found = h('p', { class: 'find-result', role: 'status' });
  const query = h('input', { type: 'search', name: 'name', placeholder: 'Thread name', 'aria-label': 'Find thread by name', autocomplete: 'off' });
  let pages = 1;
  let threads: ThreadMetadata[] = [];
  let stop = () => {};
  const more = h('button', { type: 'button', class: 'load-more', text: 'Load more', hidden: true, onclick: () => ((pages += 1), watch()) });

  function draw(): void {
    const shown = threads.slice(0, pages * THREAD_PAGE_SIZE);
    more.hidden = threads.length <= shown.length;
    const items = shown.map((t) => {
      const name = displayName(t);
      return h(
        'li',
        {},
        h(
          'button',
          {
            type: 'button',
            class: 'thread-item',
            // The whole name on hover, however narrow the list.
            title: name,
            'data-key': `thread-${t.id}`,
            'aria-current': t.id === app.selectedThreadId ? 'true' : false,
            onclick: () => void app.select(t.id).then(options.picked),
          },
          h('span', { class: 'thread-name', text: name }),
          h('span', { class: 'thread-meta' }, statusBadge(t.status), t.archived && t.status !== 'archived' ? h('span', { class: 'badge', text: 'archived' }) : null, timeLabel(t.updatedAt)),
        ),
      );
    });
    replaceKeepingFocus(list, items.length > 0 ? items : [h('li', { class: 'empty', text: app.showArchived ? 'No threads yet.' : 'No active threads.' })]);
  }

  // One more than is shown tells whether there is more to load.
  function watch(): void {
    stop();
    stop = app.store.watchThreads({ includeArchived: app.showArchived, limit: pages * THREAD_PAGE_SIZE + 1, onError: (error) => app.report(error) }, (next) => {
      threads = next;
      draw();
    });
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
        if (thread?.archived && !app.showArchived) revealArchived();
        await app.select(id);
        options.picked();
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
      watch();
    },
  });

  function revealArchived(): void {
    app.showArchived = archivedToggle.checked = true;
    pages = 1;
    watch();
  }

  app.on(['selection'], draw);
  watch();
  return h(
    'nav',
    { id: 'threads', class: 'sidebar', 'aria-labelledby': 'threads-heading' },
    h(
      'div',
      { class: 'sidebar-head' },
      h('h2', { id: 'threads-heading', text: 'Threads' }),
      h('button', {
        type: 'button',
        class: 'primary',
        text: 'New chat',
        onclick: () =>
          app.run(async () => {
            const id = await createChat(app.store);
            await app.select(id);
            options.picked();
            document.getElementById('composer-input')?.focus();
          }),
      }),
    ),
    searchBox(app, { revealArchived, picked: options.picked }),
    h(
      'details',
      { class: 'find-box' },
      h('summary', { text: 'Find by name (session index)' }),
      h('form', { class: 'find', role: 'search', 'aria-label': 'Find thread by name', onsubmit: (e: SubmitEvent) => app.run(() => find(e)) }, query, h('button', { type: 'submit', text: 'Find' })),
      found,
    ),
    h('label', { class: 'toggle' }, archivedToggle, 'Show archived'),
    list,
    more,
  );
}
