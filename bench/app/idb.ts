/**
 * Baseline 3: the same data in IndexedDB, written the way an IndexedDB app would: one readwrite
 * transaction per operation with the durability asked for, `threads` and `messages` object stores
 * with a threadId index, and a branch read as getAll by threadId followed by a walk up the parents in JS.
 */
import { bushyParents, goalFor, messageContent, threadInput } from './data.js';

type Durability = 'strict' | 'relaxed';

interface IdbMessage {
  id?: number;
  threadId: string;
  role: string;
  content: string;
  item: unknown;
  createdAt: number;
  parentEntryId: number | null;
}

type IdbThread = ReturnType<typeof threadInput> & { currentLeafId: number | null };

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}

function result<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** An IndexedDB database laid out like the store's tables. */
export class IdbContender {
  private constructor(private readonly db: IDBDatabase) {}

  /** Opens (creating) the database `name`. */
  static async open(name: string): Promise<IdbContender> {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore('threads', { keyPath: 'id' }).createIndex('updatedAt', 'updatedAt');
      db.createObjectStore('messages', { keyPath: 'id', autoIncrement: true }).createIndex('threadId', 'threadId');
      db.createObjectStore('jobs', { keyPath: 'id' });
      db.createObjectStore('goals', { keyPath: 'threadId' });
    };
    return new IdbContender(await result(request));
  }

  /** Reads the thread's leaf, adds the message under it and moves the leaf, in one transaction. */
  async appendMessage(threadId: string, role: string, content: string, item: unknown, durability: Durability): Promise<number> {
    const tx = this.db.transaction(['threads', 'messages'], 'readwrite', { durability });
    const threads = tx.objectStore('threads');
    let id = 0;
    const get = threads.get(threadId);
    get.onsuccess = () => {
      const thread = get.result as IdbThread | undefined;
      if (!thread) return tx.abort();
      const message: IdbMessage = { threadId, role, content, item, createdAt: Math.floor(Date.now() / 1000), parentEntryId: thread.currentLeafId };
      const add = tx.objectStore('messages').add(message);
      add.onsuccess = () => {
        id = add.result as number;
        threads.put({ ...thread, currentLeafId: id });
      };
    };
    await done(tx);
    return id;
  }

  /** The current branch, oldest first, at most `limit` messages: getAll by thread, then walk parents. */
  async listMessages(threadId: string, limit: number): Promise<IdbMessage[]> {
    const tx = this.db.transaction(['threads', 'messages'], 'readonly');
    const [thread, all] = await Promise.all([
      result(tx.objectStore('threads').get(threadId)) as Promise<IdbThread | undefined>,
      result(tx.objectStore('messages').index('threadId').getAll(threadId)) as Promise<IdbMessage[]>,
    ]);
    const byId = new Map(all.map((m) => [m.id!, m]));
    const branch: IdbMessage[] = [];
    for (let at = thread?.currentLeafId ?? null; at !== null && branch.length < limit; ) {
      const m = byId.get(at);
      if (!m) break;
      branch.push(m);
      at = m.parentEntryId;
    }
    return branch.reverse();
  }

  /** The `limit` most recently updated threads that are not archived, walking the updatedAt index backwards. */
  async listThreads(limit: number): Promise<IdbThread[]> {
    const tx = this.db.transaction('threads', 'readonly');
    const out: IdbThread[] = [];
    const cursor = tx.objectStore('threads').index('updatedAt').openCursor(null, 'prev');
    await new Promise<void>((resolve, reject) => {
      cursor.onerror = () => reject(cursor.error);
      cursor.onsuccess = () => {
        const c = cursor.result;
        if (!c) return resolve();
        const t = c.value as IdbThread;
        if (!t.archived) out.push(t);
        if (out.length >= limit) return resolve();
        c.continue();
      };
    });
    return out;
  }

  /** Search the way an IndexedDB app without an index does (big-AGI froze on this at 1,000 chats): read every message, keep those containing every word. */
  async searchScan(query: string, limit: number): Promise<IdbMessage[]> {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const tx = this.db.transaction('messages', 'readonly');
    const all = (await result(tx.objectStore('messages').getAll())) as IdbMessage[];
    const hits: IdbMessage[] = [];
    for (const m of all) {
      const text = m.content.toLowerCase();
      if (words.every((w) => text.includes(w))) hits.push(m);
      if (hits.length === limit) break;
    }
    return hits;
  }

  /** Messages of a thread that no message names as its parent, in id order. */
  async listLeaves(threadId: string): Promise<IdbMessage[]> {
    const tx = this.db.transaction('messages', 'readonly');
    const all = (await result(tx.objectStore('messages').index('threadId').getAll(threadId))) as IdbMessage[];
    const parents = new Set(all.map((m) => m.parentEntryId));
    return all.filter((m) => !parents.has(m.id!)).sort((a, b) => a.id! - b.id!);
  }

  /** One thread by key. */
  async getThread(id: string): Promise<IdbThread | undefined> {
    return (await result(this.db.transaction('threads', 'readonly').objectStore('threads').get(id))) as IdbThread | undefined;
  }

  /** Puts a job record. */
  async upsertJob(job: object, durability: Durability): Promise<void> {
    const tx = this.db.transaction('jobs', 'readwrite', { durability });
    tx.objectStore('jobs').put(job);
    await done(tx);
  }

  /** Adds usage to a goal: get, add, put, in one transaction. */
  async recordGoalUsage(threadId: string, tokens: number, seconds: number, now: number, durability: Durability): Promise<unknown> {
    const tx = this.db.transaction('goals', 'readwrite', { durability });
    const goals = tx.objectStore('goals');
    let updated: unknown = null;
    const get = goals.get(threadId);
    get.onsuccess = () => {
      const g = get.result as ReturnType<typeof goalFor> | undefined;
      if (!g) return;
      updated = { ...g, tokensUsed: g.tokensUsed + tokens, timeUsedSeconds: g.timeUsedSeconds + seconds, updatedAt: Math.max(g.updatedAt, now) };
      goals.put(updated);
    };
    await done(tx);
    return updated;
  }

  // --- seeding, in large relaxed transactions ---

  /** Adds threads `${prefix}${from}` … `${prefix}${to - 1}`. */
  async seedThreads(prefix: string, from: number, to: number): Promise<void> {
    const tx = this.db.transaction('threads', 'readwrite', { durability: 'relaxed' });
    for (let i = from; i < to; i++) tx.objectStore('threads').put({ ...threadInput(`${prefix}${i}`, i), currentLeafId: null });
    await done(tx);
  }

  private nextSeedId = 1_000_000_000;

  /**
   * Adds a thread whose messages form one chain of `count`, or with `bushy` a tree of that many. Keys
   * are given explicitly so that parents are known without a round trip per message; the key
   * generator moves past them, so later appends still get fresh keys.
   */
  async seedTree(threadId: string, count: number, i: number, bushy: boolean): Promise<void> {
    const tx = this.db.transaction(['threads', 'messages'], 'readwrite', { durability: 'relaxed' });
    const messages = tx.objectStore('messages');
    const parents = bushy ? bushyParents(count) : Array.from({ length: count }, (_, k) => k - 1);
    const base = this.nextSeedId;
    this.nextSeedId += count;
    for (let k = 0; k < count; k++) {
      const message: IdbMessage = {
        id: base + k, threadId, role: k % 2 ? 'assistant' : 'user', content: messageContent(k), item: { type: 'message', seq: k },
        createdAt: 1_700_000_000 + k, parentEntryId: parents[k]! < 0 ? null : base + parents[k]!,
      };
      messages.put(message);
    }
    tx.objectStore('threads').put({ ...threadInput(threadId, i), currentLeafId: count > 0 ? base + count - 1 : null });
    await done(tx);
  }

  /** Adds one thread, with a goal if asked. */
  async addThread(id: string, i: number, withGoal = false): Promise<void> {
    const tx = this.db.transaction(['threads', 'goals'], 'readwrite');
    tx.objectStore('threads').put({ ...threadInput(id, i), currentLeafId: null });
    if (withGoal) tx.objectStore('goals').put(goalFor(id));
    await done(tx);
  }

  /** Closes the connection. */
  close(): void {
    this.db.close();
  }
}
