import { describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION, StoreError, createMemoryStore } from '../../src/core.js';
import type { MemoryStore, MessageRecord, ThreadMetadata, ThreadStatus, SessionSource } from '../../src/core.js';
import { assertMigrationOrder, migrate, migrations } from '../../src/core/migrate.js';
import type { Migration } from '../../src/core/migrate.js';
import { oo1Driver } from '../../src/driver/oo1.js';
import type { Oo1Database } from '../../src/driver/oo1.js';
import type { SqlDriver } from '../../src/driver/port.js';
import {
  WORKFLOW_TABLES,
  engineForDriver,
  buildLegacyV0,
  buildLegacyWithNegativeVersion,
  buildLegacyWithParentColumn,
  buildNewerThanKnown,
  buildSeedSchemaV4,
  buildV1,
  buildV1WithForeignBranchRuns,
  buildV2,
  buildV2WithContinuationColumn,
  buildV3,
  exportImage,
  legacyRows,
  openImage,
  v3Rows,
  versionedRows,
} from '../fixtures/build-fixtures.js';
import type { FixtureRows, MessageRow, RawDb, ThreadRow } from '../fixtures/build-fixtures.js';

// --- helpers -----------------------------------------------------------------------------------

/** Runs `fn` on a raw connection opened on a copy of `bytes`, and closes it. */
async function withImage<T>(bytes: Uint8Array, fn: (db: RawDb) => T): Promise<T> {
  const db = await openImage(bytes);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** PRAGMA user_version read from a file image by a separate connection. */
function userVersionOf(bytes: Uint8Array): Promise<number> {
  return withImage(bytes, (db) => Number(db.selectValue('PRAGMA user_version')));
}

function countRows(bytes: Uint8Array, table: string, where = '1', bind: (string | number)[] = []): Promise<number> {
  return withImage(bytes, (db) => Number(db.selectValue(`SELECT count(*) FROM ${table} WHERE ${where}`, bind.length > 0 ? bind : undefined)));
}

type SchemaRow = { type: string; name: string; tbl_name: string; sql: string | null };

const SCHEMA_QUERY = 'SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name';

/**
 * sqlite_master exactly: SQLite stores each CREATE statement's text as it was written, and our
 * migrations keep the seed's text byte for byte, indentation included, so the two must be identical.
 */
function schemaOfDb(db: RawDb): SchemaRow[] {
  return db.selectObjects(SCHEMA_QUERY) as SchemaRow[];
}

function schemaOf(bytes: Uint8Array): Promise<SchemaRow[]> {
  return withImage(bytes, schemaOfDb);
}

/**
 * Splits a migrated schema into the seed's objects (which must be byte-identical to the seed's) and
 * the ones our additive migrations 5+ made (which must be new tables, indexes and triggers only).
 */
async function splitSchema(bytes: Uint8Array): Promise<{ seed: SchemaRow[]; ours: SchemaRow[] }> {
  const seedNames = new Set((await schemaOf(await buildSeedSchemaV4())).map((row) => row.name));
  const all = await schemaOf(bytes);
  return { seed: all.filter((row) => seedNames.has(row.name)), ours: all.filter((row) => !seedNames.has(row.name)) };
}

/** Wraps a raw connection in the store's own driver, as StateStore.open would get it. */
async function driverOn(db: RawDb): Promise<SqlDriver> {
  return oo1Driver(await engineForDriver(), db as unknown as Oo1Database);
}

/** The error `fn` throws or rejects with; fails the test if it does not. */
async function errorOf(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure, but the call succeeded');
}

async function expectStoreError(fn: () => unknown, code: string): Promise<StoreError> {
  const error = await errorOf(fn);
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe(code);
  return error as StoreError;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);
}

// --- expectations, computed in TypeScript from the fixture rows ---------------------------------

/**
 * The seed's step-1 back-fill of parent_entry_id: the previous message of the same thread ordered by
 * (created_at, id), or null for the first.
 */
