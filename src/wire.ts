/**
 * The wire between the page and the worker: the options the worker opens a store with, the names of
 * the channels every tab derives, and how a StoreError crosses. Client and worker both import this
 * file and nothing else of each other. (Tab-to-tab control messages are the worker's own, in
 * worker/control.ts; change events are the core's, in core/changes.ts.)
 */
import type { TransferHandler } from 'comlink';
import { STORE_ERROR_CODES, StoreError, type StoreErrorCode } from './core/errors.js';
import type { Durability, VfsChoice } from './core/types.js';

/** What the worker needs to open a store. */
export interface WorkerOpenOptions {
  name: string;
  vfs: VfsChoice;
  durability: Durability;
  /** Run the start-up sweep (interrupted jobs → failed) when this tab opens the store alone. */
  recoverOnStart: boolean;
  /**
   * Sync with the store's Durable Object while this tab's worker leads. The page's `getToken` does
   * not travel in here (a function cannot be cloned): it is passed to `open` beside these options,
   * as a Comlink proxy.
   */
  sync?: WorkerSyncOptions;
}

/** The sync options the worker gets: the store's URL on the router, checked and without a trailing slash. */
export interface WorkerSyncOptions {
  url: string;
}

/** Where the worker asks the page for a sync token: the page's `getToken`, called over Comlink. */
export type TokenSource = () => Promise<string>;

/**
 * How the leader runs one call. `flushDeltas: false` lets a read skip writing the buffered stream
 * deltas first: a live query's re-read follows a change notice, which comes after a commit, so what
 * it was told of is already there, and the deltas still buffered send their own notice when they
 * are written. Without it, a page watching a stream would commit the buffer once a frame.
 */
export interface CallOptions {
  flushDeltas?: boolean;
}

interface WireError {
  isStoreError: boolean;
  code: StoreErrorCode;
  message: string;
  details?: StoreError['details'];
  stack?: string;
}


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
  const code = (STORE_ERROR_CODES as readonly string[]).includes(wire.code) ? wire.code : 'STORAGE';
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
