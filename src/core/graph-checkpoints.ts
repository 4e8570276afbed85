import type { SqlDriver, SqlRow, SqlValue } from '../driver/port.js';
import { channelValuesOf, deleteChannelRows, putChannelRows, validateChannelValues, validateChannelVersions, type GraphChannelValue } from './graph-channels.js';
import type { Migration } from './migrate.js';
import { num, str, strOrNull } from './rows.js';
import type { JsonValue } from './types.js';
import * as v from './validate.js';

/**
 * LangGraph checkpoints, as the `agent-state-store/langgraph` saver writes them: one checkpoint per
 * graph step, with its metadata, and the pending writes of the tasks that ran from it. Checkpoints and
 * written values are the saver's serialized bytes, kept as BLOBs beside their serializer's type tag;
 * metadata is JSON, so that a listing filters on it in SQL.
 */

/**
 * Migration 8 (additive: two new tables and a trigger). There is no foreign key to `threads`: a
 * graph's thread id need not be a store thread. But when a store thread is deleted (deleteThread,
 * pruneThreads) its graph checkpoints go with it, through the trigger, in the same transaction.
 */
export const graphCheckpointsMigration: Migration = {
  version: 8,
  name: 'langgraph checkpoints',
  sql: `
CREATE TABLE graph_checkpoints (
  thread_id TEXT NOT NULL,
  checkpoint_ns TEXT NOT NULL DEFAULT '',
  checkpoint_id TEXT NOT NULL,
  parent_checkpoint_id TEXT,
  type TEXT NOT NULL,
  checkpoint BLOB NOT NULL,
  metadata TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
);
CREATE TABLE graph_checkpoint_writes (
  thread_id TEXT NOT NULL,
  checkpoint_ns TEXT NOT NULL DEFAULT '',
  checkpoint_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  channel TEXT NOT NULL,
  type TEXT NOT NULL,
  value BLOB NOT NULL,
  task_path TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
);
CREATE TRIGGER graph_checkpoints_after_thread_delete AFTER DELETE ON threads BEGIN
  DELETE FROM graph_checkpoint_writes WHERE thread_id = old.id;
  DELETE FROM graph_checkpoints WHERE thread_id = old.id;
END;
`,
};

/** A checkpoint to store. `namespace` is "" for the root graph (the default), a subgraph's path otherwise. */
export interface GraphCheckpointInput {
  threadId: string;
  namespace?: string;
  checkpointId: string;
  /** The checkpoint this one follows; null (or absent) for the first. */
  parentCheckpointId?: string | null;
  /** The serializer's type tag for `checkpoint` ("json", "bytes", …). */
  type: string;
  checkpoint: Uint8Array;
  /** A JSON object; listings filter on its top-level keys. */
  metadata: { [key: string]: JsonValue };
  /**
   * The version of each channel whose value this checkpoint holds outside its bytes (channel →
   * version text). Given, the checkpoint's values are read from the stored channel values these
   * name; absent, the checkpoint holds its values itself (stored whole).
   */
  channelVersions?: { [channel: string]: string };
  /** The values of the channels whose version is new at this checkpoint; a version already stored is not written again. */
  channelValues?: GraphChannelValue[];
}

/** One pending write of a task, as stored. */
export interface GraphWrite {
  /** Its position among the task's writes; negative for LangGraph's special writes (error, interrupt, …). */
  idx: number;
  channel: string;
  /** The serializer's type tag for `value`. */
  type: string;
  value: Uint8Array;
}

/** A stored pending write with the task that made it. */
export interface GraphWriteRecord extends GraphWrite {
  taskId: string;
  /** The task's path ("" when none was given), the first key LangGraph replays writes by. */
  taskPath: string;
}

/** A stored checkpoint with its pending writes. */
export interface GraphCheckpointRecord {
  threadId: string;
  namespace: string;
  checkpointId: string;
  parentCheckpointId: string | null;
  type: string;
  checkpoint: Uint8Array;
  metadata: { [key: string]: JsonValue };
  /** When it was stored, in Unix seconds. */
  createdAt: number;
  /** Its pending writes, in the order LangGraph replays them: task path, task id, idx. */
  writes: GraphWriteRecord[];
  /** The stored channel values its channelVersions name, by channel; [] for a checkpoint stored whole. */
  channelValues: GraphChannelValue[];
}

