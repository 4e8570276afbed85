/**
 * Contender: Dexie 4, written the way a Dexie chat app would be, in its fastest natural form. The
 * messages table is keyed `++id` with the compound index `[threadId+id]` (which also serves
 * `where('threadId')`); an append is one rw transaction (get the thread, add the message under its
 * leaf, put the thread back); the current branch is one query for the thread's rows by that index
 * and a walk up the parent pointers in JS (the fastest of the natural forms: a `get` per step is a
 * round trip per message, and `bulkGet` needs the ids the walk has not found yet); cold start is
 * `new Dexie(name)`, the schema, `open()` and the first query. Two configurations: Dexie's default
 * and `chromeTransactionDurability: 'strict'`. Records have the store's shapes (bench/app/data.ts).
 */
import Dexie, { type EntityTable } from 'dexie';
import { bushyParents, messageContent, threadInput } from './data.js';

/** `default` leaves the browser's transaction durability; `strict` asks Chromium to flush before complete. */
export type DexieDurability = 'default' | 'strict';

interface DexieMessage {
  id: number;
  threadId: string;
  role: string;
  content: string;
  item: unknown;
  createdAt: number;
  parentEntryId: number | null;
  status: 'complete' | 'streaming' | 'failed' | 'cancelled';
}

type DexieThread = ReturnType<typeof threadInput> & { currentLeafId: number | null };

/** A branch message as getBranch answers it: status and the place among its siblings. */
export type DexieBranchMessage = DexieMessage & { siblings: { index: number; count: number; ids: number[] } };

type Db = Dexie & {
  threads: EntityTable<DexieThread, 'id'>;
  messages: EntityTable<DexieMessage, 'id'>;
};

/** The database of one Dexie contender. */
export class DexieContender {
  private constructor(readonly db: Db) {}

  /** `new Dexie(name)`, the schema and `open()`: what a Dexie app does at start. */
  static async open(name: string, durability: DexieDurability): Promise<DexieContender> {
    const db = new Dexie(`dexie-${name}`, durability === 'strict' ? { chromeTransactionDurability: 'strict' } : {}) as Db;
    db.version(1).stores({ threads: 'id, updatedAt', messages: '++id, [threadId+id]' });
    await db.open();
    return new DexieContender(db);
  }

  /** Adds a message under `parentId` (or the thread's current leaf) and makes it the leaf: one rw transaction. */
  addMessage(threadId: string, m: { role: string; content: string; item?: unknown; parentId?: number | null }): Promise<DexieMessage> {
    const { db } = this;
    return db.transaction('rw', db.threads, db.messages, async () => {
      const thread = await db.threads.get(threadId);
      if (!thread) throw new Error(`no thread ${threadId}`);
      const now = Math.floor(Date.now() / 1000);
      const message = {
        threadId, role: m.role, content: m.content, item: m.item ?? null, createdAt: now,
        parentEntryId: m.parentId === undefined ? thread.currentLeafId : m.parentId, status: 'complete' as const,
      };
      const id = await db.messages.add(message as DexieMessage);
      await db.threads.put({ ...thread, currentLeafId: id, updatedAt: now });
      return { ...message, id };
    });
  }

  /** appendMessage's shape: the same transaction, answering the id. */
  async appendMessage(threadId: string, role: string, content: string, item: unknown): Promise<number> {
    return (await this.addMessage(threadId, { role, content, item })).id;
  }

  /** The thread's rows by the compound index, and its leaf, in one read transaction. */
  private async threadRows(threadId: string): Promise<{ thread: DexieThread | undefined; rows: DexieMessage[] }> {
    const { db } = this;
    return db.transaction('r', db.threads, db.messages, async () => {
      const [thread, rows] = await Promise.all([db.threads.get(threadId), db.messages.where('threadId').equals(threadId).toArray()]);
      return { thread, rows };
    });
  }

  private static walk(byId: Map<number, DexieMessage>, leaf: number | null, limit: number): DexieMessage[] {
    const branch: DexieMessage[] = [];
    for (let at = leaf; at !== null && branch.length < limit; ) {
      const m = byId.get(at);
      if (!m) break;
      branch.push(m);
      at = m.parentEntryId;
    }
    return branch.reverse();
  }

