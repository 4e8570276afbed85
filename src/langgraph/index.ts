/**
 * `agent-state-store/langgraph`: a LangGraph checkpointer on the store. Its checkpoints live in the
 * store's own tables (migration 8), beside the conversations, in the same file: on OPFS through
 * `openStateStore()` in a page, in memory through `createMemoryStore()` in Node.
 *
 * @module agent-state-store/langgraph
 */
import type { RunnableConfig } from '@langchain/core/runnables';
import {
  BaseCheckpointSaver, TASKS, WRITES_IDX_MAP, copyCheckpoint, getCheckpointId, maxChannelVersion,
  type ChannelVersions, type Checkpoint, type CheckpointListOptions, type CheckpointMetadata, type CheckpointPendingWrite, type CheckpointTuple,
  type PendingWrite, type SerializerProtocol,
} from '@langchain/langgraph-checkpoint';
import { StoreError } from '../core/errors.js';
import type { GraphCheckpointRecord } from '../core/graph-checkpoints.js';
import type { StateStore } from '../core/store.js';
import type { JsonValue } from '../core/types.js';

type GraphMethod = 'putGraphCheckpoint' | 'getGraphCheckpoint' | 'listGraphCheckpoints' | 'putGraphWrites' | 'deleteGraphThread';

/**
 * The store methods the saver uses, each returning its value (the core's StateStore) or a Promise of
 * it (the browser client), so that one saver serves both.
 */
export type GraphCheckpointStore = {
  [M in GraphMethod]: (...args: Parameters<StateStore[M]>) => Awaited<ReturnType<StateStore[M]>> | Promise<Awaited<ReturnType<StateStore[M]>>>;
};

const utf8 = new TextDecoder();

function invalid(field: string, message: string, cause?: unknown): StoreError {
  return new StoreError('INVALID_ARGUMENT', `${field} ${message}`, { details: { field }, ...(cause === undefined ? {} : { cause }) });
}

/** The thread a config names; LangGraph cannot save without one. */
function threadOf(config: RunnableConfig, method: string): string {
  const threadId: unknown = config.configurable?.['thread_id'];
  if (threadId === undefined) throw invalid('config.configurable.thread_id', `is required: ${method} needs the thread to save to`);
  return threadId as string;
}

function configOf(threadId: string, namespace: string, checkpointId: string): RunnableConfig {
  return { configurable: { thread_id: threadId, checkpoint_ns: namespace, checkpoint_id: checkpointId } };
}

/**
 * A LangGraph checkpointer (BaseCheckpointSaver) on a StateStore: pass it as a graph's
 * `checkpointer` and every step of every thread is saved in the store, so a graph resumes after a
 * reload and its history can be listed and replayed. Values go through `this.serde` (LangGraph's
 * JSON+ serializer unless you pass another) and are stored as bytes.
 *
 * @example
 * const store = await openStateStore({ name: 'agent' });
 * const graph = workflow.compile({ checkpointer: new StateStoreSaver(store) });
 * await graph.invoke(input, { configurable: { thread_id: 'chat-1' } });
 */
export class StateStoreSaver extends BaseCheckpointSaver {
  constructor(
    readonly store: GraphCheckpointStore,
    serde?: SerializerProtocol,
  ) {
    super(serde);
  }

