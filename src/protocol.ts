/**
 * The wire between the page and the worker: the options the worker opens a store with, what it
 * reports about itself, and how a StoreError crosses. Client and worker both import this file and
 * nothing else of each other.
 */
import type { TransferHandler } from 'comlink';
import { StoreError, type StoreErrorCode } from './core/errors.js';
import type { CoreInfo } from './core/types.js';

/** Which storage the worker puts the database on. */
export type VfsChoice = 'auto' | 'opfs-sahpool' | 'opfs' | 'memory';

/** The storage actually in use: `memory` keeps snapshots in IndexedDB. */
export type ActiveVfs = 'opfs-sahpool' | 'opfs' | 'memory';

/** `strict`: a write resolves after its commit is flushed. `relaxed`: after it is written, not flushed. */
export type Durability = 'strict' | 'relaxed';

/** What the worker needs to open a store. */
export interface WorkerOpenOptions {
  name: string;
  vfs: VfsChoice;
  durability: Durability;
  /** Run the start-up sweep (interrupted jobs → failed) when this tab opens the store alone. */
  recoverOnStart: boolean;
}

/** What `info()` reports. */
export interface StoreInfo extends CoreInfo {
  /** The store name (its OPFS directory and pool). */
  name: string;
  /** The VFS in use. `memory` means OPFS could not be used and snapshots go to IndexedDB. */
  vfs: ActiveVfs;
  /** Why the store fell back to memory, when it did. */
  fallbackReason: string | null;
  durability: Durability;
  /** page_count × page_size of the main database. */
  databaseSizeBytes: number;
  /** navigator.storage.estimate(), where the browser has it. */
  storageEstimate: { usage: number; quota: number } | null;
  /** navigator.storage.persisted(), where the browser has it. */
  persisted: boolean | null;
  /** Transactions that wrote something, committed by the leader since it opened (one per group commit; reads are not counted). */
  commits: number;
  /** Whether the calling tab's worker is the leader that owns the database. */
  leader: boolean;
  /** Jobs the start-up sweep marked failed because the app had closed while they ran. */
  recoveredJobs: number;
}

/** What the worker answers to `open`: the store methods it serves, and its info. */
export interface OpenResult {
  methods: string[];
  info: StoreInfo;
}

interface WireError {
  isStoreError: boolean;
  code: StoreErrorCode;
  message: string;
  details?: StoreError['details'];
  stack?: string;
}

const CODES: readonly StoreErrorCode[] = [
  'NOT_FOUND', 'INVALID_ARGUMENT', 'CONFLICT', 'SCHEMA_TOO_NEW', 'MIGRATION_FAILED', 'QUOTA_EXCEEDED', 'BUSY', 'CLOSED', 'STORAGE',
];

/** Serializes anything thrown in the worker; an error that is not a StoreError crosses as STORAGE. */
export function errorToWire(value: unknown): WireError {
  if (value instanceof StoreError) {
    return { isStoreError: true, code: value.code, message: value.message, ...(value.details ? { details: value.details } : {}), ...(value.stack ? { stack: value.stack } : {}) };
  }
  const message = value instanceof Error ? `${value.name}: ${value.message}` : String(value);
  return { isStoreError: false, code: 'STORAGE', message };
}

/** Revives a serialized error as a real StoreError on the page. */
export function errorFromWire(wire: WireError): StoreError {
  const code = CODES.includes(wire.code) ? wire.code : 'STORAGE';
  const error = new StoreError(code, wire.message, wire.details ? { details: wire.details } : {});
  if (wire.stack) error.stack = wire.stack;
  return error;
}

/**
 * Replaces Comlink's `throw` handler, which keeps only name, message and stack, with one that
 * carries a StoreError's code and details. Both sides install it.
 */
export function installErrorTransfer(handlers: Map<string, TransferHandler<unknown, unknown>>): void {
  const original = handlers.get('throw');
  if (!original) return;
  handlers.set('throw', {
    canHandle: original.canHandle,
    serialize: (thrown) => [errorToWire((thrown as { value: unknown }).value), []],
    deserialize: (wire) => {
      throw errorFromWire(wire as WireError);
    },
  });
}

// --- several tabs --------------------------------------------------------------------------------

/** The BroadcastChannel and Web Lock names of one store; every tab's worker derives the same ones. */
export function storeChannels(name: string) {
  const base = `agent-state-store:${name}`;
  return {
    /** Leader announcements and tab greetings. */
    control: `${base}:control`,
    /** Every committed change, for `subscribe`. */
    changes: `${base}:changes`,
    /** The duplex pipe between one tab's worker and the leader (Comlink runs over it). */
    rpc: (tabId: string) => `${base}:rpc:${tabId}`,
    /** Progress events of one import. */
    progress: (requestId: string) => `${base}:progress:${requestId}`,
    /** Held exclusively by the leader for as long as it serves. */
    leaderLock: `${base}:leader`,
    /** Held (shared) by every open tab's worker, so a starting leader can tell whether it is alone. */
    aliveLock: `${base}:alive`,
  };
}

/** Messages on the control channel. */
export type ControlMessage =
  | { type: 'leader'; leaderId: string }
  | { type: 'who-leads' }
  | { type: 'hello'; tabId: string }
  | { type: 'welcome'; tabId: string; leaderId: string }
  | { type: 'resign'; leaderId: string }
  | { type: 'bye'; tabId: string };

/** What kind of record a change touched. */
export type ChangeKind = 'thread' | 'message' | 'checkpoint' | 'job' | 'goal' | 'tools' | 'sessionIndex' | 'database';

/** One committed change, delivered to every tab's subscribers. */
export interface StoreChange {
  kind: ChangeKind;
  /** The operation that made it. */
  method: string;
  /** The thread it belongs to, where there is one. */
  threadId: string | null;
  /** The record's id: a message id, checkpoint id, job id, thread id. */
  id: string | number | null;
}

/** Calls that only read: retried freely after a leader change, and never given a request id. */
export function isReadMethod(method: string): boolean {
  return /^(get|list|find|search|export)/.test(method) || method === 'integrityCheck' || method === 'dbPath';
}
