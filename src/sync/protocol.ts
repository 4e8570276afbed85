/**
 * The sync protocol between a device (a browser store's leading worker) and its Durable Object: JSON
 * text frames over one WebSocket. The device's side is src/sync/device.ts, the server's
 * src/sync/server.ts, the rules docs/sync.md. Values JSON cannot carry (BLOB columns) cross as
 * `{ $bytes: base64 }`.
 *
 * A session: the device sends `hello`, the server answers `welcome` (or `error` and closes). When the
 * welcome asks for a resync the device first pulls everything (`pull` with `resync`). Then it pushes
 * its outbox one batch at a time (`push` → `ack`, or `error` with the push number when the push as a
 * whole is refused) and pulls from its cursor (`pull` → `changes`, repeated while `more`). After
 * another writer's push the server sends every other socket of the store a `poke`.
 */
import type { StoreErrorCode } from '../core/errors.js';
import type { SyncState } from '../core/types.js';
import type { SyncTable } from './policy.js';

export type { SyncState };
export type { SyncTable };

/** The protocol version both ends speak; a mismatch is refused with INVALID_ARGUMENT. */
export const SYNC_PROTOCOL = 2;

/** A column value on the wire. */
export type WireValue = string | number | null | { $bytes: string };

/** A row on the wire: column name → value. */
export type WireRow = Record<string, WireValue>;

/** Goal usage a device recorded since its last push, for the row's goal_id: added to the server's totals. */
export interface UsageDelta {
  tokens_used: number;
  time_used_seconds: number;
  continuation_count: number;
}

/**
 * One row a device pushes: its state now (`row`, null when it is deleted), the columns it changed
 * (absent: the whole row, a creation), and for thread_goals the usage it recorded since its last push.
 */
export interface PushedChange {
  table: SyncTable;
  /** The primary key's values, in the table's key order. */
  key: (string | number)[];
  row: WireRow | null;
  cols?: string[];
  add?: UsageDelta;
}

/** One row the server sends: its state now, or null when it is deleted (a tombstone). */
export interface PulledChange {
  /** The server's order: the cursor a device keeps is the last seq it applied. */
  seq: number;
  table: SyncTable;
  key: (string | number)[];
  row: WireRow | null;
  /** The row was deleted (and maybe created again) since the device last looked: drop its copy first. */
  gone?: true;
  /** Rollback resync: a push of this device that the device no longer remembers wrote this row. */
  lost?: true;
}

/** A change the server would not apply, named in the ack: the device sets it aside. */
export interface RejectedChange {
  table: SyncTable;
  key: (string | number)[];
  code: StoreErrorCode;
  message: string;
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
  /** The device's schema version: the server serves only its own. */
  schema: number;
  /** A random id the device chose once, kept in its database. */
  device: string;
  /**
   * The device's secret, drawn when sync was turned on and never sent anywhere but in hello. The
   * server records it at the device's first hello and refuses any later hello in the device's name
   * without it (a device learns nothing from the server that it could lose before it stores it).
   */
  secret: string;
  /** The id block the device allocates message ids from (see docs/sync.md). */
  site: number;
  /** Whether the device has already given out ids from `site` (it wrote messages before ever connecting). */
  siteUsed: boolean;
  /** Whether the device holds messages written before sync was turned on (ids below 2^32: site 0). */
  preSync: boolean;
  /** The last push number the device gave out (its batch in flight included): below the server's means a rollback. */
  push: number;
  /** The server history the device's cursor belongs to; null before the first full pull. */
  epoch: string | null;
  /** The last server seq applied here. */
  cursor: number;
}

/** Why a device must pull everything before it pushes. */
export type ResyncReason = 'epoch' | 'floor' | 'rollback';

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
  /** The server's history: a new one after the server's data was replaced. */
  epoch: string;
  /** Pull everything before pushing, and why. */
  resync: ResyncReason | null;
  /** Rollback: ids below this in the device's site are taken on the server. */
  nextId?: number;
  /** The changes the server set aside from push `lastPush`, for a device that never heard its ack. */
  rejected?: RejectedChange[];
}

/** A pull: from `cursor`; a resync pull also says what the device had seen before (`since`) and, after a rollback, its last push. */
export interface Pull {
  type: 'pull';
  cursor: number;
  limit?: number;
  resync?: { since: number; rollbackFrom?: number };
}

export type ClientFrame = Hello | { type: 'push'; push: number; seen: number; changes: PushedChange[] } | Pull;

/** The server's answer to a push it applied (or had applied before: nothing again). */
export interface Ack {
  type: 'ack';
  push: number;
  applied: number;
  skipped: number;
  rejected: RejectedChange[];
  cursor: number;
}

/** A page of the server's log. */
export interface Changes {
  type: 'changes';
  changes: PulledChange[];
  cursor: number;
  more: boolean;
}

export type ServerFrame =
  | Welcome
  | Ack
  | Changes
  | { type: 'poke'; cursor: number }
  | { type: 'error'; code: StoreErrorCode; message: string; push?: number };

/** Ids per site: site s gives out message ids s·2^32 + 1 … (s+1)·2^32 − 1. */
export const SITE_SIZE = 2 ** 32;
/** Sites the server leases, in order: 1 … LEASED_SITES − 1. Sites from LEASED_SITES up are chosen at random by a device that has never connected. */
export const LEASED_SITES = 2 ** 20;
/** Sites end here: ids stay below 2^53, exact in JavaScript numbers. */
export const MAX_SITES = 2 ** 21;
/** The server's own writes (edgeStore(), the HTTP routes) are logged under this device id, which no device can say. */
export const SERVER_DEVICE = '@server';