/** Which checkpoint getGraphCheckpoint reads: by id, or without one the thread's latest in the namespace. */
export interface GraphCheckpointKey {
  threadId: string;
  namespace?: string;
  checkpointId?: string | null;
}

/** Whose writes putGraphWrites stores. */
export interface GraphWritesTarget {
  threadId: string;
  namespace?: string;
  checkpointId: string;
  taskId: string;
  taskPath?: string;
}

/** What listGraphCheckpoints lists; every criterion given must hold. */
export interface GraphCheckpointListOptions {
  /** One thread; all threads when absent. */
  threadId?: string;
  /** One namespace; all when absent. */
  namespace?: string;
  /** Only this checkpoint id. */
  checkpointId?: string;
  /** Only checkpoints whose id sorts before this one (LangGraph's ids sort by time). */
  before?: string;
  /** At most this many; all when absent. */
  limit?: number;
  /**
   * Only checkpoints after this one in the listing's order (newest first; ties by thread, then
   * namespace): pass the last record of a page to get the next page.
   */
  after?: { threadId: string; namespace: string; checkpointId: string };
  /** Top-level metadata keys and the JSON value each must have. */
  filter?: { [key: string]: JsonValue };
}

const COLUMNS = 'thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata, created_at';
const WRITE_COLUMNS = 'task_id, idx, channel, type, value, task_path';

/** A checkpoint ready to store: the record's own fields, its metadata serialized. */
type ValidCheckpoint = Omit<GraphCheckpointRecord, 'metadata' | 'createdAt' | 'writes' | 'channelValues'> & {
  metadataJson: string;
  channelVersions: Record<string, string> | null;
  channelValues: GraphChannelValue[];
};

const optionalNamespace = (value: unknown, field: string): string => (value === undefined ? '' : v.text(value, field));

/** A JSON object: metadata and filters. */
function jsonObject(value: unknown, field: string): string {
  v.record(value, field);
  return v.json(value, field);
}

/** Checks a checkpoint to store; nothing is written when this throws. */
export function validateGraphCheckpoint(input: GraphCheckpointInput): ValidCheckpoint {
  const c = v.record(input, 'checkpoint');
  const parent = c['parentCheckpointId'];
  return {
    threadId: v.nonEmpty(c['threadId'], 'checkpoint.threadId'),
    namespace: optionalNamespace(c['namespace'], 'checkpoint.namespace'),
    checkpointId: v.nonEmpty(c['checkpointId'], 'checkpoint.checkpointId'),
    parentCheckpointId: parent === undefined || parent === null ? null : v.nonEmpty(parent, 'checkpoint.parentCheckpointId'),
    type: v.nonEmpty(c['type'], 'checkpoint.type'),
    checkpoint: v.bytes(c['checkpoint'], 'checkpoint.checkpoint'),
    metadataJson: jsonObject(c['metadata'], 'checkpoint.metadata'),
    channelVersions: c['channelVersions'] === undefined ? null : validateChannelVersions(c['channelVersions'], 'checkpoint.channelVersions'),
    channelValues: c['channelValues'] === undefined ? [] : validateChannelValues(c['channelValues'], 'checkpoint.channelValues'),
  };
}

/** Checks getGraphCheckpoint's key. */
export function validateGraphKey(key: GraphCheckpointKey): { threadId: string; namespace: string; checkpointId: string | null } {
  const k = v.record(key, 'key');
  const id = k['checkpointId'];
  return {
    threadId: v.nonEmpty(k['threadId'], 'key.threadId'),
    namespace: optionalNamespace(k['namespace'], 'key.namespace'),
    checkpointId: id === undefined || id === null ? null : v.nonEmpty(id, 'key.checkpointId'),
  };
}

/** Checks putGraphWrites' arguments. */
export function validateGraphWrites(target: GraphWritesTarget, writes: GraphWrite[]): { target: Required<GraphWritesTarget>; writes: GraphWrite[] } {
  const t = v.record(target, 'target');
  return {
    target: {
      threadId: v.nonEmpty(t['threadId'], 'target.threadId'),
      namespace: optionalNamespace(t['namespace'], 'target.namespace'),
      checkpointId: v.nonEmpty(t['checkpointId'], 'target.checkpointId'),
      taskId: v.nonEmpty(t['taskId'], 'target.taskId'),
      taskPath: optionalNamespace(t['taskPath'], 'target.taskPath'),
    },
    writes: v.list(writes, 'writes').map((item, i) => {
      const w = v.record(item, `writes[${i}]`);
      return {
        idx: v.integer(w['idx'], `writes[${i}].idx`),
        channel: v.text(w['channel'], `writes[${i}].channel`),
        type: v.nonEmpty(w['type'], `writes[${i}].type`),
        value: v.bytes(w['value'], `writes[${i}].value`),
      };
    }),
  };
}

