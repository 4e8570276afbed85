import { describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION, createMemoryStore } from '../../src/core.js';
import type { MemoryStore, MessageRecord } from '../../src/core.js';
import { toMessage } from '../../src/core/messages.js';
import { oo1Driver } from '../../src/driver/oo1.js';
import type { Oo1Database } from '../../src/driver/oo1.js';
import { engineForDriver, exportImage, openImage } from '../fixtures/build-fixtures.js';
import type { RawDb } from '../fixtures/build-fixtures.js';
import { mulberry32 } from '../support/random.js';

/**
 * The current branch is read by walking the thread's parent links in JS (messages.ts, walkBranch),
 * not by the seed's recursive query. These tests hold the walk to the seed's query itself, run on the
 * same file: on random trees, on rows another program wrote in shapes this store never writes, and on
 * a file that does not have the walk's index yet.
 */

// The seed's query, verbatim in substance: the recursive walk from current_leaf_id, nearest `limit`.
const SEED_BRANCH = `WITH RECURSIVE
  leaf_id AS (SELECT current_leaf_id FROM threads WHERE id = ?1),
  ancestors AS (
    SELECT id, thread_id, role, content, item_json, created_at, parent_entry_id, 0 AS depth
    FROM messages WHERE id = (SELECT current_leaf_id FROM leaf_id)
    UNION ALL
    SELECT m.id, m.thread_id, m.role, m.content, m.item_json, m.created_at, m.parent_entry_id, a.depth + 1
    FROM messages m JOIN ancestors a ON m.id = a.parent_entry_id
    WHERE a.depth < ?2
  )
  SELECT id, thread_id, role, content, item_json, created_at, parent_entry_id FROM ancestors ORDER BY depth DESC`;

/** The seed's answer for a thread of the file `bytes`, through the store's own row mapper. */
async function seedBranch(bytes: Uint8Array, threadId: string, limit: number): Promise<MessageRecord[]> {
  const db = await openImage(bytes);
  try {
    return oo1Driver(await engineForDriver(), db as unknown as Oo1Database).all(SEED_BRANCH, [threadId, limit - 1]).map(toMessage);
  } finally {
    db.close();
  }
}

/** Each message's siblings as the app layer defines them: same thread, same parent, ids ascending. */
async function siblingsOf(bytes: Uint8Array, threadId: string, branch: readonly MessageRecord[]): Promise<number[][]> {
  const db = await openImage(bytes);
  try {
    return branch.map((m) =>
      (db.selectValues('SELECT id FROM messages WHERE thread_id = ?1 AND parent_entry_id IS ?2 ORDER BY id', [threadId, m.parentEntryId]) as number[]).map(Number),
    );
  } finally {
    db.close();
  }
}

/** Edits a copy of `bytes` with raw SQL, as a program that knows nothing of this store would. */
async function edited(bytes: Uint8Array, sql: (db: RawDb) => void): Promise<Uint8Array> {
  const db = await openImage(bytes);
  try {
    sql(db);
    return await exportImage(db);
  } finally {
    db.close();
  }
}

const thread = (id: string) => ({
  id, preview: '', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: 1, status: 'idle' as const, cwd: '/', cliVersion: '1', source: 'api' as const,
});

/** Expects listMessages and getBranch of every thread, at every limit, to be the seed query's answer. */
async function expectSeedAnswers(store: MemoryStore, threads: readonly string[], limits: readonly number[]): Promise<void> {
  const bytes = store.exportBytes();
  for (const t of threads) {
    for (const limit of limits) {
      const expected = await seedBranch(bytes, t, limit);
      expect(store.listMessages(t, limit), `listMessages(${t}, ${limit})`).toEqual(expected);
      const branch = store.getBranch(t, { limit });
      expect(branch.map(({ status: _s, siblings: _p, ...m }) => m), `getBranch(${t}, ${limit})`).toEqual(expected);
      const siblings = await siblingsOf(bytes, t, expected);
      expect(branch.map((m) => m.siblings.ids), `getBranch(${t}, ${limit}) siblings`).toEqual(siblings.map((ids, i) => (ids.length > 0 ? ids : [expected[i]!.id])));
    }
  }
}

