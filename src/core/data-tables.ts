/**
 * Which of the store's tables hold its data: the one list an import copies, parents before children.
 * Every table the migrations create is either here or in NOT_COPIED (a unit test checks it), so a new
 * migration cannot add a table that an import silently forgets.
 */

/** The tables an import copies from a file, each after the tables its rows point at. */
export const DATA_TABLES = [
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

/** A table whose rows an import copies. */
export type DataTable = (typeof DATA_TABLES)[number];

/**
 * The store's other tables, and why a file's copy of them is never taken: the search index is
 * rebuilt from the copied messages by the store's own triggers; the request log belongs to the tabs
 * (and the edge's clients) of this store, not the file's. Sync's tables (`sync_*`) are sync's own:
 * see isSyncOwned.
 */
export const NOT_COPIED: Readonly<Record<string, string>> = {
  message_fts: 'rebuilt from the copied messages',
  applied_requests: "this store's request log, not the file's",
};

/** Whether a schema object belongs to the sync layer, which an import never copies, drops or rewrites. */
export function isSyncOwned(name: string): boolean {
  return /^sync_/i.test(name);
}

export { isEngineOwned } from '../driver/copy.js';
