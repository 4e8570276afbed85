/**
 * Baseline 2: sqlite-wasm in a worker with nothing of ours on top. Same engine, same VFS
 * (opfs-sahpool), same pragmas and the same SQL statements as the store, but no validation, no
 * Comlink, no group commit and no row mapping: the floor for the store's own overhead. The same
 * worker also seeds databases (its own and, before they open, the store's), and hosts baseline 4,
 * the seed's session-index lookup that re-reads and parses the whole JSONL file every time.
 */
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import type { Oo1Database, Oo1Statement } from '../../src/driver/oo1.js';
import type { SqlValue } from '../../src/driver/port.js';
import { StateStore } from 'agent-state-store/core';
import { bushyParents, goalFor, messageContent, threadInput } from './data.js';
import { serve } from './rpc.js';

type Sqlite3 = Awaited<ReturnType<typeof sqlite3InitModule>>;
type Row = Record<string, unknown>;

/** How to open: which pool (a store's own, or a bench one), durability, and pragma overrides for experiments. */
export interface RawOpenOptions {
  vfsName: string;
  directory: string;
  durability: 'strict' | 'relaxed';
  /** Run before the schema is created (page_size must be). */
  pre?: string[];
  /** Replace the store's journal_mode/synchronous pragmas. */
  post?: string[];
}

let sqlite3: Sqlite3 | undefined;
let pool: { OpfsSAHPoolDb: new (path: string) => unknown; pauseVfs(): unknown } | undefined;
let db: Oo1Database | undefined;
const statements = new Map<string, Oo1Statement>();

function conn(): Oo1Database {
  if (!db) throw new Error('not open');
  return db;
}

function stmt(sql: string): Oo1Statement {
  let s = statements.get(sql);
  if (!s) {
    s = conn().prepare(sql);
    statements.set(sql, s);
  }
  return s;
}

function all(sql: string, params: SqlValue[] = []): Row[] {
  const s = stmt(sql);
  try {
    if (params.length > 0) s.bind(params);
    const rows: Row[] = [];
    while (s.step()) rows.push(s.get({}));
    return rows;
  } finally {
    s.reset(true);
  }
}

function run(sql: string, params: SqlValue[] = []): void {
  const s = stmt(sql);
  try {
    if (params.length > 0) s.bind(params);
    while (s.step());
  } finally {
    s.reset(true);
  }
}

function tx<T>(fn: () => T): T {
  conn().exec('BEGIN');
  try {
    const out = fn();
    conn().exec('COMMIT');
    return out;
  } catch (error) {
    conn().exec('ROLLBACK');
    throw error;
  }
}

function pragma(sql: string): unknown {
  const rows = all(sql);
  return rows[0] ? Object.values(rows[0])[0] : null;
}

const INSERT_THREAD = `INSERT INTO threads(id, preview, ephemeral, model_provider, created_at, updated_at, status, cwd, cli_version, source, title, archived, archived_at)
  VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)`;
// The store's own statements, verbatim.
const CURRENT_LEAF = 'SELECT current_leaf_id FROM threads WHERE id = ?1';
const INSERT_MESSAGE = `INSERT INTO messages(thread_id, role, content, item_json, created_at, parent_entry_id)
     SELECT ?1, ?2, ?3, ?4, ?5, ?6
     RETURNING id`;
const SET_LEAF = 'UPDATE threads SET current_leaf_id = ?1 WHERE id = ?2';
const COLUMNS = 'id, thread_id, role, content, item_json, created_at, parent_entry_id';
const BRANCH = `WITH RECURSIVE
         leaf_id AS (SELECT current_leaf_id FROM threads WHERE id = ?1),
         ancestors AS (
           SELECT ${COLUMNS}, 0 AS depth
           FROM messages
           WHERE id = (SELECT current_leaf_id FROM leaf_id)
           UNION ALL
           SELECT m.id, m.thread_id, m.role, m.content, m.item_json, m.created_at, m.parent_entry_id, a.depth + 1
           FROM messages m
           JOIN ancestors a ON m.id = a.parent_entry_id
           WHERE a.depth < ?2
         )
       SELECT ${COLUMNS} FROM ancestors ORDER BY depth DESC`;