/** The SQL condition and parameters of a listing, built from the criteria given. */
interface ListQuery {
  where: string[];
  params: SqlValue[];
  limit: number;
}

/**
 * How one metadata value must look in `json_each` to equal `value`: strings and numbers by type and
 * SQL value, true, false and null by type, objects and arrays by their JSON text (key order counts).
 */
function metadataMatch(value: JsonValue, bind: (value: SqlValue) => string): string {
  if (value === null) return "type = 'null'";
  if (value === true) return "type = 'true'";
  if (value === false) return "type = 'false'";
  if (typeof value === 'string') return `type = 'text' AND atom = ${bind(value)}`;
  if (typeof value === 'number') return `type IN ('integer', 'real') AND atom = ${bind(value)}`;
  return `type = '${Array.isArray(value) ? 'array' : 'object'}' AND value = ${bind(JSON.stringify(value))}`;
}

/** Checks listGraphCheckpoints' options and turns them into bound SQL conditions. */
export function validateGraphList(options: GraphCheckpointListOptions | undefined): ListQuery {
  const o = options === undefined ? {} : v.record(options, 'options');
  const query: ListQuery = { where: [], params: [], limit: -1 };
  const bind = (value: SqlValue): string => {
    query.params.push(value);
    return `?${query.params.length}`;
  };
  if (o['threadId'] !== undefined) query.where.push(`thread_id = ${bind(v.nonEmpty(o['threadId'], 'options.threadId'))}`);
  if (o['namespace'] !== undefined) query.where.push(`checkpoint_ns = ${bind(v.text(o['namespace'], 'options.namespace'))}`);
  if (o['checkpointId'] !== undefined) query.where.push(`checkpoint_id = ${bind(v.nonEmpty(o['checkpointId'], 'options.checkpointId'))}`);
  if (o['before'] !== undefined) query.where.push(`checkpoint_id < ${bind(v.nonEmpty(o['before'], 'options.before'))}`);
  if (o['after'] !== undefined) {
    const a = v.record(o['after'], 'options.after');
    const [id, thread, ns] = [
      bind(v.nonEmpty(a['checkpointId'], 'options.after.checkpointId')),
      bind(v.nonEmpty(a['threadId'], 'options.after.threadId')),
      bind(v.text(a['namespace'], 'options.after.namespace')),
    ];
    // The first term is a range an index can seek to; the second breaks ties on the id.
    query.where.push(`checkpoint_id <= ${id} AND (checkpoint_id < ${id} OR thread_id > ${thread} OR (thread_id = ${thread} AND checkpoint_ns > ${ns}))`);
  }
  if (o['filter'] !== undefined) {
    jsonObject(o['filter'], 'options.filter');
    for (const [key, value] of Object.entries(o['filter'] as Record<string, JsonValue>)) {
      query.where.push(`EXISTS (SELECT 1 FROM json_each(metadata) WHERE key = ${bind(key)} AND ${metadataMatch(value, bind)})`);
    }
  }
  if (o['limit'] !== undefined) query.limit = v.limit(o['limit'], 'options.limit', 0);
  return query;
}

function toWrite(row: SqlRow): GraphWriteRecord {
  return {
    taskId: str(row['task_id']),
    idx: num(row['idx']),
    channel: str(row['channel']),
    type: str(row['type']),
    value: blob(row['value']),
    taskPath: str(row['task_path']),
  };
}

/** A BLOB column; an empty blob may come back as null from some engines. */
function blob(value: SqlValue | undefined): Uint8Array {
  return value instanceof Uint8Array ? value : new Uint8Array(0);
}

function writesOf(db: SqlDriver, threadId: string, namespace: string, checkpointId: string): GraphWriteRecord[] {
  return db
    .all(
      `SELECT ${WRITE_COLUMNS} FROM graph_checkpoint_writes WHERE thread_id = ?1 AND checkpoint_ns = ?2 AND checkpoint_id = ?3 ORDER BY task_path, task_id, idx`,
      [threadId, namespace, checkpointId],
    )
    .map(toWrite);
}

