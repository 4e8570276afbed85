/**
 * `agent-state-store`: open a persistent conversation-state store from a page.
 *
 * @module agent-state-store
 */
export { openStateStore } from './client/open.js';
export type { OpenStateStoreOptions, StateStoreClient, StoreOperations, SyncOptions } from './client/open.js';
export type { ChangeKind, StoreChange } from './core/changes.js';
export { StoreError } from './core/errors.js';
export type { StoreErrorCode, StoreErrorDetails } from './core/errors.js';
export type { SyncState } from './core/types.js';
export type { IgnoredObject, ImportOptions, ImportProgress, ImportResult } from './core/transfer.js';
export type * from './core/types.js';
export type {
  GraphCheckpointInput, GraphCheckpointKey, GraphCheckpointListOptions, GraphCheckpointRecord, GraphWrite, GraphWriteRecord, GraphWritesTarget,
} from './core/graph-checkpoints.js';
