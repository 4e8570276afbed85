import type { SqlDriver, SqlRow } from '../driver/port.js';
import { StoreError } from './errors.js';
import type { Migration } from './migrate.js';
import { str } from './rows.js';
import * as v from './validate.js';

/**
 * LangGraph channel values stored once per channel version, as LangGraph's Postgres saver stores
 * them (its checkpoint_blobs): a checkpoint names the version of each channel it holds, and a value
 * is written only when its version is new. History then grows with what changed at each step, not
 * with the whole state. Checkpoints stored before this (migration 8 alone) keep their values inside
 * the checkpoint and name no versions; both read the same.
 */

/**
 * Migration 11 (additive: two new tables, an index and a trigger). `graph_channel_values` holds one
 * value per (thread, namespace, channel, version), or with `base_version` only what it adds to the
 * value at that version (a list that grew); `graph_checkpoint_versions` holds, per checkpoint, the
 * JSON object channel → version of the values it names. The index serves a thread's history newest
 * first across namespaces. Deleting a store thread deletes both tables' rows, as it deletes the
 * graph's checkpoints. Native SQLite 3.40 runs it (json_each is built in since 3.38).
 */
export const graphChannelsMigration: Migration = {
  version: 11,
  name: 'langgraph channel values by version',
  sql: `
CREATE TABLE IF NOT EXISTS graph_channel_values (
  thread_id TEXT NOT NULL,
  checkpoint_ns TEXT NOT NULL DEFAULT '',
  channel TEXT NOT NULL,
  version TEXT NOT NULL,
  type TEXT NOT NULL,
  value BLOB NOT NULL,
  base_version TEXT,
  PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
);
CREATE TABLE IF NOT EXISTS graph_checkpoint_versions (
  thread_id TEXT NOT NULL,
  checkpoint_ns TEXT NOT NULL DEFAULT '',
  checkpoint_id TEXT NOT NULL,
  versions TEXT NOT NULL,
  PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
);
CREATE INDEX IF NOT EXISTS idx_graph_checkpoints_thread_newest ON graph_checkpoints(thread_id, checkpoint_id DESC, checkpoint_ns);
CREATE TRIGGER IF NOT EXISTS graph_channels_after_thread_delete AFTER DELETE ON threads BEGIN
  DELETE FROM graph_checkpoint_versions WHERE thread_id = old.id;
  DELETE FROM graph_channel_values WHERE thread_id = old.id;
END;
`,
};

/** One channel's value at one version: the saver's serialized bytes and their type tag ("empty" for a channel with no value). */
export interface GraphChannelValue {
  channel: string;
  /** The version, as text (the saver writes LangGraph's version as JSON). */
  version: string;
  type: string;
  value: Uint8Array;
  /**
   * The version whose value this one extends, or null (absent) for a whole value. A reader gets the
   * whole chain, the whole value first, and folds it.
   */
  base?: string | null;
}

/** Which checkpoints pruneGraphCheckpoints keeps. */
export interface PruneGraphOptions {
  threadId: string;
  /** One namespace; every namespace of the thread when absent (each keeps its own latest). */
  namespace?: string;
  /** How many of the newest checkpoints to keep per namespace: a positive integer. */
  keepLatest: number;
}

/** What pruneGraphCheckpoints deleted. */
export interface PruneGraphResult {
  deletedCheckpoints: number;
  /** Channel values no kept checkpoint names any more. */
  deletedValues: number;
}

/** Checks a checkpoint's channel versions (channel → version text). */
export function validateChannelVersions(value: unknown, field: string): Record<string, string> {
  const versions = v.record(value, field);
  const out: Record<string, string> = {};
  for (const [channel, version] of Object.entries(versions)) out[v.text(channel, `${field} key`)] = v.nonEmpty(version, `${field}.${channel}`);
  return out;
}

/** Checks the channel values stored with a checkpoint. */
export function validateChannelValues(value: unknown, field: string): GraphChannelValue[] {
  return v.list(value, field).map((item, i) => {
    const c = v.record(item, `${field}[${i}]`);
    return {
      channel: v.text(c['channel'], `${field}[${i}].channel`),
      version: v.nonEmpty(c['version'], `${field}[${i}].version`),
      type: v.nonEmpty(c['type'], `${field}[${i}].type`),
      value: v.bytes(c['value'], `${field}[${i}].value`),
      base: c['base'] === undefined || c['base'] === null ? null : v.nonEmpty(c['base'], `${field}[${i}].base`),
    };
  });
}

/**
 * Stores what a checkpoint names: its versions (replacing those stored under its key, or removing
 * them for a checkpoint that names none) and the values new to this thread and namespace. A value
 * already stored at its version is kept: a version is never written twice.
 */
export function putChannelRows(
  db: SqlDriver,
  key: { threadId: string; namespace: string; checkpointId: string },
  versions: Record<string, string> | null,
  values: readonly GraphChannelValue[],
): void {
  const { threadId, namespace, checkpointId } = key;
  if (versions === null) {
    db.run('DELETE FROM graph_checkpoint_versions WHERE thread_id = ?1 AND checkpoint_ns = ?2 AND checkpoint_id = ?3', [threadId, namespace, checkpointId]);
  } else {
    db.run('INSERT OR REPLACE INTO graph_checkpoint_versions(thread_id, checkpoint_ns, checkpoint_id, versions) VALUES (?1, ?2, ?3, ?4)', [
      threadId, namespace, checkpointId, JSON.stringify(versions),
    ]);
  }
  for (const c of values) {
    db.run(
      'INSERT OR IGNORE INTO graph_channel_values(thread_id, checkpoint_ns, channel, version, type, value, base_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)',
      [threadId, namespace, c.channel, c.version, c.type, c.value, c.base ?? null],
    );
  }
}