const LEAVES = `SELECT m1.id, m1.thread_id, m1.role, m1.content, m1.item_json, m1.created_at, m1.parent_entry_id
       FROM messages m1
       LEFT JOIN messages m2 ON m1.id = m2.parent_entry_id
       WHERE m1.thread_id = ?1 AND m2.id IS NULL
       ORDER BY m1.id`;
const THREAD_COLUMNS = `id, rollout_path, preview, ephemeral, model_provider, created_at, updated_at, status, path, cwd,
  cli_version, source, title, sandbox_policy, approval_mode, archived, archived_at,
  git_sha, git_branch, git_origin_url, memory_mode, current_leaf_id`;

function insertThread(id: string, i: number): void {
  const t = threadInput(id, i);
  run(INSERT_THREAD, [t.id, t.preview, t.modelProvider, t.createdAt, t.updatedAt, t.status, t.cwd, t.cliVersion, t.source, t.name, t.archived ? 1 : 0, t.archivedAt]);
}

function insertMessage(threadId: string, i: number, parent: number | null): number {
  const row = all(INSERT_MESSAGE, [threadId, i % 2 ? 'assistant' : 'user', messageContent(i), JSON.stringify({ type: 'message', seq: i }), 1_700_000_000 + Math.floor(i / 10), parent])[0];
  return Number(row?.['id']);
}

let indexFile: { read(b: Uint8Array, o: { at: number }): number; getSize(): number; close(): void } | undefined;
const decoder = new TextDecoder();

interface IndexEntry {
  thread_id: string;
  thread_name: string | null;
  updated_at: number;
  rollout_path: string | null;
}

/** The seed's session_index_map(): read every line, parse it, the last line per id wins. */
function readIndexMap(): Map<string, IndexEntry> {
  if (!indexFile) throw new Error('no index file');
  const bytes = new Uint8Array(indexFile.getSize());
  indexFile.read(bytes, { at: 0 });
  const map = new Map<string, IndexEntry>();
  for (const line of decoder.decode(bytes).split('\n')) {
    if (line.trim() === '') continue;
    const entry = JSON.parse(line) as IndexEntry;
    map.set(entry.thread_id, entry);
  }
  return map;
}

/** The few SqlDriver methods StateStore.open needs to migrate a connection. */
function minimalDriver(): never {
  return {
    exec: (sql: string) => void conn().exec(sql),
    all: (sql: string, params?: SqlValue[]) => all(sql, params ?? []),
    run: (sql: string, params?: SqlValue[]) => {
      run(sql, params ?? []);
      return { changes: Number(conn().changes()) };
    },
    inTransaction: () => sqlite3!.capi.sqlite3_get_autocommit(conn().pointer as number) === 0,
    close: () => {},
  } as never;
}

const foldAscii = (s: string) => s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));

