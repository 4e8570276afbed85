import type { StoreChange } from 'agent-state-store';
import type { App, Topic } from './app.js';

/**
 * The side panels follow the store's change feed (`subscribe`): the live queries cover the thread
 * list and the conversation, not jobs, goals, checkpoints, tools, storage or who leads. Changes are
 * gathered for REFRESH_MS and then each affected panel re-reads once, so a running job or a streamed
 * reply that charges the goal costs a few reads, not one per change.
 */

/** How long changes are gathered before the panels re-read. */
export const REFRESH_MS = 100;

const EVERYTHING: Topic[] = ['thread', 'goal', 'checkpoints', 'jobs', 'storage', 'tools'];

/** The side panels that show what `change` touched; most only care about the selected thread. */
export function topicsOf(change: StoreChange, selectedThreadId: string | null): Topic[] {
  const mine = change.threadId !== null && change.threadId === selectedThreadId;
  switch (change.kind) {
    case 'database':
      return EVERYTHING;
    case 'thread':
      return mine ? ['thread', 'storage'] : ['storage'];
    case 'sessionIndex':
      return mine || change.threadId === null ? ['thread'] : [];
    case 'message':
      // A new message can name the thread (its first user message) and moves its updatedAt; a delta does neither.
      return mine && change.method !== 'appendMessageDelta' ? ['thread'] : [];
    case 'checkpoint':
      return mine ? ['checkpoints'] : [];
    case 'goal':
      return mine ? ['goal'] : [];
    case 'tools':
      return mine ? ['tools'] : [];
    case 'job':
      return ['jobs'];
    case 'leader':
    case 'sync':
      // The storage panel shows info(), which carries who leads and the sync status.
      return ['storage'];
    case 'graphCheckpoint':
    case 'graphStore':
      // LangGraph's checkpoints and long-term memory have no panel here.
      return [];
  }
}

/** Follows the store's changes for the side panels until the returned function is called. */
export function followSideChanges(app: App): () => void {
  const due = new Set<Topic>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  async function refresh(): Promise<void> {
    timer = undefined;
    const topics = [...due];
    due.clear();
    if (topics.includes('thread')) await app.leaveMissingThread();
    await app.changed(...topics);
  }

  return app.store.subscribe((change) => {
    for (const topic of topicsOf(change, app.selectedThreadId)) due.add(topic);
    if (due.size > 0) timer ??= setTimeout(() => void app.run(refresh), REFRESH_MS);
  });
}