  /** listMessages: the current branch, oldest first, at most `limit`. */
  async listMessages(threadId: string, limit: number): Promise<DexieMessage[]> {
    const { thread, rows } = await this.threadRows(threadId);
    return DexieContender.walk(new Map(rows.map((m) => [m.id, m])), thread?.currentLeafId ?? null, limit);
  }

  /** The other natural forms of the walk, for the comparison case: a `get` per step, or the rows by a compound-index range. */
  async listMessagesBy(form: 'get-per-step' | 'compound-range', threadId: string, limit: number): Promise<DexieMessage[]> {
    const { db } = this;
    if (form === 'compound-range') {
      const { thread, rows } = await db.transaction('r', db.threads, db.messages, async () => ({
        thread: await db.threads.get(threadId),
        rows: await db.messages.where('[threadId+id]').between([threadId, Dexie.minKey], [threadId, Dexie.maxKey]).toArray(),
      }));
      return DexieContender.walk(new Map(rows.map((m) => [m.id, m])), thread?.currentLeafId ?? null, limit);
    }
    return db.transaction('r', db.threads, db.messages, async () => {
      const branch: DexieMessage[] = [];
      for (let at = (await db.threads.get(threadId))?.currentLeafId ?? null; at !== null && branch.length < limit; ) {
        const m = await db.messages.get(at);
        if (!m) break;
        branch.push(m);
        at = m.parentEntryId;
      }
      return branch.reverse();
    });
  }

  /** getBranch: the same walk, each message with its siblings (its parent's children in id order). */
  async getBranch(threadId: string, limit: number): Promise<DexieBranchMessage[]> {
    const { thread, rows } = await this.threadRows(threadId);
    const byId = new Map<number, DexieMessage>();
    const children = new Map<number | null, number[]>();
    for (const m of rows) {
      byId.set(m.id, m);
      const list = children.get(m.parentEntryId);
      if (list) list.push(m.id);
      else children.set(m.parentEntryId, [m.id]);
    }
    return DexieContender.walk(byId, thread?.currentLeafId ?? null, limit).map((m) => {
      const ids = children.get(m.parentEntryId) ?? [m.id];
      return { ...m, siblings: { index: ids.indexOf(m.id), count: ids.length, ids } };
    });
  }

  /** The `limit` most recently updated threads that are not archived. */
  listThreads(limit: number): Promise<DexieThread[]> {
    return this.db.threads.orderBy('updatedAt').reverse().filter((t) => !t.archived).limit(limit).toArray();
  }

  // --- seeding, in bulk ---

  /** Adds one thread with no messages. */
  async addThread(id: string, i: number): Promise<void> {
    await this.db.threads.put({ ...threadInput(id, i), currentLeafId: null });
  }

  /** Adds threads `${prefix}${from}` … `${prefix}${to - 1}`. */
  async seedThreads(prefix: string, from: number, to: number): Promise<void> {
    const rows = Array.from({ length: to - from }, (_, k) => ({ ...threadInput(`${prefix}${from + k}`, from + k), currentLeafId: null }));
    await this.db.threads.bulkPut(rows);
  }

  private nextSeedId = 1_000_000_000;

  /** Adds a thread whose messages form a chain of `count` (or with `bushy` a tree), with explicit keys. */
  async seedTree(threadId: string, count: number, i: number, bushy: boolean): Promise<void> {
    const parents = bushy ? bushyParents(count) : Array.from({ length: count }, (_, k) => k - 1);
    const base = this.nextSeedId;
    this.nextSeedId += count;
    const rows: DexieMessage[] = Array.from({ length: count }, (_, k) => ({
      id: base + k, threadId, role: k % 2 ? 'assistant' : 'user', content: messageContent(k), item: { type: 'message', seq: k },
      createdAt: 1_700_000_000 + k, parentEntryId: parents[k]! < 0 ? null : base + parents[k]!, status: 'complete',
    }));
    const { db } = this;
    await db.transaction('rw', db.threads, db.messages, async () => {
      for (let k = 0; k < rows.length; k += 10_000) await db.messages.bulkPut(rows.slice(k, k + 10_000));
      await db.threads.put({ ...threadInput(threadId, i), currentLeafId: count > 0 ? base + count - 1 : null });
    });
  }

  /** Closes the connection. */
  close(): void {
    this.db.close();
  }
}