  /** Serializes with the serde; a value it refuses is INVALID_ARGUMENT, before anything is written. */
  async #dump(value: unknown, field: string): Promise<[string, Uint8Array]> {
    try {
      return await this.serde.dumpsTyped(value);
    } catch (error) {
      throw invalid(field, `cannot be serialized: ${error instanceof Error ? error.message : String(error)}`, error);
    }
  }

  /** Metadata is stored as JSON (so listings can filter on it): the serde's JSON form, parsed. */
  async #metadataJson(metadata: CheckpointMetadata): Promise<{ [key: string]: JsonValue }> {
    const [type, bytes] = await this.#dump(metadata, 'metadata');
    const json: unknown = type === 'json' ? JSON.parse(utf8.decode(bytes)) : undefined;
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid('metadata', 'must serialize to a JSON object');
    return json as { [key: string]: JsonValue };
  }

  async #toTuple(record: GraphCheckpointRecord): Promise<CheckpointTuple> {
    const { threadId, namespace, parentCheckpointId } = record;
    const checkpoint = (await this.serde.loadsTyped(record.type, record.checkpoint)) as Checkpoint;
    if (checkpoint.v < 4 && parentCheckpointId !== null) await this.#migratePendingSends(checkpoint, threadId, namespace, parentCheckpointId);
    const tuple: CheckpointTuple = {
      config: configOf(threadId, namespace, record.checkpointId),
      checkpoint,
      metadata: (await this.serde.loadsTyped('json', JSON.stringify(record.metadata))) as CheckpointMetadata,
      pendingWrites: await Promise.all(
        record.writes.map(async (w): Promise<CheckpointPendingWrite> => [w.taskId, w.channel, await this.serde.loadsTyped(w.type, w.value)]),
      ),
    };
    // Absent, not undefined-valued or null: the first checkpoint of a thread has no parent.
    if (parentCheckpointId !== null) tuple.parentConfig = configOf(threadId, namespace, parentCheckpointId);
    return tuple;
  }

  /**
   * Checkpoints before format 4 kept the sends of a step (TASKS writes) in the parent's writes, not
   * in the checkpoint; LangGraph expects them in channel_values, as MemorySaver moves them.
   */
  async #migratePendingSends(checkpoint: Checkpoint, threadId: string, namespace: string, parentId: string): Promise<void> {
    const parent = await this.store.getGraphCheckpoint({ threadId, namespace, checkpointId: parentId });
    const sends = await Promise.all((parent?.writes ?? []).filter((w) => w.channel === TASKS).map((w) => this.serde.loadsTyped(w.type, w.value)));
    checkpoint.channel_values ??= {};
    checkpoint.channel_values[TASKS] = sends;
    checkpoint.channel_versions ??= {};
    const versions = Object.values(checkpoint.channel_versions);
    checkpoint.channel_versions[TASKS] = versions.length > 0 ? maxChannelVersion(...versions) : this.getNextVersion(undefined);
  }

  /** The checkpoint the config names (its checkpoint_id, or the thread's latest), or undefined. */
  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const threadId: unknown = config.configurable?.['thread_id'];
    if (threadId === undefined) return undefined;
    const record = await this.store.getGraphCheckpoint({
      threadId: threadId as string,
      namespace: config.configurable?.['checkpoint_ns'] ?? '',
      checkpointId: getCheckpointId(config) || null,
    });
    return record ? this.#toTuple(record) : undefined;
  }

  /** Checkpoints newest first: of the config's thread and namespace (all when absent), `before`, `filter` and `limit` as given. */
  async *list(config: RunnableConfig, options?: CheckpointListOptions): AsyncGenerator<CheckpointTuple> {
    const c = config.configurable ?? {};
    const records = await this.store.listGraphCheckpoints({
      ...(c['thread_id'] !== undefined ? { threadId: c['thread_id'] } : {}),
      ...(c['checkpoint_ns'] !== undefined ? { namespace: c['checkpoint_ns'] } : {}),
      ...(c['checkpoint_id'] ? { checkpointId: c['checkpoint_id'] } : {}),
      ...(options?.before?.configurable?.['checkpoint_id'] ? { before: options.before.configurable['checkpoint_id'] } : {}),
      ...(options?.limit !== undefined ? { limit: options.limit } : {}),
      ...(options?.filter !== undefined ? { filter: options.filter } : {}),
    });
    for (const record of records) yield await this.#toTuple(record);
  }

  /** Saves a checkpoint as the child of the config's checkpoint_id; returns the config that names it. */
  async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, _newVersions: ChannelVersions): Promise<RunnableConfig> {
    const threadId = threadOf(config, 'put');
    const namespace: string = config.configurable?.['checkpoint_ns'] ?? '';
    const [type, bytes] = await this.#dump(copyCheckpoint(checkpoint), 'checkpoint');
    // LangGraph's serializer does not throw on what it cannot carry (a BigInt, say): it returns one JSON
    // string in place of the whole value. A checkpoint is an object, so that is caught here.
    if (type === 'json' && bytes.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) !== 0x7b) throw invalid('checkpoint', 'cannot be serialized: it did not serialize to a JSON object');
    await this.store.putGraphCheckpoint({
      threadId,
      namespace,
      checkpointId: checkpoint.id,
      // LangGraph names no parent with an absent or empty checkpoint_id.
      parentCheckpointId: config.configurable?.['checkpoint_id'] || null,
      type,
      checkpoint: bytes,
      metadata: await this.#metadataJson(metadata),
    });
    return configOf(threadId, namespace, checkpoint.id);
  }

  /** Saves a task's writes against the config's checkpoint, in one transaction. */
  async putWrites(config: RunnableConfig, writes: PendingWrite[], taskId: string, taskPath?: string): Promise<void> {
    const threadId = threadOf(config, 'putWrites');
    const checkpointId: unknown = config.configurable?.['checkpoint_id'];
    if (checkpointId === undefined) throw invalid('config.configurable.checkpoint_id', 'is required: writes belong to a checkpoint');
    const rows = await Promise.all(
      writes.map(async ([channel, value], i) => {
        const [type, bytes] = await this.#dump(value, `writes[${i}]`);
        // Special writes (errors, interrupts, …) have fixed negative indexes, so a later one replaces the earlier.
        return { idx: WRITES_IDX_MAP[channel] ?? i, channel, type, value: bytes };
      }),
    );
    await this.store.putGraphWrites(
      { threadId, namespace: config.configurable?.['checkpoint_ns'] ?? '', checkpointId: checkpointId as string, taskId, ...(taskPath !== undefined ? { taskPath } : {}) },
      rows,
    );
  }

  /** Deletes a thread's checkpoints and writes in every namespace (the store thread of that id, if any, stays). */
  async deleteThread(threadId: string): Promise<void> {
    await this.store.deleteGraphThread(threadId);
  }
}
