import type { StateStoreClient } from 'agent-state-store';

/**
 * Where switching to another branch lands: the newest leaf below a message. getBranch says where a
 * message stands among its siblings, but not what grows below them, so a switch (or opening a search
 * hit on another branch) reads the thread's whole tree once, without moving the current leaf.
 */
export async function newestLeafUnder(store: StateStoreClient, threadId: string, messageId: number): Promise<number> {
  const children = new Map<number | null, number[]>();
  for (const m of await store.listThreadMessages(threadId)) {
    const list = children.get(m.parentEntryId) ?? [];
    list.push(m.id);
    children.set(m.parentEntryId, list);
  }
  let newest = messageId;
  const stack = [messageId];
  while (stack.length > 0) {
    const id = stack.pop()!;
    const below = children.get(id) ?? [];
    if (below.length === 0) newest = Math.max(newest, id);
    stack.push(...below);
  }
  return newest;
}
