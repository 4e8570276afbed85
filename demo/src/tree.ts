import type { MessageRecord, StateStoreClient } from 'agent-state-store';

/**
 * The message tree of one thread, as far as the branch switcher needs it: the current branch from
 * listMessages, and every message of every branch from listThreadMessages (which reads the whole
 * tree without moving the current leaf), grouped by parent.
 */

/** What the conversation view needs: the current branch and, per message, its siblings. */
export interface MessageTree {
  branch: MessageRecord[];
  /** Messages with the same parent as `message` (itself included), oldest first. */
  siblingsOf(message: MessageRecord): MessageRecord[];
  /** The newest leaf below (or at) `messageId`: where switching to that sibling lands. */
  newestLeafUnder(messageId: number): number;
}

/** Reads the current branch and the whole tree of a thread. */
export async function loadTree(store: StateStoreClient, threadId: string): Promise<MessageTree> {
  const [branch, all] = await Promise.all([store.listMessages(threadId), store.listThreadMessages(threadId)]);
  const children = new Map<number | null, MessageRecord[]>();
  for (const m of all) {
    const list = children.get(m.parentEntryId) ?? [];
    list.push(m);
    children.set(m.parentEntryId, list);
  }
  return {
    branch,
    siblingsOf: (message) => children.get(message.parentEntryId) ?? [message],
    newestLeafUnder(messageId) {
      let newest = messageId;
      const stack = [messageId];
      while (stack.length > 0) {
        const id = stack.pop()!;
        const below = children.get(id) ?? [];
        if (below.length === 0) newest = Math.max(newest, id);
        for (const child of below) stack.push(child.id);
      }
      return newest;
    },
  };
}
