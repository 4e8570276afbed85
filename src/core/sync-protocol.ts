/**
 * The sync protocol between a browser store (the leader tab's worker) and its Durable Object: JSON
 * text frames over one WebSocket. The core implements both ends' data work (src/core/sync.ts); the
 * hosts only carry frames. Values that JSON cannot carry (BLOB columns) cross as `{ $bytes: base64 }`.
 *
 * A session: the client sends `hello`, the server answers `welcome` (or `error` and closes). Then the
 * client pushes its outbox one batch at a time (`push` → `ack`), and pulls from its cursor
 * (`pull` → `changes`, repeated while `more`). After another device's push the server sends every
 * other socket of the store a `poke`, and those clients pull.
 */
import type { StoreErrorCode } from './errors.js';

/** The protocol version both ends speak; a mismatch is refused with INVALID_ARGUMENT. */
export const SYNC_PROTOCOL = 1;

/**
 * The tables that sync, in an order where a parent table comes before the tables that reference it.
 * `session_index` is not a table: its rows are the session index's entries (key: thread id).
 */
export const SYNC_TABLES = [
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
  'session_index',
] as const;

export type SyncTable = (typeof SYNC_TABLES)[number];

/** A column value on the wire. */
export type WireValue = string | number | null | { $bytes: string };

/** A row on the wire: column name → value. */
export type WireRow = Record<string, WireValue>;

/** Goal usage a device recorded since its last push: added to the server's totals, never overwriting them. */
export interface UsageDelta {
  tokens_used: number;
  time_used_seconds: number;
  continuation_count: number;
}

/** One row a device pushes: its state now (`row`), or `null` when it was deleted. */
export interface PushedChange {
  table: SyncTable;
  /** The primary key's values, in the table's key order. */
  key: (string | number)[];
  row: WireRow | null;
  /** thread_goals only: usage recorded on this device since the last push, for the same goal_id. */
  add?: UsageDelta;
}

/** One row the server sends: its state now, or `null` when it is deleted (a tombstone). */
export interface PulledChange {
  /** The server's order: the cursor a client keeps is the last seq it applied. */
  seq: number;
  table: SyncTable;
  key: (string | number)[];
  row: WireRow | null;
}

/** The server's limits, sent in `welcome`; a push past them is refused with INVALID_ARGUMENT. */
export interface SyncLimits {
  /** Changes per push. */
  maxChanges: number;
  /** Bytes of one change's JSON. */
  maxChangeBytes: number;
  /** Bytes of one frame. */
  maxFrameBytes: number;
}

/** Frames stay under the 1 MiB a Worker accepts in one WebSocket message. */
export const DEFAULT_SYNC_LIMITS: SyncLimits = { maxChanges: 500, maxChangeBytes: 512 * 1024, maxFrameBytes: 1_000_000 };

/** What a device says about itself when it connects. */
export interface Hello {
  type: 'hello';
  protocol: number;
  /** A random id the device chose once, kept in its database. */
  device: string;
  /** The id block the device allocates message ids from (see README: message ids). */
  site: number;
  /** Whether the device has already given out ids from `site` (it wrote messages before ever connecting). */
  siteUsed: boolean;
  /** Whether the device holds messages written before sync was turned on (ids below 2^32: site 0). */
  preSync: boolean;
}

export type ClientFrame =
  | Hello
  | { type: 'push'; push: number; changes: PushedChange[] }
  | { type: 'pull'; cursor: number; limit?: number };

/** The server's answer to `hello`. */
export interface Welcome {
  type: 'welcome';
  /** The site the device allocates from from now on (a new one when its provisional site was unused). */
  site: number;
  /** The last push of this device the server applied: the device resends anything after it. */
  lastPush: number;
  /** The server's newest seq. */
  cursor: number;
  limits: SyncLimits;
}

export type ServerFrame =
  | Welcome
  | { type: 'ack'; push: number; applied: number; skipped: number; cursor: number }
  | { type: 'changes'; changes: PulledChange[]; cursor: number; more: boolean }
  | { type: 'poke'; cursor: number }
  | { type: 'error'; code: StoreErrorCode; message: string; push?: number };

/** Ids per site: site s gives out message ids s·2^32 + 1 … (s+1)·2^32 − 1. */
export const SITE_SIZE = 2 ** 32;
/** Sites the server leases, in order: 1 … LEASED_SITES − 1. Sites from LEASED_SITES up are chosen at random by a device that has never connected. */
export const LEASED_SITES = 2 ** 20;
/** Sites end here: ids stay below 2^53, exact in JavaScript numbers. */
export const MAX_SITES = 2 ** 21;

export type { SyncState } from './types.js';
