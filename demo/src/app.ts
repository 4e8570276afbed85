import { StoreError, type StateStoreClient, type ThreadMetadata } from 'agent-state-store';
import { h } from './dom.js';

/**
 * What the side panels re-read when the store's change feed (or this tab) says so. The thread list
 * and the conversation follow the store's live queries instead (watchThreads, watchBranch) and are
 * not on this bus. `thread` is the selected thread's metadata (header, memory mode).
 */
export type Topic = 'selection' | 'thread' | 'goal' | 'checkpoints' | 'jobs' | 'storage' | 'tools';

type Listener = () => void | Promise<void>;

/** A failure as a person reads it: the StoreError code first, then what went wrong. */
export function describeError(error: unknown): { code: string; message: string } {
  if (error instanceof StoreError) {
    const field = typeof error.details?.['field'] === 'string' ? ` (field: ${error.details['field']})` : '';
    return { code: error.code, message: `${error.message}${field}` };
  }
  return { code: 'ERROR', message: error instanceof Error ? error.message : String(error) };
}

/** Whether `error` is a StoreError with one of `codes`. */
export function hasCode(error: unknown, ...codes: string[]): boolean {
  return error instanceof StoreError && codes.includes(error.code);
}

/** The current time in Unix seconds, the store's unit. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Wraps a render so that calls never overlap: a call during a run schedules one more run after it,
 * so a burst of changes costs one re-read and two interleaved reads never mix their answers.
 */
export function coalesced(fn: Listener): () => Promise<void> {
  let current: Promise<void> | null = null;
  let again = false;
  const loop = async () => {
    try {
      do {
        again = false;
        await fn();
      } while (again);
    } finally {
      current = null;
    }
  };
  return () => {
    if (current) {
      again = true;
      return current;
    }
    return (current = loop());
  };
}

/**
 * The state every panel shares: the store client, the selected thread, and a tiny change bus for
 * the side panels. Panels re-read what they show from the store; the store is the only state.
 */
export class App {
  selectedThreadId: string | null = null;
  /** The selected thread's metadata as last read (the header, the agent's "is it archived?"). */
  thread: ThreadMetadata | null = null;
  /** A message to scroll to and mark once the conversation shows it (a search result). */
  highlightMessageId: number | null = null;
  /** Whether the conversation has yet to scroll to the highlighted message (it does so once). */
  highlightPending = false;
  showArchived = false;
  readonly #listeners = new Map<Topic, Set<Listener>>();
  readonly #toasts: HTMLElement;

  constructor(
    readonly store: StateStoreClient,
    readonly storeName: string,
    toasts: HTMLElement,
  ) {
    this.#toasts = toasts;
  }

  // Reads the selected thread's metadata; calls never overlap (see coalesced).
  readonly #loadThread = coalesced(async () => {
    const id = this.selectedThreadId;
    const thread = id ? await this.store.getThread(id) : null;
    if (id === this.selectedThreadId) this.thread = thread;
  });

  /** Calls `listener` whenever one of `topics` changes; calls never overlap (see coalesced). */
  on(topics: Topic[], listener: Listener): void {
    const once = coalesced(listener);
    for (const topic of topics) {
      let set = this.#listeners.get(topic);
      if (!set) this.#listeners.set(topic, (set = new Set()));
      set.add(once);
    }
  }

  /**
   * Tells the panels showing `topics` to re-read them; each listener runs once however many topics it
   * shares. The selected thread's metadata is read first, so that every panel sees it fresh.
   */
  async changed(...topics: Topic[]): Promise<void> {
    if (topics.includes('selection') || topics.includes('thread')) await this.run(this.#loadThread);
    const due = new Set<Listener>();
    for (const topic of topics) for (const listener of this.#listeners.get(topic) ?? []) due.add(listener);
    await Promise.all([...due].map((listener) => this.run(listener)));
  }

  /** Selects a thread (or none), remembers it in the URL so a reload comes back to it, and re-renders. */
  async select(threadId: string | null, highlightMessageId: number | null = null): Promise<void> {
    this.selectedThreadId = threadId;
    this.highlightMessageId = highlightMessageId;
    this.highlightPending = highlightMessageId !== null;
    const url = new URL(location.href);
    url.hash = threadId ? `thread=${encodeURIComponent(threadId)}` : '';
    history.replaceState(null, '', url);
    await this.changed('selection');
  }

  /** When the selected thread is gone (deleted in another tab, replaced by an import), selects the newest one left. */
  async leaveMissingThread(): Promise<void> {
    const id = this.selectedThreadId;
    if (!id || (await this.store.getThread(id))) return;
    if (this.selectedThreadId !== id) return;
    const first = (await this.store.listThreads({ limit: 1, includeArchived: this.showArchived }))[0];
    await this.select(first?.id ?? null);
  }

  /** Runs a store action and shows any failure instead of throwing; undefined when it failed. */
  async run<T>(action: () => T | Promise<T>): Promise<T | undefined> {
    try {
      return await action();
    } catch (error) {
      this.report(error);
      return undefined;
    }
  }

  /** Shows something worth knowing that is not a failure; it goes away by itself. */
  notice(message: string): void {
    const item = show(this.#toasts, h('li', { class: 'notice', role: 'status' }, h('span', { text: message })));
    setTimeout(() => item.remove(), NOTICE_MS);
  }

  /** Shows a failure with its code; it stays until dismissed. */
  report(error: unknown): void {
    reportError(this.#toasts, error);
  }
}

const NOTICE_MS = 6000;

function show(toasts: HTMLElement, item: HTMLElement): HTMLElement {
  item.append(h('button', { type: 'button', class: 'icon', 'aria-label': 'Dismiss', text: '×', onclick: () => item.remove() }));
  toasts.prepend(item);
  while (toasts.children.length > 5) toasts.lastElementChild?.remove();
  return item;
}

/** Shows a failure in `toasts` with its code; the newest on top, at most five. */
export function reportError(toasts: HTMLElement, error: unknown): void {
  const { code, message } = describeError(error);
  console.warn(`[demo] ${code}: ${message}`, error);
  show(toasts, h('li', { class: 'error', role: 'alert' }, h('strong', { class: 'error-code', text: code }), h('span', { text: message })));
}