function backfilledParents(messages: readonly MessageRow[]): Map<number, number | null> {
  const parents = new Map<number, number | null>();
  const threads = new Set(messages.map((m) => m.thread_id));
  for (const t of threads) {
    const ordered = messages.filter((m) => m.thread_id === t).sort((a, b) => a.created_at - b.created_at || a.id - b.id);
    ordered.forEach((m, i) => parents.set(m.id, i === 0 ? null : ordered[i - 1]!.id));
  }
  return parents;
}

/** The seed's step-1 back-fill of current_leaf_id: the thread's highest message id, or null. */
function backfilledLeaves(rows: FixtureRows): Map<string, number | null> {
  const leaves = new Map<string, number | null>();
  for (const t of rows.threads) {
    const ids = rows.messages.filter((m) => m.thread_id === t.id).map((m) => m.id);
    leaves.set(t.id, ids.length === 0 ? null : Math.max(...ids));
  }
  return leaves;
}

/** What the tree of a fixture should read as once migrated. */
interface Tree {
  parents: Map<number, number | null>;
  leaves: Map<string, number | null>;
}

function expectedTree(rows: FixtureRows): Tree {
  if (rows.parents && rows.leaves) {
    return {
      parents: new Map(Object.entries(rows.parents).map(([id, p]) => [Number(id), p])),
      leaves: new Map(Object.entries(rows.leaves)),
    };
  }
  return { parents: backfilledParents(rows.messages), leaves: backfilledLeaves(rows) };
}

function expectedThread(row: ThreadRow, currentLeafId: number | null): ThreadMetadata {
  return {
    id: row.id,
    rolloutPath: row.rollout_path,
    preview: row.preview,
    ephemeral: row.ephemeral !== 0,
    modelProvider: row.model_provider,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    status: row.status as ThreadStatus,
    path: row.path,
    cwd: row.cwd,
    cliVersion: row.cli_version,
    source: row.source as SessionSource,
    name: row.title,
    sandboxPolicy: row.sandbox_policy,
    approvalMode: row.approval_mode,
    archived: row.archived !== 0,
    archivedAt: row.archived_at,
    gitSha: row.git_sha,
    gitBranch: row.git_branch,
    gitOriginUrl: row.git_origin_url,
    memoryMode: row.memory_mode,
    currentLeafId,
  };
}

function expectedMessage(row: MessageRow, parentEntryId: number | null): MessageRecord {
  return {
    id: row.id,
    threadId: row.thread_id,
    role: row.role,
    content: row.content,
    item: row.item_json === null ? null : JSON.parse(row.item_json),
    createdAt: row.created_at,
    parentEntryId,
  };
}

/** The branch from the root to `leaf`, oldest first. */
function pathTo(leaf: number | null, parents: Map<number, number | null>): number[] {
  const path: number[] = [];
  for (let id = leaf; id !== null; id = parents.get(id) ?? null) path.push(id);
  return path.reverse();
}

/** Messages of the thread that no message names as its parent, by id. */
function leavesOf(threadId: string, rows: FixtureRows, parents: Map<number, number | null>): number[] {
  const named = new Set([...parents.values()]);
  return rows.messages.filter((m) => m.thread_id === threadId && !named.has(m.id)).map((m) => m.id).sort((a, b) => a - b);
}

// --- the fixtures ------------------------------------------------------------------------------

interface Fixture {
  name: string;
  version: number;
  build: () => Promise<Uint8Array>;
  rows: FixtureRows;
  hasWorkflowRows: boolean;
}

const FIXTURES: Fixture[] = [
  { name: 'a legacy (version 0) database', version: 0, build: buildLegacyV0, rows: legacyRows, hasWorkflowRows: false },
  { name: 'a version 1 database', version: 1, build: buildV1, rows: versionedRows, hasWorkflowRows: false },
  { name: 'a version 2 database', version: 2, build: buildV2, rows: versionedRows, hasWorkflowRows: true },
  { name: 'a version 3 database', version: 3, build: buildV3, rows: v3Rows, hasWorkflowRows: true },
];

