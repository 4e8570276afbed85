import {
  deleteGraphThreadRows, getGraphCheckpointRow, listGraphCheckpointRows, putGraphCheckpointRow, putGraphWriteRows, validateGraphCheckpoint,
  validateGraphKey, validateGraphList, validateGraphWrites,
  type GraphCheckpointInput, type GraphCheckpointKey, type GraphCheckpointListOptions, type GraphCheckpointRecord, type GraphWrite, type GraphWritesTarget,
} from './graph-checkpoints.js';
import { pruneGraphRows, validatePruneGraph, type PruneGraphOptions, type PruneGraphResult } from './graph-channels.js';
import { runGraphStoreBatch, validateGraphStoreBatch, type GraphStoreOperation, type GraphStoreResult } from './graph-memory.js';
import { SeedStore } from './seed-store.js';
import * as v from './validate.js';

/**
 * LangGraph checkpoints on the store: what `StateStoreSaver` (`agent-state-store/langgraph`) needs,
 * and what a time-travel UI reads. Its own tables (migration 8), untouched by the seed's operations,
 * except that deleting a store thread deletes its graph checkpoints too. A layer of its own between
 * SeedStore and StateStore, one concept per class; callers see one StateStore.
 */
export abstract class GraphStore extends SeedStore {
  /**
   * Stores a checkpoint (the saver's serialized bytes and JSON metadata), stamped now, replacing one
   * with the same thread, namespace and id. INVALID_ARGUMENT for a bad field (metadata that is not
   * a JSON object, say), and nothing is written.
   */
  putGraphCheckpoint(checkpoint: GraphCheckpointInput): void {
    this.write('putGraphCheckpoint', () => [validateGraphCheckpoint(checkpoint), this.now()] as const, ([c, now]) => putGraphCheckpointRow(this.db, c, now));
  }

  /** A checkpoint with its pending writes: by id, or without one the latest in the namespace (default ""). Null if none. */
  getGraphCheckpoint(key: GraphCheckpointKey): GraphCheckpointRecord | null {
    return this.op('getGraphCheckpoint', () => {
      const k = validateGraphKey(key);
      return getGraphCheckpointRow(this.db, k.threadId, k.namespace, k.checkpointId);
    });
  }

  /**
   * Checkpoints with their pending writes, newest first, that meet every criterion given: thread,
   * namespace, id, `before` an id, `after` a listed checkpoint (the next page), metadata `filter`
   * (top-level keys, equal as JSON), at most `limit`.
   */
  listGraphCheckpoints(options?: GraphCheckpointListOptions): GraphCheckpointRecord[] {
    return this.op('listGraphCheckpoints', () => listGraphCheckpointRows(this.db, validateGraphList(options)));
  }

  /**
   * Stores a task's pending writes against a checkpoint, atomically. A write already stored at the
   * same task and idx is kept; a negative idx (an error, an interrupt) replaces it.
   */
  putGraphWrites(target: GraphWritesTarget, writes: GraphWrite[]): void {
    this.write('putGraphWrites', () => validateGraphWrites(target, writes), (w) => putGraphWriteRows(this.db, w.target, w.writes));
  }

  /**
   * Keeps a long-running graph's file bounded: deletes a thread's checkpoints older than its
   * `keepLatest` newest (per namespace, or in `namespace` only), with their pending writes, and the
   * channel values no kept checkpoint names. The oldest kept checkpoint's parentConfig then names a
   * checkpoint that is gone, as after any pruning. INVALID_ARGUMENT for a bad option.
   *
   * @example
   * store.pruneGraphCheckpoints({ threadId: 'agent-1', keepLatest: 50 }); // { deletedCheckpoints, deletedValues }
   */
  pruneGraphCheckpoints(options: PruneGraphOptions): PruneGraphResult {
    return this.write('pruneGraphCheckpoints', () => validatePruneGraph(options), (o) => pruneGraphRows(this.db, o));
  }

  /**
   * LangGraph's long-term memory (the `BaseStore` that `agent-state-store/langgraph`'s
   * StateStoreMemory adapts): runs a batch of get, put (a null value deletes), search (every item
   * under a namespace prefix) and namespaces operations in one transaction, reads first on the state
   * before the batch, then the puts, as LangGraph's InMemoryStore does. Returns one result per
   * operation. INVALID_ARGUMENT for a bad operation (a label with "."), and nothing is written.
   *
   * @example
   * store.graphStoreBatch([{ op: 'put', namespace: ['user-1', 'memories'], key: 'diet', value: { text: 'vegetarian' } }]);
   * const [item] = store.graphStoreBatch([{ op: 'get', namespace: ['user-1', 'memories'], key: 'diet' }]);
   */
  graphStoreBatch(operations: GraphStoreOperation[]): GraphStoreResult[] {
    return this.write('graphStoreBatch', () => [validateGraphStoreBatch(operations), this.now()] as const, ([ops, now]) => runGraphStoreBatch(this.db, ops, now));
  }

  /** Deletes a thread's graph checkpoints and writes, in every namespace (not the store thread). A missing one is a no-op. */
  deleteGraphThread(threadId: string): void {
    this.write('deleteGraphThread', () => v.nonEmpty(threadId, 'threadId'), (id) => deleteGraphThreadRows(this.db, id));
  }
}
