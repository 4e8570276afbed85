import type { SearchHit, ThreadMetadata } from 'agent-state-store';
import { activeRun } from './agent-run.js';
import { describeError, type App } from './app.js';
import { h, replaceKeepingFocus, timeLabel } from './dom.js';
import { roleLabel } from './message-view.js';
import { displayName } from './threads.js';

/** Typing pauses this long before the store is asked, so a fast typist costs one search, not one per key. */
export const SEARCH_DEBOUNCE_MS = 150;
const LIMIT = 20;

/**
 * A snippet as nodes: the store wraps matches in «…»; they become <mark> elements built with
 * createElement and textContent. The snippet is message text, so it is never parsed as HTML.
 */
export function snippetNodes(snippet: string, markdown = false): Node[] {
  const nodes: Node[] = [];
  // The agent writes Markdown; its markers (**, `, #) are noise in a one-line excerpt.
  const text = markdown ? snippet.replace(/\*\*|__|`+|^#+\s/g, '') : snippet;
  for (const [i, part] of text.split(/[«»]/).entries()) {
    if (!part) continue;
    nodes.push(i % 2 === 1 ? h('mark', { text: part }) : document.createTextNode(part));
  }
  return nodes;
}

/** Options of searchBox. */
export interface SearchBoxOptions {
  /** Called before an archived thread is opened, so the list can show archived threads too. */
  revealArchived(): void;
  /** Called after a hit was opened (the drawer closes on a phone). */
  picked(): void;
}

/** What a hit shows beside its snippet: where it is. */
interface HitPlace {
  thread: ThreadMetadata | null;
  /** Whether the message is on its thread's current branch. */
  onBranch: boolean;
}

/**
 * Search across all chats (searchMessages) as you type. Each hit says where it is: the thread's
 * title, who wrote it, when, and "on another branch" when it is not on the thread's current branch,
 * with the snippet's matches marked. Enter or a click opens the thread at that message, switching
 * the current branch to it when it sits on another one. ↓ and ↑ move between the hits.
 */
export function searchBox(app: App, options: SearchBoxOptions): HTMLElement {
  const input = h('input', { type: 'search', name: 'q', placeholder: 'Search all chats', 'aria-label': 'Search all chats', autocomplete: 'off', 'aria-controls': 'search-results' });
  const archived = h('input', { type: 'checkbox', onchange: () => void search() });
  // aria-live rather than role=status: the sidebar's "find by name" result is its status.
  const summary = h('p', { class: 'search-summary', 'aria-live': 'polite' });
  const results = h('ul', { id: 'search-results', class: 'search-results', 'aria-label': 'Search results' });
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Answers can arrive out of order; only the newest question's answer is shown.
  let asked = 0;
  let hits: SearchHit[] = [];

  async function open(hit: SearchHit): Promise<void> {
    const thread = await app.store.getThread(hit.threadId);
    if (!thread) throw new Error('That chat was deleted since the search.');
    const branch = await app.store.getBranch(hit.threadId);
    if (!branch.some((m) => m.id === hit.messageId) && !activeRun(hit.threadId)) {
      // The hit is on another branch: land on the most recently written end of a branch through it.
      await app.store.switchBranch(hit.threadId, hit.messageId);
    }
    if (thread.archived && !app.showArchived) options.revealArchived();
    await app.select(hit.threadId, hit.messageId);
    options.picked();
    // The switch may have moved hits onto (or off) the current branch: say where they are now.
    await search();
  }

  // One thread read and one branch read per thread among the hits, not per hit.
  async function places(found: SearchHit[]): Promise<Map<number, HitPlace>> {
    const ids = [...new Set(found.map((hit) => hit.threadId))];
    const read = await Promise.all(
      ids.map(async (id) => {
        const [thread, branch] = await Promise.all([app.store.getThread(id), app.store.getBranch(id).catch(() => [])]);
        return [id, { thread, onBranch: new Set(branch.map((m) => m.id)) }] as const;
      }),
    );
    const byThread = new Map(read);
    return new Map(found.map((hit) => {
      const t = byThread.get(hit.threadId);
      return [hit.messageId, { thread: t?.thread ?? null, onBranch: t?.onBranch.has(hit.messageId) ?? false }];
    }));
  }

  function item(hit: SearchHit, place: HitPlace | undefined): HTMLElement {
    const name = place?.thread ? displayName(place.thread) : 'Deleted chat';
    return h(
      'li',
      {},
      h(
        'button',
        { type: 'button', class: 'search-hit', 'data-key': `hit-${hit.messageId}`, onclick: () => app.run(() => open(hit)) },
        h('span', { class: 'hit-head' }, h('span', { class: 'hit-thread', title: name, text: name }), timeLabel(hit.createdAt)),
        h(
          'span',
          { class: 'hit-meta' },
          h('span', { class: 'hit-role', text: roleLabel(hit.role) }),
          place && !place.onBranch ? h('span', { class: 'hit-branch', text: 'on another branch' }) : null,
          place?.thread?.archived ? h('span', { class: 'hit-archived', text: 'archived' }) : null,
        ),
        h('span', { class: 'hit-snippet' }, ...snippetNodes(hit.snippet, hit.role === 'assistant')),
      ),
    );
  }

  async function search(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    const query = input.value.trim();
    const mine = ++asked;
    if (!query) {
      hits = [];
      summary.replaceChildren();
      results.replaceChildren();
      return;
    }
    try {
      const found = await app.store.searchMessages(query, { limit: LIMIT, includeArchived: archived.checked });
      const where = await places(found);
      if (mine !== asked) return;
      hits = found;
      summary.replaceChildren(found.length === 0 ? `No results for “${query}”.` : `${found.length}${found.length === LIMIT ? '+' : ''} result${found.length === 1 ? '' : 's'} for “${query}”`);
      replaceKeepingFocus(results, found.map((hit) => item(hit, where.get(hit.messageId))));
    } catch (error) {
      if (mine !== asked) return;
      // Shown in place, with its code: a search that cannot run is not worth a toast per keystroke.
      const { code, message } = describeError(error);
      hits = [];
      summary.replaceChildren(h('strong', { class: 'error-code', text: code }), ` ${message}`);
      results.replaceChildren();
    }
  }

  function hitButtons(): HTMLButtonElement[] {
    return [...results.querySelectorAll<HTMLButtonElement>('button.search-hit')];
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void search(), SEARCH_DEBOUNCE_MS);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      // Enter before the debounce fired searches first, then opens the best hit.
      void app.run(async () => {
        if (timer !== undefined) await search();
        const best = hits[0];
        if (best) await open(best);
      });
    } else if (event.key === 'ArrowDown') {
      event.preventDefault();
      hitButtons()[0]?.focus();
    }
  });
  results.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const buttons = hitButtons();
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (at < 0) return;
    event.preventDefault();
    const next = at + (event.key === 'ArrowDown' ? 1 : -1);
    (next < 0 ? input : buttons[Math.min(next, buttons.length - 1)])?.focus();
  });

  return h('div', { class: 'search', role: 'search', 'aria-label': 'Search all chats' }, input, h('label', { class: 'toggle small' }, archived, 'Include archived'), summary, results);
}