describe('the branch walk', () => {
  it('gives the seed query\'s answer on random trees, at every leaf move and limit', async () => {
    const random = mulberry32(1313);
    const store = await createMemoryStore();
    const threads = ['a', 'b', 'c'];
    for (const t of threads) store.upsertThread(thread(t));
    const ids: Record<string, number[]> = { a: [], b: [], c: [] };
    for (let step = 0; step < 400; step++) {
      const t = threads[Math.floor(random() * threads.length)]!;
      const own = ids[t]!;
      const roll = random();
      if (own.length === 0 || roll < 0.5) own.push(store.appendMessage(t, step % 2 ? 'assistant' : 'user', `m${step}`, { step }));
      else if (roll < 0.8) own.push(store.forkAtMessage(own[Math.floor(random() * own.length)]!, 'user', `fork ${step}`));
      else if (roll < 0.95) store.setCurrentLeafId(t, own[Math.floor(random() * own.length)]!);
      else own.push(store.addMessage(t, { role: 'user', content: `root ${step}`, parentId: null }).id);
    }
    await expectSeedAnswers(store, threads, [1, 2, 7, 500]);
  });

  it('reads rows another program inserted without knowing the index', async () => {
    const store = await createMemoryStore();
    store.upsertThread(thread('t'));
    const first = store.appendMessage('t', 'user', 'ours');
    const bytes = await edited(store.exportBytes(), (db) => {
      db.exec({ sql: "INSERT INTO messages(id, thread_id, role, content, item_json, created_at, parent_entry_id) VALUES (500, 't', 'assistant', 'theirs', NULL, 2, ?1)", bind: [first] });
      db.exec("INSERT INTO messages(id, thread_id, role, content, item_json, created_at, parent_entry_id) VALUES (501, 't', 'user', 'theirs too', '{\"k\":1}', 3, 500)");
      db.exec("UPDATE threads SET current_leaf_id = 501 WHERE id = 't'");
    });
    const reopened = await createMemoryStore({ bytes });
    expect(reopened.listMessages('t').map((m) => m.id)).toEqual([first, 500, 501]);
    await expectSeedAnswers(reopened, ['t'], [2, 500]);
  });

  it('gives the seed query\'s answer where the walk leaves the thread, dangles, loops or meets a value JSON cannot hold', async () => {
    const store = await createMemoryStore();
    for (const t of ['home', 'away', 'dangling', 'loop', 'foreign-leaf', 'text-parent', 'blob']) store.upsertThread(thread(t));
    const home = [store.appendMessage('home', 'user', 'h1'), store.appendMessage('home', 'assistant', 'h2')];
    const bytes = await edited(store.exportBytes(), (db) => {
      const add = (id: number, t: string, parent: unknown, content: unknown = `c${id}`) =>
        db.exec({ sql: 'INSERT INTO messages(id, thread_id, role, content, item_json, created_at, parent_entry_id) VALUES (?1, ?2, ?3, ?4, NULL, 5, ?5)', bind: [id, t, 'user', content, parent] as never });
      // A parent in another thread: the seed's walk follows it there.
      add(100, 'away', home[1]);
      add(101, 'away', 100);
      // A parent that does not exist: the walk ends there.
      add(200, 'dangling', 999_999);
      add(201, 'dangling', 200);
      // Two messages that name each other: the walk goes round until the limit.
      add(300, 'loop', null);
      add(301, 'loop', 300);
      db.exec('UPDATE messages SET parent_entry_id = 301 WHERE id = 300');
      // A parent that is not a number at all.
      add(400, 'text-parent', 'not an id');
      add(401, 'text-parent', 400);
      // A BLOB where the text should be.
      add(500, 'blob', null, new Uint8Array([1, 2, 3]));
      add(501, 'blob', 500);
      // A status on a walked branch and on one the seed's query reads.
      db.exec(`INSERT INTO message_status(message_id, status, updated_at) VALUES (${home[0]}, 'failed', 1), (101, 'interrupted', 1)`);
      db.exec(`UPDATE threads SET current_leaf_id = CASE id
        WHEN 'away' THEN 101 WHEN 'dangling' THEN 201 WHEN 'loop' THEN 301 WHEN 'text-parent' THEN 401 WHEN 'blob' THEN 501
        WHEN 'foreign-leaf' THEN ${home[1]} ELSE current_leaf_id END`);
    });
    const reopened = await createMemoryStore({ bytes });
    expect(reopened.listMessages('away').map((m) => m.id)).toEqual([...home, 100, 101]);
    expect(reopened.listMessages('loop', 5).map((m) => m.id)).toEqual([301, 300, 301, 300, 301]);
    expect(reopened.getBranch('home').map((m) => m.status)).toEqual(['failed', 'complete']);
    expect(reopened.getBranch('away').map((m) => m.status)).toEqual(['failed', 'complete', 'complete', 'interrupted']);
    await expectSeedAnswers(reopened, ['home', 'away', 'dangling', 'loop', 'foreign-leaf', 'text-parent', 'blob'], [1, 3, 500]);
  });

  it('finds each message\'s siblings in the covering index, not in the table', async () => {
    const store = await createMemoryStore();
    const db = await openImage(store.exportBytes());
    try {
      const detail = db
        .selectObjects("EXPLAIN QUERY PLAN SELECT json_group_array(c.id) FROM messages c WHERE c.thread_id = 't' AND c.parent_entry_id IS 5")
        .map((r) => String(r['detail']));
      expect(detail.join('\n')).toMatch(/USING COVERING INDEX idx_messages_thread_parent/);
    } finally {
      db.close();
    }
  });
});

describe('the branch walk index (migration 9)', () => {
  it('is added to a file at version 8 that does not have it, and the branch reads the same', async () => {
    const store = await createMemoryStore();
    store.upsertThread(thread('t'));
    const a = store.appendMessage('t', 'user', 'a');
    store.appendMessage('t', 'assistant', 'b');
    store.forkAtMessage(a, 'assistant', 'b2');
    const before = store.getBranch('t');
    const v8 = await edited(store.exportBytes(), (db) => {
      db.exec('DROP INDEX idx_messages_thread_parent; PRAGMA user_version = 8;');
    });
    const db = await openImage(v8);
    expect(db.selectValue("SELECT count(*) FROM sqlite_master WHERE name = 'idx_messages_thread_parent'")).toBe(0);
    db.close();
    const reopened = await createMemoryStore({ bytes: v8 });
    expect(reopened.getBranch('t')).toEqual(before);
    const after = await openImage(reopened.exportBytes());
    try {
      expect(after.selectValue("SELECT sql FROM sqlite_master WHERE name = 'idx_messages_thread_parent'")).toMatch(/ON messages\(thread_id, parent_entry_id\)/);
      expect(Number(after.selectValue('PRAGMA user_version'))).toBe(LATEST_SCHEMA_VERSION);
    } finally {
      after.close();
    }
  });
});
