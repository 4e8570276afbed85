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

export { StateStoreMemory, type GraphMemoryStore } from './memory.js';

type GraphMethod = 'putGraphCheckpoint' | 'getGraphCheckpoint' | 'listGraphCheckpoints' | 'putGraphWrites' | 'deleteGraphThread' | 'pruneGraphCheckpoints';

/**
 * The store methods the saver uses, each returning its value (the core's StateStore) or a Promise of
 * it (the browser client), so that one saver serves both.
 */
export type GraphCheckpointStore = {
  [M in GraphMethod]: (...args: Parameters<StateStore[M]>) => Awaited<ReturnType<StateStore[M]>> | Promise<Awaited<ReturnType<StateStore[M]>>>;
};

const utf8 = new TextDecoder();

/** What LangGraph's JSON+ serializer writes, without throwing, for a value it cannot carry. */
const UNSERIALIZABLE = '[unable to serialize, circular reference is too complex to analyze]';

/**
 * How many checkpoints list() reads per call to the store: the first page is small, so the first
 * item comes after a few checkpoints are read, not the whole history; each page after it is twice
 * as large, up to the last size, so a whole history takes few calls.
 */
const LIST_PAGES = { first: 5, last: 80 };

/** The serializer tag of a channel that has no value at a version (it was cleared), as LangGraph's Postgres saver writes it. */
const EMPTY = 'empty';

/** A channel version as the store keys it: its JSON, so that the number 2 and the string "2" stay apart. */
const versionKey = (version: unknown): string => JSON.stringify(version);

/**
 * The type tag of a list stored item by item: the items it adds to the list at its base version (or,
 * without a base, all of its items). A list that only grew (a conversation's messages) then costs
 * its new items at each version, not the whole list again.
 */
const ITEMS = 'agent-state-store/items';

/** How many lists (thread, namespace, channel) the saver remembers the last stored items of. */
const REMEMBERED_LISTS = 64;

