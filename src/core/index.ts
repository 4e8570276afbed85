/** The engine-agnostic core: the store, its types and errors, and the ports it runs on. */
export { StateStore } from './store.js';
export type { StateStoreOptions } from './store.js';
export { StoreError } from './errors.js';
export type { StoreErrorCode, StoreErrorDetails } from './errors.js';
export { LATEST_SCHEMA_VERSION } from './migrate.js';
export { OPERATIONS } from './operations.js';
export type { OperationMode, OperationSpec, ServedMethod, StoreMethod } from './operations.js';
export type { ChangeKind, StoreChange } from './changes.js';
export type * from './types.js';
export type { SqlDriver, SqlRow, SqlValue, TextFile } from '../driver/port.js';
export type { IgnoredObject, ImportOptions, ImportProgress, ImportResult } from './transfer.js';
export type {
  GraphCheckpointInput, GraphCheckpointKey, GraphCheckpointListOptions, GraphCheckpointRecord, GraphWrite, GraphWriteRecord, GraphWritesTarget,
} from './graph-checkpoints.js';
export type { GraphChannelValue, PruneGraphOptions, PruneGraphResult } from './graph-channels.js';
export type { GraphStoreItem, GraphStoreOperation, GraphStoreResult } from './graph-memory.js';
