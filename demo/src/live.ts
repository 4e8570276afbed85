import type { StoreChange } from 'agent-state-store';
import { activeRun } from './agent-run.js';
import type { App, Topic } from './app.js';

/**
 * Live updates: every committed change, from this tab or any other on the same store, reaches
 * `store.subscribe`. Changes are gathered for REFRESH_MS and then each affected panel re-reads once,
 * so a streamed reply (a change every flush) or a running job costs a few reads, not one per change.
 */

/** How long changes are gathered before the panels re-read. */
export const REFRESH_MS = 100;

const EVERYTHING: Topic[] = ['threads', 'thread', 'live', 'goal', 'checkpoints', 'jobs', 'storage', 'tools'];

/** The panels that show what `change` touched; the conversation only cares about its own thread. */
export function topicsOf(change: StoreChange, selectedThreadId: string | null): Topic[] {
  const mine = change.threadId !== null && change.threadId === selectedThreadId;
  switch (change.kind) {
    case 'database':
      return EVERYTHING;
    case 'thread':
      return mine ? ['threads', 'thread', 'storage'] : ['threads', 'storage'];
    case 'sessionIndex':
      return mine || change.threadId === null ? ['threads', 'thread'] : ['threads'];
    case 'message':
      return mine ? ['live'] : [];
    case 'checkpoint':
      return mine ? ['checkpoints'] : [];
    case 'graphCheckpoint':
      return [];
    case 'goal':
      return mine ? ['goal'] : [];
    case 'tools':
      return mine ? ['tools'] : [];
    case 'job':
      return ['jobs'];
    case 'leader':
      return ['storage'];
  }
}

/** Follows the store's changes until the returned function is called. */
export function followChanges(app: App): () => void {
  const due = new Set<Topic>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  async function refresh(): Promise<void> {
    timer = undefined;
    const topics = [...due];
    due.clear();
    // The selected thread may be gone: deleted in another tab, or replaced by an import.
    if (app.selectedThreadId && (topics.includes('threads') || topics.includes('thread')) && !(await app.store.getThread(app.selectedThreadId))) {
      const first = (await app.store.listThreadsPage({ limit: 1, includeArchived: app.showArchived })).items[0];
      await app.select(first?.id ?? null);
    }
    await app.changed(...topics);
  }

  return app.store.subscribe((change) => {
    // This tab draws its own streaming reply from the run; the echo of each delta would only re-read it.
    if (change.kind === 'message' && change.method === 'appendMessageDelta' && change.threadId !== null && activeRun(change.threadId)?.messageId === change.id) return;
    for (const topic of topicsOf(change, app.selectedThreadId)) due.add(topic);
    if (due.size > 0) timer ??= setTimeout(() => void app.run(refresh), REFRESH_MS);
  });
}