function toValue(row: SqlRow): GraphChannelValue {
  const value = row['value'];
  const base = row['base_version'];
  return {
    channel: str(row['channel']),
    version: str(row['version']),
    type: str(row['type']),
    value: value instanceof Uint8Array ? value : new Uint8Array(0),
    base: typeof base === 'string' ? base : null,
  };
}

/**
 * The stored values a checkpoint names, by channel, each channel's chain whole value first: a value
 * that extends another (base_version) brings the one it extends, back to a whole value. A version
 * whose value is not stored is left out.
 */
export function channelValuesOf(db: SqlDriver, threadId: string, namespace: string, checkpointId: string): GraphChannelValue[] {
  return db
    .all(
      // CROSS JOIN keeps the join order: each step looks a value up by its whole key, never scans the thread's values.
      `WITH RECURSIVE chain(channel, version, type, value, base, depth) AS (
         SELECT b.channel, b.version, b.type, b.value, b.base_version, 0
         FROM graph_checkpoint_versions v CROSS JOIN json_each(v.versions) j CROSS JOIN graph_channel_values b
         WHERE v.thread_id = ?1 AND v.checkpoint_ns = ?2 AND v.checkpoint_id = ?3
           AND b.thread_id = ?1 AND b.checkpoint_ns = ?2 AND b.channel = j.key AND b.version = j.value
         UNION ALL
         SELECT b.channel, b.version, b.type, b.value, b.base_version, c.depth + 1
         FROM chain c CROSS JOIN graph_channel_values b
         WHERE c.base IS NOT NULL AND c.depth < 1000000
           AND b.thread_id = ?1 AND b.checkpoint_ns = ?2 AND b.channel = c.channel AND b.version = c.base
       )
       SELECT channel, version, type, value, base AS base_version FROM chain ORDER BY channel, depth DESC`,
      [threadId, namespace, checkpointId],
    )
    .map(toValue);
}

/** Checks pruneGraphCheckpoints' options. */
export function validatePruneGraph(options: unknown): { threadId: string; namespace: string | null; keepLatest: number } {
  const o = v.record(options, 'options');
  if (o['keepLatest'] === undefined) throw new StoreError('INVALID_ARGUMENT', 'options.keepLatest is required', { details: { field: 'options.keepLatest' } });
  return {
    threadId: v.nonEmpty(o['threadId'], 'options.threadId'),
    namespace: o['namespace'] === undefined ? null : v.text(o['namespace'], 'options.namespace'),
    keepLatest: v.limit(o['keepLatest'], 'options.keepLatest', 1),
  };
}

/**
 * Deletes a thread's checkpoints older than its `keepLatest` newest (per namespace), with their
 * pending writes and versions, then the channel values no kept checkpoint names.
 */
export function pruneGraphRows(db: SqlDriver, o: ReturnType<typeof validatePruneGraph>): PruneGraphResult {
  const namespaces =
    o.namespace !== null
      ? [o.namespace]
      : db.all('SELECT DISTINCT checkpoint_ns FROM graph_checkpoints WHERE thread_id = ?1', [o.threadId]).map((r) => str(r['checkpoint_ns']));
  let deletedCheckpoints = 0;
  let deletedValues = 0;
  for (const ns of namespaces) {
    // The oldest id kept; everything below it goes (ids sort by time, as LangGraph's uuid6 do).
    const cut = db.all('SELECT checkpoint_id FROM graph_checkpoints WHERE thread_id = ?1 AND checkpoint_ns = ?2 ORDER BY checkpoint_id DESC LIMIT 1 OFFSET ?3', [
      o.threadId, ns, o.keepLatest - 1,
    ])[0];
    if (!cut) continue;
    const params = [o.threadId, ns, str(cut['checkpoint_id'])];
    db.run('DELETE FROM graph_checkpoint_writes WHERE thread_id = ?1 AND checkpoint_ns = ?2 AND checkpoint_id < ?3', params);
    db.run('DELETE FROM graph_checkpoint_versions WHERE thread_id = ?1 AND checkpoint_ns = ?2 AND checkpoint_id < ?3', params);
    deletedCheckpoints += db.run('DELETE FROM graph_checkpoints WHERE thread_id = ?1 AND checkpoint_ns = ?2 AND checkpoint_id < ?3', params).changes;
    // Kept: every value a kept checkpoint names, and the values those extend, back to a whole one.
    deletedValues += db.run(
      `WITH RECURSIVE kept(channel, version) AS (
         SELECT j.key, j.value FROM graph_checkpoint_versions v, json_each(v.versions) j WHERE v.thread_id = ?1 AND v.checkpoint_ns = ?2
         UNION
         SELECT b.channel, b.base_version FROM kept k CROSS JOIN graph_channel_values b
         WHERE b.thread_id = ?1 AND b.checkpoint_ns = ?2 AND b.channel = k.channel AND b.version = k.version AND b.base_version IS NOT NULL
       )
       DELETE FROM graph_channel_values WHERE thread_id = ?1 AND checkpoint_ns = ?2 AND (channel, version) NOT IN (SELECT channel, version FROM kept)`,
      [o.threadId, ns],
    ).changes;
  }
  return { deletedCheckpoints, deletedValues };
}

/** Deletes a thread's channel values and versions in every namespace. */
export function deleteChannelRows(db: SqlDriver, threadId: string): void {
  db.run('DELETE FROM graph_checkpoint_versions WHERE thread_id = ?1', [threadId]);
  db.run('DELETE FROM graph_channel_values WHERE thread_id = ?1', [threadId]);
}
