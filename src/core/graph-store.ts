import {
  deleteGraphThreadRows, getGraphCheckpointRow, listGraphCheckpointRows, putGraphCheckpointRow, putGraphWriteRows, validateGraphCheckpoint,
  validateGraphKey, validateGraphList, validateGraphWrites,
  type GraphCheckpointInput, type GraphCheckpointKey, type GraphCheckpointListOptions, type GraphCheckpointRecord, type GraphWrite, type GraphWritesTarget,
} from './graph-checkpoints.js';
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
   * namespace, id, `before` an id, metadata `filter` (top-level keys, equal as JSON), at most `limit`.
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

  /** Deletes a thread's graph checkpoints and writes, in every namespace (not the store thread). A missing one is a no-op. */
  deleteGraphThread(threadId: string): void {
    this.write('deleteGraphThread', () => v.nonEmpty(threadId, 'threadId'), (id) => deleteGraphThreadRows(this.db, id));
  }
}