async function openFixture(f: Fixture): Promise<{ bytes: Uint8Array; store: MemoryStore }> {
  const bytes = await f.build();
  return { bytes, store: await createMemoryStore({ bytes }) };
}

describe.each(FIXTURES)('$name', (f) => {
  it('is built at the version it claims', async () => {
    expect(await userVersionOf(await f.build())).toBe(f.version);
  });

  it('opens at the latest schema version, and the file says so', async () => {
    const { store } = await openFixture(f);
    expect(store.info().schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    expect(await userVersionOf(store.exportBytes())).toBe(LATEST_SCHEMA_VERSION);
  });

  it('migrates to exactly the schema a fresh seed database has, plus our additions, as a fresh store has them', async () => {
    const { store } = await openFixture(f);
    const { seed } = await splitSchema(store.exportBytes());
    expect(seed).toEqual(await schemaOf(await buildSeedSchemaV4()));
    const fresh = await createMemoryStore();
    expect(await schemaOf(store.exportBytes())).toEqual(await schemaOf(fresh.exportBytes()));
  });

  it('keeps every thread, with its current leaf', async () => {
    const { store } = await openFixture(f);
    const tree = expectedTree(f.rows);
    for (const row of f.rows.threads) {
      expect(store.getThread(row.id), row.id).toEqual(expectedThread(row, tree.leaves.get(row.id) ?? null));
    }
    const all = store.listThreads({ includeArchived: true, limit: 100 }).map((t) => t.id);
    expect([...all].sort()).toEqual(f.rows.threads.map((t) => t.id).sort());
    const unarchived = store.listThreads().map((t) => t.id);
    expect([...unarchived].sort()).toEqual(f.rows.threads.filter((t) => t.archived === 0).map((t) => t.id).sort());
  });

  it('keeps every message, with its parent', async () => {
    const { store } = await openFixture(f);
    const { parents } = expectedTree(f.rows);
    // The API reads a message only through a branch: point the leaf at each one and read a branch of one.
    for (const row of f.rows.messages) {
      store.setCurrentLeafId(row.thread_id, row.id);
      expect(store.listMessages(row.thread_id, 1), `message ${row.id}`).toEqual([expectedMessage(row, parents.get(row.id) ?? null)]);
    }
  });

  it('reads each thread\'s current branch and leaves from the migrated tree', async () => {
    const { store } = await openFixture(f);
    const { parents, leaves } = expectedTree(f.rows);
    for (const t of f.rows.threads) {
      const branch = pathTo(leaves.get(t.id) ?? null, parents);
      expect(store.listMessages(t.id).map((m) => m.id), `branch of ${t.id}`).toEqual(branch);
      expect(store.listLeafMessages(t.id).map((m) => m.id), `leaves of ${t.id}`).toEqual(leavesOf(t.id, f.rows, parents));
    }
  });

  it('keeps checkpoints, jobs and dynamic tools', async () => {
    const { store } = await openFixture(f);
    for (const c of f.rows.checkpoints) {
      expect(store.loadCheckpoint(c.thread_id, c.checkpoint_id)).toEqual({
        threadId: c.thread_id,
        checkpointId: c.checkpoint_id,
        state: JSON.parse(c.state_json),
        createdAt: c.created_at,
      });
    }
    for (const t of f.rows.threads) {
      const own = f.rows.checkpoints.filter((c) => c.thread_id === t.id).sort((a, b) => b.created_at - a.created_at);
      expect(store.listCheckpoints(t.id).map((c) => c.checkpointId), t.id).toEqual(own.map((c) => c.checkpoint_id));
      expect(store.loadCheckpoint(t.id)?.checkpointId ?? null, t.id).toBe(own[0]?.checkpoint_id ?? null);
      expect(store.getDynamicTools(t.id), t.id).toEqual(
        f.rows.tools
          .filter((x) => x.thread_id === t.id)
          .sort((a, b) => a.position - b.position)
          .map((x) => ({ position: x.position, name: x.name, description: x.description, inputSchema: JSON.parse(x.input_schema) })),
      );
    }
    for (const j of f.rows.jobs) {
      expect(store.getJob(j.id)).toEqual({
        id: j.id,
        name: j.name,
        status: j.status,
        progress: j.progress,
        detail: j.detail,
        createdAt: j.created_at,
        updatedAt: j.updated_at,
      });
    }
    expect(store.listJobs().map((j) => j.id)).toEqual([...f.rows.jobs].sort((a, b) => b.updated_at - a.updated_at).map((j) => j.id));
  });

  it('keeps thread goals, with a continuation count of 0', async () => {
    const { store } = await openFixture(f);
    for (const t of f.rows.threads) {
      const g = f.rows.goals?.find((x) => x.thread_id === t.id);
      expect(store.getThreadGoal(t.id), t.id).toEqual(
        g === undefined
          ? null
          : {
              threadId: g.thread_id,
              goalId: g.goal_id,
              objective: g.objective,
              status: g.status,
              tokenBudget: g.token_budget,
              tokensUsed: g.tokens_used,
              timeUsedSeconds: g.time_used_seconds,
              continuationCount: 0,
              createdAt: g.created_at,
              updatedAt: g.updated_at,
            },
      );
    }
    // The migrated goal table takes the newest columns.
    expect(store.recordThreadGoalContinuation('t-alpha', 5000)?.continuationCount ?? null).toBe(f.rows.goals ? 1 : null);
  });

  it('keeps the workflow trace rows it had', async () => {
    const { store } = await openFixture(f);
    const bytes = store.exportBytes();
    for (const table of WORKFLOW_TABLES) expect(await countRows(bytes, table), table).toBe(f.hasWorkflowRows ? 1 : 0);
  });

  it('never reuses a deleted message id, and appends under the current leaf', async () => {
    const { store } = await openFixture(f);
    const leaf = expectedTree(f.rows).leaves.get('t-alpha') ?? null;
    const id = store.appendMessage('t-alpha', 'user', 'after the upgrade');
    expect(id).toBe(f.rows.messageSequence + 1);
    expect(store.listMessages('t-alpha', 2).map((m) => [m.id, m.parentEntryId])).toEqual([
      [leaf, expectedTree(f.rows).parents.get(leaf!) ?? null],
      [id, leaf],
    ]);
  });
});

describe('the legacy back-fill', () => {
  it('has a fixture with same-second ties and timestamps out of id order in one thread', () => {
    // Guards the tests below against a fixture that could not tell (created_at, id) from id order.
    const alpha = legacyRows.messages.filter((m) => m.thread_id === 't-alpha');
    const byId = [...alpha].sort((a, b) => a.id - b.id).map((m) => m.id);
    const byTime = [...alpha].sort((a, b) => a.created_at - b.created_at || a.id - b.id).map((m) => m.id);
    expect(byTime).not.toEqual(byId);
    expect(new Set(alpha.map((m) => m.created_at)).size).toBeLessThan(alpha.length);
    expect(byTime[byTime.length - 1]).not.toBe(Math.max(...byId));
  });

  it('links each message to the previous one of its thread by (created_at, id)', async () => {
    const store = await createMemoryStore({ bytes: await buildLegacyV0() });
    const parents = backfilledParents(legacyRows.messages);
    const seen = new Map<number, number | null>();
    for (const t of legacyRows.threads) {
      for (const m of legacyRows.messages.filter((x) => x.thread_id === t.id)) {
        store.setCurrentLeafId(t.id, m.id);
        seen.set(m.id, store.listMessages(t.id, 1)[0]?.parentEntryId ?? null);
      }
    }
    expect(seen).toEqual(parents);
    // Spelled out for the trickiest thread, so a reader can check it by hand.
    expect([1, 2, 5, 12, 4, 7].map((id) => parents.get(id))).toEqual([null, 1, 2, 5, 12, 4]);
  });

  it('sets each thread\'s current leaf to its highest message id, even where that is not the newest', async () => {
    const store = await createMemoryStore({ bytes: await buildLegacyV0() });
    const leaves = backfilledLeaves(legacyRows);
    for (const t of legacyRows.threads) expect(store.getThread(t.id)?.currentLeafId, t.id).toBe(leaves.get(t.id));
    expect(leaves.get('t-alpha')).toBe(12);
    expect(leaves.get('t-gamma')).toBe(13);
    expect(leaves.get('t-empty')).toBe(null);
  });

  it('lists each thread\'s branch from the back-filled leaf and its leaves from the back-filled links', async () => {
    const store = await createMemoryStore({ bytes: await buildLegacyV0() });
    const parents = backfilledParents(legacyRows.messages);
    const leaves = backfilledLeaves(legacyRows);
    for (const t of legacyRows.threads) {
      expect(store.listMessages(t.id).map((m) => m.id), t.id).toEqual(pathTo(leaves.get(t.id) ?? null, parents));
      expect(store.listLeafMessages(t.id).map((m) => m.id), t.id).toEqual(leavesOf(t.id, legacyRows, parents));
    }
    expect(store.listMessages('t-alpha').map((m) => m.id)).toEqual([1, 2, 5, 12]);
    expect(store.listLeafMessages('t-alpha').map((m) => m.id)).toEqual([7]);
    expect(store.listMessages('t-gamma').map((m) => m.id)).toEqual([13]);
    expect(store.listLeafMessages('t-gamma').map((m) => m.id)).toEqual([9]);
  });
});

describe('each migration step is one transaction', () => {
  it('refuses a legacy database whose step 1 fails, with MIGRATION_FAILED, and leaves the bytes alone', async () => {
    const bytes = await buildLegacyWithParentColumn();
    const copy = bytes.slice();
    const first = await expectStoreError(() => createMemoryStore({ bytes }), 'MIGRATION_FAILED');
    expect(first.details).toEqual({ version: 1 });
    expect(sameBytes(bytes, copy)).toBe(true);
    const second = await expectStoreError(() => createMemoryStore({ bytes }), 'MIGRATION_FAILED');
    expect(second.message).toBe(first.message);
  });

  it('rolls back everything step 1 did before it failed, and stays at version 0', async () => {
    const db = await openImage(await buildLegacyWithParentColumn());
    const driver = await driverOn(db);
    try {
      const before = schemaOfDb(db);
      const error = await expectStoreError(() => migrate(driver), 'MIGRATION_FAILED');
      expect(error.details).toEqual({ version: 1 });
      expect(driver.inTransaction()).toBe(false);
      expect(db.selectValue('PRAGMA user_version')).toBe(0);
      // Step 1 creates jobs and its index before its first ALTER fails.
      expect(db.selectValue("SELECT count(*) FROM sqlite_master WHERE name IN ('jobs', 'idx_jobs_updated_at')")).toBe(0);
      expect(schemaOfDb(db)).toEqual(before);
      expect(db.selectValue('SELECT count(*) FROM messages WHERE parent_entry_id IS NOT NULL')).toBe(0);
    } finally {
      driver.close();
    }
  });

  it('keeps step 1 and rolls back step 2 when step 2 fails, at version 1', async () => {
    const db = await openImage(await buildV1WithForeignBranchRuns());
    const driver = await driverOn(db);
    try {
      const before = schemaOfDb(db);
      const error = await expectStoreError(() => migrate(driver), 'MIGRATION_FAILED');
      expect(error.details).toEqual({ version: 2 });
      expect(driver.inTransaction()).toBe(false);
      expect(db.selectValue('PRAGMA user_version')).toBe(1);
      // workflow_runs and its two indexes come before the failing index on branch_runs(branch_id).
      expect(db.selectValue("SELECT count(*) FROM sqlite_master WHERE tbl_name = 'workflow_runs'")).toBe(0);
      expect(schemaOfDb(db)).toEqual(before);
    } finally {
      driver.close();
    }
  });

  it('commits step 3 and rolls back step 4 when step 4 fails, at version 3', async () => {
    const db = await openImage(await buildV2WithContinuationColumn());
    const driver = await driverOn(db);
    try {
      const goalsBefore = db.selectValue("SELECT sql FROM sqlite_master WHERE name = 'thread_goals'");
      const error = await expectStoreError(() => migrate(driver), 'MIGRATION_FAILED');
      expect(error.details).toEqual({ version: 4 });
      expect(driver.inTransaction()).toBe(false);
      expect(db.selectValue('PRAGMA user_version')).toBe(3);
      expect(db.selectValue("SELECT sql FROM sqlite_master WHERE name = 'thread_goals'")).toBe(goalsBefore);
      expect(db.selectObjects('SELECT thread_id, goal_id, continuation_count FROM thread_goals')).toEqual([
        { thread_id: 't-alpha', goal_id: 'odd', continuation_count: 7 },
      ]);
    } finally {
      driver.close();
    }
  });

  it('rolls back a failing later step whole, after the earlier ones committed', async () => {
    const broken: Migration = {
      version: migrations.length + 1,
      name: 'half done',
      sql: 'CREATE TABLE half_done (a INTEGER); INSERT INTO half_done VALUES (1); SELECT * FROM no_such_table;',
    };
    const db = await openImage();
    const driver = await driverOn(db);
    try {
      const error = await expectStoreError(() => migrate(driver, [...migrations, broken]), 'MIGRATION_FAILED');
      expect(error.details).toEqual({ version: broken.version });
      expect(db.selectValue('PRAGMA user_version')).toBe(migrations.length);
      expect(db.selectValue("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'")).toBe(0);
      expect(driver.inTransaction()).toBe(false);
    } finally {
      driver.close();
    }
  });
});

describe('a database newer than this code', () => {
  it('is refused with SCHEMA_TOO_NEW and both versions in the details', async () => {
    const bytes = await buildNewerThanKnown();
    const copy = bytes.slice();
    const error = await expectStoreError(() => createMemoryStore({ bytes }), 'SCHEMA_TOO_NEW');
    expect(error.details).toEqual({ databaseVersion: 99, supportedVersion: LATEST_SCHEMA_VERSION });
    expect(sameBytes(bytes, copy)).toBe(true);
  });

  it('is not modified by migrate()', async () => {
    const db = await openImage(await buildNewerThanKnown());
    const driver = await driverOn(db);
    try {
      const before = await exportImage(db);
      await expectStoreError(() => migrate(driver), 'SCHEMA_TOO_NEW');
      expect(sameBytes(await exportImage(db), before)).toBe(true);
      expect(db.selectValue('PRAGMA user_version')).toBe(99);
      expect(driver.inTransaction()).toBe(false);
    } finally {
      driver.close();
    }
  });
});

describe('a database with a negative user_version', () => {
  // SQLite stores user_version as a signed 32-bit integer. The Rust store reads it as u32 and fails;
  // a port that slices its migration list by it would run only the last steps and skip step 1.
  it('is refused, not half-migrated', async () => {
    const bytes = await buildLegacyWithNegativeVersion(-3);
    // Today it opens "at version 4" with steps 2–4 applied and step 1 skipped (no parent_entry_id).
    expect(await errorOf(() => createMemoryStore({ bytes }))).toBeInstanceOf(StoreError);
  });

  it('is not modified by migrate()', async () => {
    const db = await openImage(await buildLegacyWithNegativeVersion(-3));
    const driver = await driverOn(db);
    try {
      const before = await exportImage(db);
      expect(await errorOf(() => migrate(driver))).toBeInstanceOf(StoreError);
      expect(sameBytes(await exportImage(db), before)).toBe(true);
      expect(db.selectValue('PRAGMA user_version')).toBe(-3);
    } finally {
      driver.close();
    }
  });
});

describe('foreign keys on a migrated database', () => {
  it('deleting a thread of a migrated legacy database removes its messages, checkpoints and tools', async () => {
    const store = await createMemoryStore({ bytes: await buildLegacyV0() });
    store.deleteThread('t-alpha');
    expect(store.getThread('t-alpha')).toBeNull();
    expect(store.listMessages('t-alpha')).toEqual([]);
    expect(store.listLeafMessages('t-alpha')).toEqual([]);
    expect(store.listCheckpoints('t-alpha')).toEqual([]);
    expect(store.getDynamicTools('t-alpha')).toEqual([]);
    const bytes = store.exportBytes();
    for (const table of ['messages', 'checkpoints', 'thread_dynamic_tools']) {
      expect(await countRows(bytes, table, 'thread_id = ?', ['t-alpha']), table).toBe(0);
    }
    // The other threads keep theirs.
    expect(await countRows(bytes, 'messages')).toBe(legacyRows.messages.filter((m) => m.thread_id !== 't-alpha').length);
    expect(store.getDynamicTools('t-beta')).toHaveLength(1);
  });

  it('deleting a thread of a migrated version 3 database removes its goal', async () => {
    const store = await createMemoryStore({ bytes: await buildV3() });
    store.deleteThread('t-alpha');
    expect(store.getThreadGoal('t-alpha')).toBeNull();
    expect(await countRows(store.exportBytes(), 'thread_goals', 'thread_id = ?', ['t-alpha'])).toBe(0);
    expect(store.getThreadGoal('t-beta')).not.toBeNull();
  });
});

describe('a fresh database', () => {
  it('gets exactly the schema of the seed\'s four steps run literally, plus new tables, indexes and triggers only', async () => {
    const store = await createMemoryStore();
    const { seed, ours } = await splitSchema(store.exportBytes());
    expect(seed).toEqual(await schemaOf(await buildSeedSchemaV4()));
    for (const row of ours) {
      // A PRIMARY KEY or UNIQUE constraint's automatic index has no SQL of its own.
      if (row.sql === null && row.name.startsWith('sqlite_autoindex_')) continue;
      // FTS5's shadow tables (message_fts_data, …) are plain CREATE TABLEs it makes itself.
      expect(row.sql ?? '', row.name).toMatch(/^CREATE (VIRTUAL TABLE|TABLE|INDEX|TRIGGER) /);
      expect(row.sql ?? '', row.name).not.toMatch(/\bALTER\b|\bDROP\b/i);
    }
    expect(ours.map((row) => row.name)).toEqual(
      expect.arrayContaining(['message_fts', 'message_status', 'idx_threads_page', 'message_fts_after_insert', 'graph_checkpoints', 'graph_checkpoint_writes', 'graph_checkpoints_after_thread_delete']),
    );
    expect(await userVersionOf(store.exportBytes())).toBe(LATEST_SCHEMA_VERSION);
  });
});

describe('assertMigrationOrder', () => {
  const step = (version: number): Migration => ({ version, name: `step ${version}`, sql: 'SELECT 1' });

  it('accepts the shipped list, which starts at 1 and has no gap', () => {
    expect(() => assertMigrationOrder(migrations)).not.toThrow();
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
  });

  it('rejects a list with a gap', async () => {
    await expectStoreError(() => assertMigrationOrder([step(1), step(2), step(4)]), 'MIGRATION_FAILED');
  });

  it('rejects a list in the wrong order', async () => {
    await expectStoreError(() => assertMigrationOrder([step(2), step(1)]), 'MIGRATION_FAILED');
  });

  it('rejects a list that repeats or does not start at 1', async () => {
    await expectStoreError(() => assertMigrationOrder([step(1), step(1)]), 'MIGRATION_FAILED');
    await expectStoreError(() => assertMigrationOrder([step(0), step(1)]), 'MIGRATION_FAILED');
  });

  it('makes migrate() refuse a bad list before writing anything', async () => {
    const db = await openImage();
    const driver = await driverOn(db);
    try {
      await expectStoreError(() => migrate(driver, [step(1), step(3)]), 'MIGRATION_FAILED');
      expect(db.selectValue('PRAGMA user_version')).toBe(0);
      expect(db.selectValue('SELECT count(*) FROM sqlite_master')).toBe(0);
    } finally {
      driver.close();
    }
  });
});
