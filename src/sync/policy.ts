import type { ChangeKind } from '../core/changes.js';

/**
 * The merge policy: one declaration per synced table, the single place where sync's rules are tied to
 * the schema (docs/sync.md says what each field means). The device, the server and the simulation's
 * model all read it; nothing else names a synced table's columns.
 */

/** Every synced table of rows, a parent before the tables that reference it (rows are applied in this order). */
export const ROW_TABLES = [
  'threads',
  'thread_dynamic_tools',
  'messages',
  'message_status',
  'checkpoints',
  'jobs',
  'thread_goals',
  'workflow_runs',
  'branch_runs',
  'leaf_runs',
  'control_node_runs',
  'teacher_candidates',
  'graph_checkpoints',
  'graph_checkpoint_writes',
  'graph_channel_values',
  'graph_checkpoint_versions',
  'graph_store_items',
] as const;

/** A synced table of rows. */
export type RowTable = (typeof ROW_TABLES)[number];

/** A row's link to the row it belongs to: deleting the parent deletes it, on every copy. */
export interface ParentLink {
  readonly table: RowTable;
  /** Our columns, and the parent's key columns they hold. */
  readonly from: readonly string[];
  readonly to: readonly string[];
  /** False: the row may exist without the parent (a LangGraph thread that is no store thread). */
  readonly required: boolean;
}

/** A reference that the database sets to NULL when its target goes (ON DELETE SET NULL). */
export interface NullableReference {
  readonly table: RowTable;
  readonly from: string;
  readonly to: string;
}

/** How one table syncs. */
export interface TablePolicy {
  /** The primary key's columns, in order. */
  readonly key: readonly string[];
  readonly parents: readonly ParentLink[];
  readonly references: readonly NullableReference[];
  /** Whether a device that saw a row's delete may create the row again (never for messages: ids are not reused). */
  readonly recreate: boolean;
  /** Columns that never travel: each device's own. */
  readonly local: readonly string[];
  /** Columns that take the larger value when two writes meet. */
  readonly max: readonly string[];
  /** Columns whose growth travels as a delta and adds up, for the record `scope` names. */
  readonly counters: readonly string[];
  /** The column that names the record the counters belong to: a new value is a new record. */
  readonly scope: string | null;
  /** Whether the start-up sweep may touch this table's rows (only those this device wrote last). */
  readonly swept: boolean;
  /** The kind of change a pulled row is announced as (live queries and subscribers). */
  readonly kind: ChangeKind;
  /** Which key column a change notice names as the record (`id`), or null. */
  readonly noticeKey: number | null;
}

const parent = (table: RowTable, from: string, to = 'id', required = true): ParentLink => ({ table, from: [from], to: [to], required });

/** Defaults for a table with no special columns. */
const plain = (kind: ChangeKind, key: readonly string[], parents: readonly ParentLink[] = [], over: Partial<TablePolicy> = {}): TablePolicy => ({
  kind,
  noticeKey: null,
  key,
  parents,
  references: [],
  recreate: true,
  local: [],
  max: [],
  counters: [],
  scope: null,
  swept: false,
  ...over,
});

/**
 * How each table syncs (the keys must be ROW_TABLES, which the type checks). The session index is not
 * a table: its entries sync whole, last writer wins (see SESSION_INDEX).
 */
export const POLICY: { readonly [T in RowTable]: TablePolicy } = {
  threads: plain('thread', ['id'], [], { local: ['current_leaf_id'], max: ['updated_at'], noticeKey: 0 }),
  thread_dynamic_tools: plain('tools', ['thread_id', 'position'], [parent('threads', 'thread_id')]),
  messages: plain('message', ['id'], [parent('threads', 'thread_id'), parent('messages', 'parent_entry_id')], { recreate: false, noticeKey: 0 }),
  message_status: plain('message', ['message_id'], [parent('messages', 'message_id')], { recreate: false, max: ['updated_at'], swept: true }),
  checkpoints: plain('checkpoint', ['thread_id', 'checkpoint_id'], [parent('threads', 'thread_id')], { noticeKey: 1 }),
  jobs: plain('job', ['id'], [], { max: ['updated_at'], swept: true, noticeKey: 0 }),
  thread_goals: plain('goal', ['thread_id'], [parent('threads', 'thread_id')], {
    max: ['updated_at'],
    counters: ['tokens_used', 'time_used_seconds', 'continuation_count'],
    scope: 'goal_id',
  }),
  workflow_runs: plain('database', ['id']),
  branch_runs: plain('database', ['id'], [parent('workflow_runs', 'workflow_run_id')]),
  leaf_runs: plain('database', ['id'], [parent('workflow_runs', 'workflow_run_id')], { references: [{ table: 'branch_runs', from: 'branch_run_id', to: 'id' }] }),
  control_node_runs: plain('database', ['id'], [parent('workflow_runs', 'workflow_run_id')]),
  teacher_candidates: plain('database', ['id'], [parent('workflow_runs', 'workflow_run_id'), parent('control_node_runs', 'control_node_run_id')], {
    references: [{ table: 'branch_runs', from: 'branch_run_id', to: 'id' }],
  }),
  // LangGraph's threads need not be store threads; deleting a store thread deletes its graph rows.
  graph_checkpoints: plain('graphCheckpoint', ['thread_id', 'checkpoint_ns', 'checkpoint_id'], [parent('threads', 'thread_id', 'id', false)]),
  graph_checkpoint_writes: plain('graphCheckpoint', ['thread_id', 'checkpoint_ns', 'checkpoint_id', 'task_id', 'idx'], [parent('threads', 'thread_id', 'id', false)]),
  // A channel's value at one version, and the versions each checkpoint names: a thread's, like its checkpoints.
  graph_channel_values: plain('graphCheckpoint', ['thread_id', 'checkpoint_ns', 'channel', 'version'], [parent('threads', 'thread_id', 'id', false)]),
  graph_checkpoint_versions: plain('graphCheckpoint', ['thread_id', 'checkpoint_ns', 'checkpoint_id'], [parent('threads', 'thread_id', 'id', false)]),
  // LangGraph's long-term memory: items of no thread.
  graph_store_items: plain('graphStore', ['namespace', 'key'], [], { max: ['updated_at'] }),
};

/** The session index's entries, synced as rows of this name (key: thread id; whole entries, last writer wins). */
export const SESSION_INDEX = 'session_index';

/** Everything that syncs: the tables, then the session index. */
export type SyncTable = RowTable | typeof SESSION_INDEX;

/** Every synced table name, the session index last. */
export const SYNC_TABLES: readonly SyncTable[] = [...ROW_TABLES, SESSION_INDEX];

/** The policy of a row table. */
export const policyOf = (table: RowTable): TablePolicy => POLICY[table];

/** Whether `name` is a synced table (or the session index). */
export const isSyncTable = (name: unknown): name is SyncTable => typeof name === 'string' && (SYNC_TABLES as readonly string[]).includes(name);

/** The tables whose rows list `table` as a parent, with the link. */
export function childrenOf(table: RowTable): { table: RowTable; link: ParentLink }[] {
  return ROW_TABLES.flatMap((child) => policyOf(child).parents.filter((p) => p.table === table).map((link) => ({ table: child, link })));
}