serve({
  async open(options: RawOpenOptions) {
    // Where a cold start goes: engine boot, pool install, database open + schema check.
    const t0 = performance.now();
    sqlite3 ??= await (sqlite3InitModule as unknown as (c: object) => Promise<Sqlite3>)({ print: () => {}, printErr: () => {} });
    const t1 = performance.now();
    pool = (await sqlite3.installOpfsSAHPoolVfs({ name: options.vfsName, directory: options.directory, initialCapacity: 6 } as never)) as unknown as typeof pool;
    await (pool as unknown as { reserveMinimumCapacity(n: number): Promise<number> }).reserveMinimumCapacity(12);
    const t2 = performance.now();
    db = new pool!.OpfsSAHPoolDb('/state.db') as Oo1Database;
    // The store's own settings unless a variant says otherwise: one connection holding the lock, so WAL
    // works without shared memory (and a database the store left in WAL mode can be read at all).
    for (const sql of options.pre ?? ['PRAGMA locking_mode = EXCLUSIVE']) pragma(sql);
    conn().exec('PRAGMA foreign_keys = ON');
    // The schema comes from the store under test: StateStore.open migrates this connection exactly as
    // the store would, so the raw baseline runs on the same tables, indexes and triggers.
    StateStore.open({ db: minimalDriver(), sessionIndex: { read: () => '', append() {}, replace() {} } });
    const post = options.post ?? ['PRAGMA journal_mode = WAL', `PRAGMA synchronous = ${options.durability === 'strict' ? 'FULL' : 'OFF'}`];
    for (const sql of post) pragma(sql);
    const t3 = performance.now();
    return {
      journalMode: pragma('PRAGMA journal_mode'), pageSize: pragma('PRAGMA page_size'), synchronous: pragma('PRAGMA synchronous'),
      engineMs: t1 - t0, poolMs: t2 - t1, openMs: t3 - t2,
    };
  },

  close() {
    for (const s of statements.values()) s.finalize();
    statements.clear();
    db?.close();
    db = undefined;
    indexFile?.close();
    indexFile = undefined;
    // Release the pool's access handles now, not whenever the worker is torn down.
    pool?.pauseVfs();
  },

  addThread(id: string, i: number) {
    insertThread(id, i);
  },

  seedThreads(prefix: string, from: number, to: number) {
    tx(() => {
      for (let i = from; i < to; i++) insertThread(`${prefix}${i}`, i);
    });
  },

  seedChain(threadId: string, depth: number, i: number) {
    tx(() => {
      insertThread(threadId, i);
      let parent: number | null = null;
      for (let k = 0; k < depth; k++) parent = insertMessage(threadId, k, parent);
      run(SET_LEAF, [parent, threadId]);
    });
  },

  seedBushy(threadId: string, count: number, i: number) {
    tx(() => {
      insertThread(threadId, i);
      const ids: number[] = [];
      bushyParents(count).forEach((p, k) => ids.push(insertMessage(threadId, k, p < 0 ? null : ids[p]!)));
      run(SET_LEAF, [ids[ids.length - 1]!, threadId]);
    });
  },

  /** Grows the database to `total` messages spread round-robin over `threads` threads (created on first use). */
  seedGrowth(prefix: string, threads: number, total: number) {
    const have = Number(all('SELECT count(*) AS n FROM messages WHERE thread_id LIKE ?1', [`${prefix}%`])[0]?.['n'] ?? 0);
    if (have === 0) tx(() => { for (let t = 0; t < threads; t++) insertThread(`${prefix}${t}`, t + 1); });
    const leaves = new Map<string, number | null>();
    for (let t = 0; t < threads; t++) leaves.set(`${prefix}${t}`, (all(CURRENT_LEAF, [`${prefix}${t}`])[0]?.['current_leaf_id'] as number | null) ?? null);
    const CHUNK = 50_000;
    for (let start = have; start < total; start += CHUNK) {
      tx(() => {
        for (let i = start; i < Math.min(total, start + CHUNK); i++) {
          const id = `${prefix}${i % threads}`;
          leaves.set(id, insertMessage(id, i, leaves.get(id) ?? null));
        }
        for (const [id, leaf] of leaves) run(SET_LEAF, [leaf, id]);
      });
    }
    return Number(all('SELECT count(*) AS n FROM messages')[0]?.['n'] ?? 0);
  },

  addGoal(threadId: string) {
    const g = goalFor(threadId);
    run('INSERT INTO thread_goals(thread_id, goal_id, objective, status, token_budget, tokens_used, time_used_seconds, continuation_count, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, 0, ?6, ?7)', [
      g.threadId, g.goalId, g.objective, g.status, g.tokenBudget, g.createdAt, g.updatedAt,
    ]);
  },

  appendMessage(threadId: string, role: string, content: string, item: unknown) {
    return tx(() => {
      const leaf = all(CURRENT_LEAF, [threadId])[0];
      if (!leaf) throw new Error(`thread ${threadId} not found`);
      const id = Number(all(INSERT_MESSAGE, [threadId, role, content, JSON.stringify(item), Math.floor(Date.now() / 1000), leaf['current_leaf_id'] as number | null])[0]?.['id']);
      run(SET_LEAF, [id, threadId]);
      return id;
    });
  },

  listMessages(threadId: string, limit: number) {
    return all(BRANCH, [threadId, limit - 1]);
  },

  listThreads(limit: number) {
    return all(`SELECT ${THREAD_COLUMNS} FROM threads WHERE archived = 0 ORDER BY updated_at DESC, rowid DESC LIMIT ?1`, [limit]);
  },

  listLeaves(threadId: string) {
    return all(LEAVES, [threadId]);
  },

  /** The store's full-text search as bare SQL: every word a quoted FTS5 term, best 20 with snippets. */
  search(query: string, limit: number) {
    const match = query.split(/\s+/).filter(Boolean).map((t) => `"${t.replaceAll('"', '""')}"`).join(' ');
    return all(
      `SELECT m.id, m.thread_id, snippet(message_fts, 0, '«', '»', '…', 64) AS snippet, message_fts.rank AS rank
       FROM message_fts JOIN messages m ON m.id = message_fts.rowid
       WHERE message_fts MATCH ?1 ORDER BY message_fts.rank LIMIT ?2`,
      [match, limit],
    );
  },

  upsertJob(job: { id: string; name: string; status: string; progress: number | null; detail: string | null; createdAt: number; updatedAt: number }) {
    tx(() => {
      run('DELETE FROM jobs WHERE id = ?1', [job.id]);
      run('INSERT INTO jobs(id, name, status, progress, detail, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)', [
        job.id, job.name, job.status, job.progress, job.detail, job.createdAt, job.updatedAt,
      ]);
    });
  },

  recordGoalUsage(threadId: string, tokens: number, seconds: number, now: number) {
    return tx(() => {
      run(
        `UPDATE thread_goals
           SET tokens_used = tokens_used + ?2, time_used_seconds = time_used_seconds + ?3, updated_at = MAX(updated_at, ?4)
           WHERE thread_id = ?1`,
        [threadId, tokens, seconds, now],
      );
      return all('SELECT thread_id, goal_id, objective, status, token_budget, tokens_used, time_used_seconds, continuation_count, created_at, updated_at FROM thread_goals WHERE thread_id = ?1', [threadId])[0] ?? null;
    });
  },

  heap() {
    // The C function is exported by the wasm module even where the JS API has no binding for it.
    const used = (sqlite3?.wasm.exports as { sqlite3_memory_used?: () => number | bigint } | undefined)?.sqlite3_memory_used?.();
    return { heapBytes: sqlite3?.wasm.heap8u().byteLength ?? 0, sqliteBytes: used === undefined ? null : Number(used) };
  },

  getThread(id: string) {
    return all(`SELECT ${THREAD_COLUMNS} FROM threads WHERE id = ?1`, [id])[0] ?? null;
  },

  async openIndex(directory: string, file: string) {
    const root = await navigator.storage.getDirectory();
    const dir = await root.getDirectoryHandle(directory, { create: true });
    const handle = await dir.getFileHandle(file, { create: true });
    indexFile = await (handle as unknown as { createSyncAccessHandle(): Promise<typeof indexFile> }).createSyncAccessHandle();
  },

  findByName(name: string) {
    const wanted = foldAscii(name);
    let best: IndexEntry | undefined;
    for (const e of readIndexMap().values()) {
      if (e.thread_name !== null && foldAscii(e.thread_name) === wanted && (!best || e.updated_at > best.updated_at)) best = e;
    }
    return best?.rollout_path ?? null;
  },

  findNamesByIds(ids: string[]) {
    const map = readIndexMap();
    const out: Record<string, string | null> = {};
    for (const id of ids) out[id] = map.get(id)?.thread_name ?? null;
    return out;
  },
});
