import type { UIMessage } from 'ai';
import { StoreError } from '../core/errors.js';
import type { BranchMessage, MessageRecord } from '../core/types.js';
import * as v from '../core/validate.js';
import { loadChat, savedForm, serialized, toUIMessage, type Awaitable, type ChatStore } from './chat.js';

/** What the versions of a message need of a store, beyond ChatStore: the whole tree, and moving the leaf. */
export interface VersionsChatStore extends ChatStore {
  listThreadMessages(threadId: string, limit?: number): Awaitable<MessageRecord[]>;
  setCurrentLeafId(threadId: string, messageId: number): Awaitable<void>;
}

/**
 * One version of a message: the message itself and its siblings (a regenerated answer, an edited
 * question), as a ‹ index + 1 / count › switcher shows them. An edited message keeps its
 * UIMessage id, so versions are told apart by `storeId`.
 */
export interface MessageVersion<M extends UIMessage = UIMessage> {
  /** The store's id of this version: what switchMessageVersion takes. */
  storeId: number;
  /** Its place among the versions, oldest first (0-based). */
  index: number;
  /** Whether it is the one on the current branch. */
  current: boolean;
  message: M;
}

const WHOLE_TREE = 1_000_000;

/**
 * The versions of the message `messageId` (a UIMessage id on the current branch): itself and its
 * siblings, oldest first. NOT_FOUND if no message of the current branch has that id.
 *
 * @example
 * const versions = await listMessageVersions(store, threadId, message.id); // ‹ 2/3 ›
 */
export async function listMessageVersions<M extends UIMessage = UIMessage>(store: VersionsChatStore, threadId: string, messageId: string): Promise<MessageVersion<M>[]> {
  v.nonEmpty(threadId, 'threadId');
  v.nonEmpty(messageId, 'messageId');
  return serialized(store, threadId, async () => {
    const branch = await store.getBranch(threadId, { limit: WHOLE_TREE });
    const onBranch = [...branch].reverse().find((m) => savedForm(m)?.id === messageId);
    if (!onBranch) throw new StoreError('NOT_FOUND', `no message ${JSON.stringify(messageId)} on the current branch of ${threadId}`, { details: { field: 'messageId' } });
    const tree = new Map((await store.listThreadMessages(threadId, WHOLE_TREE)).map((m) => [m.id, m]));
    return onBranch.siblings.ids.flatMap((id, index) => {
      const record = tree.get(id);
      const saved = record ? savedForm(record) : null;
      if (!record || !saved) return [];
      // Only the branch's own message carries a live status; a sibling is shown as it was saved.
      const shown: BranchMessage = id === onBranch.id ? onBranch : { ...record, status: 'complete', siblings: onBranch.siblings };
      return [{ storeId: id, index, current: id === onBranch.id, message: toUIMessage(shown, saved) as unknown as M }];
    });
  });
}

/**
 * Makes `version` (from listMessageVersions) the current one and returns the chat as the UI then
 * shows it: the branch through that version, down to its newest answer. NOT_FOUND for a version
 * that is not a message of the thread.
 *
 * @example
 * setMessages(await switchMessageVersion(store, threadId, versions[0]));
 */
export async function switchMessageVersion<M extends UIMessage = UIMessage>(store: VersionsChatStore, threadId: string, version: MessageVersion<M> | number): Promise<M[]> {
  v.nonEmpty(threadId, 'threadId');
  const start = v.messageId(typeof version === 'number' ? version : (version as MessageVersion<M>)?.storeId, 'version');
  await serialized(store, threadId, async () => {
    const tree = await store.listThreadMessages(threadId, WHOLE_TREE);
    if (!tree.some((m) => m.id === start)) throw new StoreError('NOT_FOUND', `message ${start} is not in thread ${threadId}`, { details: { field: 'version' } });
    // Down to the newest answer: at each step the latest child (ids grow with time).
    const newestChild = new Map<number, number>();
    for (const m of tree) if (m.parentEntryId !== null) newestChild.set(m.parentEntryId, Math.max(newestChild.get(m.parentEntryId) ?? 0, m.id));
    let leaf = start;
    for (let next = newestChild.get(leaf); next !== undefined; next = newestChild.get(leaf)) leaf = next;
    await store.setCurrentLeafId(threadId, leaf);
  });
  return loadChat<M>(store, threadId);
}