/** Maps a `graph_checkpoints` row, with its writes. */
function toRecord(db: SqlDriver, row: SqlRow): GraphCheckpointRecord {
  const threadId = str(row['thread_id']);
  const namespace = str(row['checkpoint_ns']);
  const checkpointId = str(row['checkpoint_id']);
  return {
    threadId,
    namespace,
    checkpointId,
    parentCheckpointId: strOrNull(row['parent_checkpoint_id']),
    type: str(row['type']),
    checkpoint: blob(row['checkpoint']),
    metadata: (v.parseStoredJson(row['metadata']) ?? {}) as { [key: string]: JsonValue },
    createdAt: num(row['created_at']),
    writes: writesOf(db, threadId, namespace, checkpointId),
    channelValues: channelValuesOf(db, threadId, namespace, checkpointId),
  };
}

/** Stores a checkpoint, replacing one with the same key (its writes stay). */
export function putGraphCheckpointRow(db: SqlDriver, c: ValidCheckpoint, now: number): void {
  db.run(`INSERT OR REPLACE INTO graph_checkpoints(${COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)`, [
    c.threadId,
    c.namespace,
    c.checkpointId,
    c.parentCheckpointId,
    c.type,
    c.checkpoint,
    c.metadataJson,
    now,
  ]);
  putChannelRows(db, c, c.channelVersions, c.channelValues);
}

/** One checkpoint by id, or the latest (the greatest id) when `checkpointId` is null. */
export function getGraphCheckpointRow(db: SqlDriver, threadId: string, namespace: string, checkpointId: string | null): GraphCheckpointRecord | null {
  const row =
    checkpointId === null
      ? db.all(`SELECT ${COLUMNS} FROM graph_checkpoints WHERE thread_id = ?1 AND checkpoint_ns = ?2 ORDER BY checkpoint_id DESC LIMIT 1`, [threadId, namespace])[0]
      : db.all(`SELECT ${COLUMNS} FROM graph_checkpoints WHERE thread_id = ?1 AND checkpoint_ns = ?2 AND checkpoint_id = ?3`, [threadId, namespace, checkpointId])[0];
  return row ? toRecord(db, row) : null;
}

/**
 * Checkpoints that meet every criterion, newest (greatest id) first. The page's keys are picked
 * first and only their rows read: a sort never carries the checkpoints' bytes, so a page of a long
 * history costs the page, not the history.
 */
export function listGraphCheckpointRows(db: SqlDriver, query: ListQuery): GraphCheckpointRecord[] {
  const where = query.where.length > 0 ? ` WHERE ${query.where.join(' AND ')}` : '';
  const limit = `?${query.params.length + 1}`;
  const keys = db.all(
    `SELECT thread_id, checkpoint_ns, checkpoint_id FROM graph_checkpoints${where} ORDER BY checkpoint_id DESC, thread_id, checkpoint_ns LIMIT ${limit}`,
    [...query.params, query.limit],
  );
  return keys.map((key) => {
    const row = db.all(`SELECT ${COLUMNS} FROM graph_checkpoints WHERE thread_id = ?1 AND checkpoint_ns = ?2 AND checkpoint_id = ?3`, [
      key['thread_id'] ?? null, key['checkpoint_ns'] ?? null, key['checkpoint_id'] ?? null,
    ])[0]!;
    return toRecord(db, row);
  });
}

/**
 * Stores a task's writes. A write at a (task, idx) that is already stored is kept, so a task's
 * writes replayed after a crash do not change; a special write (negative idx: an error, an
 * interrupt) replaces the earlier one, as LangGraph expects.
 */
export function putGraphWriteRows(db: SqlDriver, t: Required<GraphWritesTarget>, writes: readonly GraphWrite[]): void {
  for (const w of writes) {
    db.run(
      `INSERT OR ${w.idx < 0 ? 'REPLACE' : 'IGNORE'} INTO graph_checkpoint_writes(thread_id, checkpoint_ns, checkpoint_id, ${WRITE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
      [t.threadId, t.namespace, t.checkpointId, t.taskId, w.idx, w.channel, w.type, w.value, t.taskPath],
    );
  }
}

/** Deletes a thread's checkpoints and writes in every namespace. */
export function deleteGraphThreadRows(db: SqlDriver, threadId: string): void {
  deleteChannelRows(db, threadId);
  db.run('DELETE FROM graph_checkpoint_writes WHERE thread_id = ?1', [threadId]);
  db.run('DELETE FROM graph_checkpoints WHERE thread_id = ?1', [threadId]);
}
