/**
 * Sync's two ends in one process, for the Node tests: a server store with its SyncServer, device
 * stores with their SyncDevice, and a synchronous session that does what the engine does with frames
 * (hello → welcome, a re-pull when asked, push → ack one batch at a time, pull → changes while more).
 * Real sqlite-wasm everywhere; only the socket is left out (the simulation and test/sync have it).
 */
import { expect } from 'vitest';
import { createMemoryStore, type MemoryStore, type MemoryStoreOptions } from '../../src/memory-store.js';
import { SyncDevice } from '../../src/sync/device.js';
import { DEFAULT_SYNC_LIMITS, type Ack, type Changes, type SyncLimits } from '../../src/sync/protocol.js';
import { SyncServer, type SyncServerOptions } from '../../src/sync/server.js';
import { syncedDump } from './sync-dump.js';

/** A store with its side of sync. */
export interface Side<T> {
  store: MemoryStore;
  sync: T;
}

export type ServerSide = Side<SyncServer>;
export type DeviceSide = Side<SyncDevice>;

/** A server store. */
export async function newServer(options: SyncServerOptions & MemoryStoreOptions = {}): Promise<ServerSide> {
  const store = await createMemoryStore(options);
  return { store, sync: SyncServer.attach(store, options) };
}

/** A device store with sync on (or not, with `enable: false`). */
export async function newDevice(options: MemoryStoreOptions & { enable?: boolean } = {}): Promise<DeviceSide> {
  const store = await createMemoryStore(options);
  const sync = SyncDevice.attach(store);
  if (options.enable !== false) sync.enable();
  return { store, sync };
}

/** Opens a store again from its bytes, as a restart does (a new run: the device is attached anew). */
export async function reopen(side: DeviceSide, options: MemoryStoreOptions = {}): Promise<DeviceSide> {
  const store = await createMemoryStore({ ...options, bytes: side.store.exportBytes(), sessionIndex: side.store.sessionIndexText() });
  return { store, sync: SyncDevice.attach(store) };
}

/** Reopens a server from its bytes (a Durable Object restart). */
export async function reopenServer(side: ServerSide, options: SyncServerOptions & MemoryStoreOptions = {}): Promise<ServerSide> {
  const store = await createMemoryStore({ ...options, bytes: side.store.exportBytes(), sessionIndex: side.store.sessionIndexText() });
  return { store, sync: SyncServer.attach(store, options) };
}

export interface SessionOptions {
  /** The server applies the first push, and its ack never arrives: the session ends there. */
  loseAcks?: boolean;
  limits?: SyncLimits;
  pageSize?: number;
  /** Skip the pushes (a poke's pull while the outbox is not empty). */
  pullOnly?: boolean;
}

/** What one session moved, and the acks it got. */
export interface SessionResult {
  pushed: number;
  pulled: number;
  acks: Ack[];
}

/** Pulls until the server has nothing more (a re-pull included). */
function pullAll(server: ServerSide, device: DeviceSide, limits: SyncLimits, pageSize: number): number {
  let pulled = 0;
  const id = device.sync.hello().device;
  for (;;) {
    const page: Changes = server.sync.pull(id, device.sync.nextPull(pageSize), limits);
    expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThanOrEqual(limits.maxFrameBytes);
    device.sync.applyPulled(page.changes, page.cursor, page.more);
    pulled += page.changes.length;
    if (!page.more) return pulled;
  }
}

/** Hello, welcome, and the full re-pull the welcome may ask for (every device's first session does): what comes before a device's first push. */
export function connect(server: ServerSide, device: DeviceSide, limits: SyncLimits = DEFAULT_SYNC_LIMITS): string {
  device.sync.enable();
  const hello = device.sync.hello();
  device.sync.welcome(server.sync.hello(hello, limits));
  if (device.sync.status().resyncing) pullAll(server, device, limits, 500);
  return hello.device;
}

/** One sync session of a device, as the engine runs it. */
export function session(server: ServerSide, device: DeviceSide, options: SessionOptions = {}): SessionResult {
  const limits = options.limits ?? DEFAULT_SYNC_LIMITS;
  const pageSize = options.pageSize ?? 500;
  device.sync.enable();
  const hello = device.sync.hello();
  device.sync.welcome(server.sync.hello(hello, limits));
  const result: SessionResult = { pushed: 0, pulled: 0, acks: [] };
  if (device.sync.status().resyncing) result.pulled += pullAll(server, device, limits, pageSize);
  if (!options.pullOnly) {
    for (let batch = device.sync.nextPush(limits); batch; batch = device.sync.nextPush(limits)) {
      let ack: Ack;
      try {
        ack = server.sync.push(hello.device, batch, limits);
      } catch (error) {
        const e = error as { code: string; message: string };
        if (e.code === 'CONFLICT') throw error;
        device.sync.refusePush(batch.push, e);
        continue;
      }
      result.pushed += batch.changes.length;
      result.acks.push(ack);
      if (options.loseAcks) return result;
      device.sync.acknowledge(ack);
    }
  }
  result.pulled += pullAll(server, device, limits, pageSize);
  return result;
}

/** Syncs every device until nothing moves (two rounds: the last device's push reaches the first). */
export function settle(server: ServerSide, ...devices: DeviceSide[]): void {
  for (let round = 0; round < 2; round++) for (const d of devices) session(server, d);
}

type Sql = { all(sql: string, params?: unknown[]): Record<string, unknown>[] };

/** The raw connection of a memory store (tests only). */
export const sqlOf = (side: { store: MemoryStore }): Sql => (side.store as unknown as { db: Sql }).db;

/** What must be equal on every copy once sync is quiet. */
export const dump = (side: { store: MemoryStore }) => syncedDump((sql) => sqlOf(side).all(sql));

/** A thread record for upsertThread. */
export const thread = (id: string, over: Record<string, unknown> = {}) => ({
  id,
  preview: '',
  ephemeral: false,
  modelProvider: 'openai',
  createdAt: 1,
  updatedAt: 1,
  status: 'idle' as const,
  cwd: '/',
  cliVersion: '1',
  source: 'api' as const,
  ...over,
});

/** A goal record for upsertThreadGoal. */
export const goal = (threadId: string, goalId: string, over: Record<string, unknown> = {}) => ({
  threadId,
  goalId,
  objective: 'o',
  status: 'active' as const,
  tokenBudget: null,
  tokensUsed: 0,
  timeUsedSeconds: 0,
  continuationCount: 0,
  createdAt: 1,
  updatedAt: 1,
  ...over,
});