/** Items as one byte string: a count, then per item its type tag and bytes, each length-prefixed. */
function packItems(items: readonly [string, Uint8Array][]): Uint8Array {
  const types = items.map(([type]) => new TextEncoder().encode(type));
  const size = 4 + items.reduce((n, [, bytes], i) => n + 4 + types[i]!.byteLength + 4 + bytes.byteLength, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  view.setUint32(at, items.length);
  at += 4;
  items.forEach(([, bytes], i) => {
    for (const part of [types[i]!, bytes]) {
      view.setUint32(at, part.byteLength);
      out.set(part, at + 4);
      at += 4 + part.byteLength;
    }
  });
  return out;
}

/** The items packItems packed. */
function unpackItems(packed: Uint8Array): [string, Uint8Array][] {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const items: [string, Uint8Array][] = [];
  let at = 4;
  for (let n = view.getUint32(0); n > 0; n--) {
    const typeLength = view.getUint32(at);
    const type = utf8.decode(packed.subarray(at + 4, at + 4 + typeLength));
    at += 4 + typeLength;
    const length = view.getUint32(at);
    items.push([type, packed.slice(at + 4, at + 4 + length)]);
    at += 4 + length;
  }
  return items;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);

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
  /** Per list (thread, namespace, channel), the version and items this saver stored last: what a new version may extend. */
  readonly #lists = new Map<string, { version: string; items: [string, Uint8Array][] }>();

  constructor(
    readonly store: GraphCheckpointStore,
    serde?: SerializerProtocol,
  ) {
    super(serde);
  }

  /**
   * Serializes with the serde; a value it refuses is INVALID_ARGUMENT, before anything is written.
   * LangGraph's JSON+ serializer does not throw on what it cannot carry (a BigInt, say): it returns
   * one fixed JSON string in place of the whole value, which is caught here.
   */
  async #dump(value: unknown, field: string): Promise<[string, Uint8Array]> {
    let dumped: [string, Uint8Array];
    try {
      dumped = await this.serde.dumpsTyped(value);
    } catch (error) {
      throw invalid(field, `cannot be serialized: ${error instanceof Error ? error.message : String(error)}`, error);
    }
    if (dumped[0] === 'json' && value !== UNSERIALIZABLE && utf8.decode(dumped[1]) === JSON.stringify(UNSERIALIZABLE)) {
      throw invalid(field, 'cannot be serialized: the serializer could not carry it (a BigInt, say)');
    }
    return dumped;
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
    // Values stored once per version (a checkpoint stored whole has none here: they are in its bytes).
    if (record.channelValues.length > 0) checkpoint.channel_values ??= {};
    for (const [channel, value] of await this.#channelValues(record)) checkpoint.channel_values[channel] = value;
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
   * The channel values a record brings, each folded from its chain (a whole value, then what each
   * later version added); a channel cleared at its version is left out.
   */
  async #channelValues(record: GraphCheckpointRecord): Promise<Map<string, unknown>> {
    const values = new Map<string, unknown>();
    for (const c of record.channelValues) {
      if (c.type === EMPTY) {
        values.delete(c.channel);
      } else if (c.type === ITEMS) {
        const items = await Promise.all(unpackItems(c.value).map(([type, bytes]) => this.serde.loadsTyped(type, bytes)));
        const base = values.get(c.channel);
        if (c.base && !Array.isArray(base)) {
          throw new StoreError('STORAGE', `channel ${c.channel} at version ${c.version} extends version ${c.base}, which is not stored`, {
            details: { channel: c.channel, version: c.version },
          });
        }
        values.set(c.channel, c.base ? [...(base as unknown[]), ...items] : items);
      } else {
        values.set(c.channel, await this.serde.loadsTyped(c.type, c.value));
      }
    }
    return values;
  }

  /**
   * A channel's value as stored at a new version. A list of objects (messages) is stored item by
   * item, and when it only grew since the last version this saver stored of the same channel, only
   * its new items are, with that version as its base. Anything else is stored whole.
   */
  async #storedValue(threadId: string, namespace: string, channel: string, version: string, value: unknown) {
    const field = `checkpoint.channel_values.${channel}`;
    const listKey = JSON.stringify([threadId, namespace, channel]);
    if (!Array.isArray(value) || value.length === 0 || !value.every((x) => typeof x === 'object' && x !== null)) {
      this.#lists.delete(listKey);
      const [type, bytes] = await this.#dump(value, field);
      return { channel, version, type, value: bytes };
    }
    const items = await Promise.all(value.map((x, i) => this.#dump(x, `${field}[${i}]`)));
    const last = this.#lists.get(listKey);
    const grew =
      last !== undefined && last.version !== version && last.items.length <= items.length &&
      last.items.every(([type, bytes], i) => type === items[i]![0] && sameBytes(bytes, items[i]![1]));
    this.#remember(listKey, { version, items });
    return grew
      ? { channel, version, type: ITEMS, value: packItems(items.slice(last.items.length)), base: last.version }
      : { channel, version, type: ITEMS, value: packItems(items) };
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

  /**
   * The next version of a channel: the count, zero-padded so versions sort as text, and a random
   * fraction, as LangGraph's Postgres saver makes them. Values are stored by version, so a branch
   * forked from an earlier checkpoint must never reuse a version the other branch stored. (Typed as
   * a number, as `compile({ checkpointer })` asks of a saver; LangGraph takes string versions too.)
   */
  override getNextVersion(current: number | undefined): number {
    const c = current as number | string | undefined;
    const n = c === undefined ? 0 : typeof c === 'number' ? c : Number.parseInt(c.split('.')[0]!, 10);
    return `${String(n + 1).padStart(16, '0')}.${Math.random().toString().slice(2)}` as unknown as number;
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
    if (!record) return undefined;
    const tuple = await this.#toTuple(record);
    await this.#rememberLists(record, tuple.checkpoint);
    return tuple;
  }

  /**
   * Remembers the lists a graph resumes from (getTuple is how it does), serialized as they are
   * now: revived objects serialize differently from the ones first stored, and the next version of
   * such a list extends these.
   */
  async #rememberLists(record: GraphCheckpointRecord, checkpoint: Checkpoint): Promise<void> {
    const named = new Map(record.channelValues.map((c) => [c.channel, c.version]));
    for (const [channel, version] of named) {
      const value: unknown = checkpoint.channel_values[channel];
      if (!Array.isArray(value) || value.length === 0 || !value.every((x) => typeof x === 'object' && x !== null)) continue;
      const items = await Promise.all(value.map((x) => this.serde.dumpsTyped(x)));
      this.#remember(JSON.stringify([record.threadId, record.namespace, channel]), { version, items });
    }
  }

  #remember(listKey: string, entry: { version: string; items: [string, Uint8Array][] }): void {
    this.#lists.delete(listKey);
    this.#lists.set(listKey, entry);
    if (this.#lists.size > REMEMBERED_LISTS) this.#lists.delete(this.#lists.keys().next().value!);
  }

  /**
   * Checkpoints newest first: of the config's thread and namespace (all when absent), `before`,
   * `filter` and `limit` as given. Read a page at a time, as the generator is consumed: the first
   * item of a long history comes after one page, and a consumer that stops early reads no more.
   */
  async *list(config: RunnableConfig, options?: CheckpointListOptions): AsyncGenerator<CheckpointTuple> {
    const c = config.configurable ?? {};
    const criteria = {
      ...(c['thread_id'] !== undefined ? { threadId: c['thread_id'] } : {}),
      ...(c['checkpoint_ns'] !== undefined ? { namespace: c['checkpoint_ns'] } : {}),
      ...(c['checkpoint_id'] ? { checkpointId: c['checkpoint_id'] } : {}),
      ...(options?.before?.configurable?.['checkpoint_id'] ? { before: options.before.configurable['checkpoint_id'] } : {}),
      ...(options?.filter !== undefined ? { filter: options.filter } : {}),
    };
    let remaining = options?.limit ?? Number.POSITIVE_INFINITY;
    let after: GraphCheckpointRecord | undefined;
    let size = LIST_PAGES.first;
    while (remaining > 0) {
      const limit = Math.min(size, remaining);
      size = Math.min(size * 2, LIST_PAGES.last);
      const page = await this.store.listGraphCheckpoints({
        ...criteria,
        limit,
        ...(after ? { after: { threadId: after.threadId, namespace: after.namespace, checkpointId: after.checkpointId } } : {}),
      });
      for (const record of page) yield await this.#toTuple(record);
      if (page.length < limit) return;
      remaining -= page.length;
      after = page.at(-1);
    }
  }

  /**
   * Saves a checkpoint as the child of the config's checkpoint_id; returns the config that names it.
   * Its channel values are stored once per version, as LangGraph's Postgres saver stores them: only
   * the channels in `newVersions` are written (a channel in it without a value is recorded as
   * cleared); the checkpoint itself keeps the version of every channel and no values.
   */
  async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, newVersions: ChannelVersions): Promise<RunnableConfig> {
    const threadId = threadOf(config, 'put');
    const namespace: string = config.configurable?.['checkpoint_ns'] ?? '';
    const { channel_values: values = {}, ...rest } = copyCheckpoint(checkpoint);
    const channelValues = [];
    for (const [channel, version] of Object.entries(newVersions ?? {})) {
      channelValues.push(
        channel in values
          ? await this.#storedValue(threadId, namespace, channel, versionKey(version), values[channel])
          : { channel, version: versionKey(version), type: EMPTY, value: new Uint8Array(0) },
      );
    }
    const channelVersions = Object.fromEntries(Object.entries(checkpoint.channel_versions ?? {}).map(([channel, version]) => [channel, versionKey(version)]));
    const [type, bytes] = await this.#dump({ ...rest, channel_values: {} }, 'checkpoint');
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
      channelVersions,
      channelValues,
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

  /**
   * Keeps the thread's `keepLatest` newest checkpoints (per namespace) and deletes the rest, with
   * their writes and the channel values no kept checkpoint names (the store's pruneGraphCheckpoints).
   *
   * @example
   * await saver.prune({ threadId: 'agent-1', keepLatest: 50 });
   */
  async prune(options: { threadId: string; namespace?: string; keepLatest: number }): Promise<{ deletedCheckpoints: number; deletedValues: number }> {
    return this.store.pruneGraphCheckpoints(options);
  }

  /** Deletes a thread's checkpoints and writes in every namespace (the store thread of that id, if any, stays). */
  async deleteThread(threadId: string): Promise<void> {
    await this.store.deleteGraphThread(threadId);
  }
}
