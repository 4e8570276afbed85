import { DurableObject } from 'cloudflare:workers';
import type { StoreChange } from '../core/changes.js';
import { StoreError } from '../core/errors.js';
import { isServed, operation, type ServedMethod } from '../core/operations.js';
import { appliedResult, pruneAppliedRequests, recordApplied } from '../core/request-log.js';
import { StateStore } from '../core/store.js';
import { DEFAULT_SYNC_LIMITS, type ServerFrame, type SyncLimits } from '../sync/protocol.js';
import { SyncServer } from '../sync/server.js';
import { utf8Length } from '../sync/values.js';
import type { StoreInfo } from '../core/types.js';
import { durableObjectDriver, durableObjectTextFile, EDGE_CAPABILITIES } from './driver.js';
import { failure, plain, type EdgeReply } from './reply.js';
import { loadEdgeEngine } from './engine.js';
import { exportStream, MAX_STREAMED_IMPORT_BYTES, stageUpload } from './staging.js';
import { StagedSource } from '../core/transfer.js';

/** How long a write's request id is remembered: a client resends within seconds, never days. */
const REQUEST_LOG_SECONDS = 24 * 60 * 60;
const PRUNE_LOG_EVERY = 500;

/** The largest result the request log keeps (in JSON characters), under the engine's 2 MB per value. */
const MAX_LOGGED_RESULT_CHARS = 1 << 20;
/** What the log keeps for a larger result. */
const TOO_LARGE = { $resultTooLarge: true };

/** A logged result, answered again for a resent write; one too large to keep is a CONFLICT that says so. */
function replayed(value: unknown, method: string, requestId: string): unknown {
  if (value !== null && typeof value === 'object' && (value as Record<string, unknown>)['$resultTooLarge'] === true) {
    throw new StoreError('CONFLICT', `${method} was already applied (request ${requestId}); its result was too large to keep: read it back`, {
      details: { requestId, applied: true },
    });
  }
  return value;
}

/** The KV keys of sync tickets (see issueTicket). */
const TICKET_PREFIX = 'agent-state-store:ticket:';

/** The methods that need the in-memory sqlite-wasm engine (see ./image.ts). */
const FILE_METHODS: ReadonlySet<string> = new Set(['exportDatabase', 'importDatabase']);

/**
 * How the edge host differs from the browser's, reported by info().capabilities. Every difference is
 * a declared capability, never a silent no-op.
 */
export interface EdgeCapabilities {
  /** `quick`: integrityCheck() runs PRAGMA quick_check (the engine refuses integrity_check), which skips index contents. */
  integrityCheck: 'quick';
  /** `automatic`: the object's storage gives freed space back by itself; vacuum() measures and rebuilds nothing (result.automatic). */
  vacuum: 'automatic';
  /** `output-gate`: a reply leaves the object only after its write is durable; there is no relaxed mode. */
  durability: 'output-gate';
  /**
   * `rpc`: subscribe, watchBranch and watchThreads work through edgeStore(): the client's listener
   * crosses RPC as a function stub and hears every committed change of the object, for as long as
   * the Worker invocation that subscribed lives.
   */
  listeners: 'rpc';
  /** True: exportDatabase and importDatabase move the same SQLite files as the browser (built in an in-memory sqlite-wasm copy). */
  exportImport: true;
  /** False: the engine refuses sqlite_version(), so info().sqliteVersion is "unknown". */
  sqliteVersion: false;
}

/** What a sync socket remembers across hibernation (ws.serializeAttachment): when it opened, and the device its hello named once welcomed. */
interface SocketState {
  device: string | null;
  /** Milliseconds since the epoch. */
  openedAt: number;
}

/** The sync frame a socket sent, parsed just enough to dispatch it; the core validates the rest. */
type ReceivedFrame = { type: string } & Record<string, unknown>;

/** A caller's listener as it arrives over RPC: a function stub that can be kept (dup) and released. */
type RemoteListener = ((change: unknown) => unknown) & { dup?: () => RemoteListener; [Symbol.dispose]?: () => void };

/** The capabilities of this build of the edge host. */
export const EDGE_HOST_CAPABILITIES: EdgeCapabilities = {
  integrityCheck: EDGE_CAPABILITIES.integrityCheck as 'quick',
  vacuum: EDGE_CAPABILITIES.vacuum as 'automatic',
  durability: 'output-gate',
  listeners: 'rpc',
  exportImport: true,
  sqliteVersion: false,
};

/** What the edge host's info() reports: the core's facts, plus the host and its capabilities. */
export type EdgeStoreInfo = StoreInfo & { host: 'durable-object'; capabilities: EdgeCapabilities };

/**
 * A Durable Object that hosts one StateStore: its database is the object's SQLite, its session index
 * a file in the object's KV storage. Bind it with `new_sqlite_classes` in wrangler.jsonc and reach it
 * from Worker code with edgeStore(). One object per user or workspace.
 *
 * Calls run one at a time (the object is single-threaded and every call is synchronous), each in its
 * own transaction together with its session-index lines.
 *
 * It is also the sync server of its browser stores: `fetch` accepts a WebSocket upgrade (the router's
 * `<prefix>/<store>/sync` route forwards it after authorize) with the hibernation API, and the
 * socket speaks the frames of src/sync/protocol.ts. Its limits are `syncLimits`; a subclass
 * overrides them.
 *
 * @example
 * export { StateStoreObject } from 'agent-state-store/cloudflare';
 */
export class StateStoreObject<Env = unknown> extends DurableObject<Env> {
  #store: StateStore | undefined;
  #sync: SyncServer | undefined;
  /** Writes logged with a request id since this instance started; the log is pruned every PRUNE_LOG_EVERY. */
  #logged = 0;
  /** The callers' change feeds, by the id each client chose (see subscribe). */
  readonly #feeds = new Map<string, RemoteListener>();

  /**
   * The sync server's limits, sent to each device in `welcome`: changes per push, bytes of one
   * change, bytes of one frame. Override in a subclass to change them, e.g.
   * `protected override syncLimits = { ...DEFAULT_SYNC_LIMITS, maxChanges: 100 };`
   */
  protected syncLimits: SyncLimits = DEFAULT_SYNC_LIMITS;

  /**
   * How long a sync socket may live, in milliseconds. The router checks the token only when a socket
   * opens; once it is this old, the object closes it (code 4001) at its next frame or poke, and the
   * device reconnects with a fresh token, which `authorize` checks again. So a revoked token stops
   * syncing within this time. Default 15 minutes; override in a subclass.
   */
  protected syncSocketMaxAgeMs = 15 * 60_000;

  /** The hosted store, opened (and migrated) on first use. */
  protected get store(): StateStore {
    if (!this.#store) {
      const store = StateStore.open({
        db: durableObjectDriver(this.ctx.storage),
        sessionIndex: durableObjectTextFile(this.ctx.storage.kv),
        dbPath: `durable-object:${this.ctx.id.toString()}`,
      });
      // The feeds belong to the object, so they outlive a reopened store.
      store.subscribe((change) => this.#publish(change));
      this.#store = store;
      this.#sync = SyncServer.attach(store);
    }
    return this.#store;
  }

  /** The store's server side of sync. */
  get #server(): SyncServer {
    void this.store;
    return this.#sync!;
  }

  #publish(change: StoreChange): void {
    const data = plain(change);
    for (const [id, listener] of this.#feeds) {
      // A caller that has gone away ends its feed.
      Promise.resolve()
        .then(() => listener(data))
        .catch(() => this.#drop(id));
    }
  }

  #drop(id: string): void {
    const listener = this.#feeds.get(id);
    this.#feeds.delete(id);
    listener?.[Symbol.dispose]?.();
  }

  /**
   * Starts the change feed `id`: `listener` (a function stub from the caller) hears every change a
   * call commits, as { kind, method, threadId, id }, until unsubscribe(id) or the caller goes away.
   * edgeStore() builds subscribe, watchBranch and watchThreads on it.
   */
  async subscribe(id: string, listener: (change: unknown) => unknown): Promise<EdgeReply<null>> {
    try {
      if (typeof id !== 'string' || id.length === 0) throw new StoreError('INVALID_ARGUMENT', 'id must be a non-empty string', { details: { field: 'id' } });
      if (typeof listener !== 'function') throw new StoreError('INVALID_ARGUMENT', 'listener must be a function', { details: { field: 'listener' } });
      void this.store;
      this.#drop(id);
      // A stub passed as an argument lasts only as long as the call unless it is duplicated.
      const kept = (listener as RemoteListener).dup?.() ?? listener;
      this.#feeds.set(id, kept as RemoteListener);
      return { ok: true, value: null };
    } catch (error) {
      return failure(error);
    }
  }

  /** Ends the change feed `id`; a feed that does not exist is a no-op. */
  async unsubscribe(id: string): Promise<EdgeReply<null>> {
    this.#drop(String(id));
    return { ok: true, value: null };
  }

  /**
   * Runs one served method of the operation table with `args` and answers plain data: the value, or
   * the StoreError as { code, message, details }. Internal and unknown methods are INVALID_ARGUMENT.
   */
  async call(method: string, args: unknown[], requestId?: string): Promise<EdgeReply> {
    try {
      if (!isServed(method)) {
        throw new StoreError('INVALID_ARGUMENT', `${String(method)} is not a method this store serves`, { details: { field: 'method' } });
      }
      if (!Array.isArray(args)) throw new StoreError('INVALID_ARGUMENT', `${method}: args must be an array`, { details: { field: 'args' } });
      if (requestId !== undefined && (typeof requestId !== 'string' || requestId.length === 0 || requestId.length > 128)) {
        throw new StoreError('INVALID_ARGUMENT', 'requestId must be a string of 1 to 128 characters', { details: { field: 'requestId' } });
      }
      // Files are built and checked in an in-memory sqlite-wasm database, loaded on first need.
      if (FILE_METHODS.has(method)) await loadEdgeEngine();
      return { ok: true, value: plain(this.#run(method, args, requestId)) };
    } catch (error) {
      return failure(error);
    }
  }

  /**
   * Issues a sync ticket: a random one-use token, good for `ttlSeconds` (default 30), that the router
   * exchanges for a sync socket of this store (`…/sync?ticket=…`) instead of a long-lived token in the
   * URL. Kept in the object's storage; expired ones are swept as new ones are issued.
   */
  async issueTicket(ttlSeconds = 30): Promise<EdgeReply<{ ticket: string; expiresAt: number }>> {
    try {
      const ttl = Number.isFinite(ttlSeconds) ? Math.min(Math.max(Math.trunc(ttlSeconds), 1), 300) : 30;
      const now = Date.now();
      const kv = this.ctx.storage.kv;
      for (const [key, expiresAt] of kv.list<number>({ prefix: TICKET_PREFIX })) if (expiresAt <= now) kv.delete(key);
      const ticket = `${crypto.randomUUID()}${crypto.randomUUID()}`.replaceAll('-', '');
      const expiresAt = now + ttl * 1000;
      kv.put(TICKET_PREFIX + ticket, expiresAt);
      return { ok: true, value: { ticket, expiresAt } };
    } catch (error) {
      return failure(error);
    }
  }

  /** Uses up a ticket: true once for a ticket issued here and not yet expired, false after and otherwise. */
  async redeemTicket(ticket: string): Promise<boolean> {
    if (typeof ticket !== 'string' || !/^[0-9a-f]{64}$/.test(ticket)) return false;
    const kv = this.ctx.storage.kv;
    const expiresAt = kv.get<number>(TICKET_PREFIX + ticket);
    if (expiresAt === undefined) return false;
    kv.delete(TICKET_PREFIX + ticket);
    return expiresAt > Date.now();
  }

  /**
   * The database as a SQLite file, streamed: built in the object's storage in 64 KiB blocks and read
   * out block by block, so neither the object's memory nor one RPC value (32 MiB) bounds its size.
   * The router's `GET …/export` and edgeStore().exportStream() use it.
   */
  async exportStream(): Promise<EdgeReply<{ stream: ReadableStream<Uint8Array>; byteLength: number }>> {
    try {
      await loadEdgeEngine();
      const driver = this.store.layer().db;
      const { stream, byteLength } = exportStream(this.ctx.storage.kv, {
        db: driver,
        schemaVersion: driver.readSchemaVersion?.() ?? 0,
        transaction: (fn) => this.ctx.storage.transactionSync(fn),
      });
      return { ok: true, value: { stream, byteLength } };
    } catch (error) {
      return failure(error);
    }
  }

  /**
   * Imports a SQLite file that arrives as a stream: written into the object's storage block by block
   * as it comes (refused past `maxBytes`, default MAX_STREAMED_IMPORT_BYTES), then checked and copied
   * from there like importDatabase (same checks, result and errors), never whole in memory.
   */
  async importStream(body: ReadableStream<Uint8Array>, options: { maxBytes?: number; sessionIndex?: string; requestId?: string } = {}): Promise<EdgeReply> {
    try {
      if (!(body instanceof ReadableStream)) throw new StoreError('INVALID_ARGUMENT', 'body must be a ReadableStream of the file', { details: { field: 'body' } });
      const maxBytes = options.maxBytes ?? MAX_STREAMED_IMPORT_BYTES;
      if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new StoreError('INVALID_ARGUMENT', 'maxBytes must be a positive integer', { details: { field: 'maxBytes' } });
      await loadEdgeEngine();
      const file = await stageUpload(this.ctx.storage.kv, body, maxBytes);
      try {
        const args = [new StagedSource(file), options.sessionIndex === undefined ? {} : { sessionIndex: options.sessionIndex }];
        return { ok: true, value: plain(this.#run('importDatabase', args, options.requestId)) };
      } finally {
        file.discard();
      }
    } catch (error) {
      return failure(error);
    }
  }

  /** The core's info() with this host's facts and capabilities (see EdgeCapabilities). */
  async info(): Promise<EdgeReply<EdgeStoreInfo>> {
    try {
      const facts = this.store.info();
      return { ok: true, value: plain({ ...facts, durability: 'strict', host: 'durable-object', capabilities: EDGE_HOST_CAPABILITIES }) as EdgeStoreInfo };
    } catch (error) {
      return failure(error);
    }
  }

  /**
   * Runs a served method. A write with a request id is applied at most once: its id and result go
   * into the request log in the write's own transaction, and the same id again is answered from the
   * log (a client resends a write whose reply a reset or deploy lost; see channel.ts).
   */
  #run(method: ServedMethod, args: unknown[], requestId: string | undefined): unknown {
    const fn = this.store[method] as (...a: unknown[]) => unknown;
    if (operation(method).mode === 'read') return fn.apply(this.store, args);
    if (requestId === undefined || !operation(method).change) return this.#write((store) => fn.apply(store, args));
    return this.#write((store) => {
      const db = store.layer().db;
      const prior = appliedResult(db, requestId);
      if (prior) return replayed(prior.value, method, requestId);
      const result = plain(fn.apply(store, args));
      const now = Math.floor(Date.now() / 1000);
      // A row holds at most 2 MB here: a result near that (a record with a huge content) is not kept.
      const kept = JSON.stringify(result ?? null).length > MAX_LOGGED_RESULT_CHARS ? TOO_LARGE : result;
      recordApplied(db, requestId, method, kept, now);
      if (++this.#logged % PRUNE_LOG_EVERY === 0) pruneAppliedRequests(db, now - REQUEST_LOG_SECONDS);
      return result;
    });
  }

  /**
   * Runs a write on the store atomically, the one path every write of this object takes. What the
   * object wrote itself goes into the sync log in the same transaction, and the devices are poked.
   */
  #write<T>(work: (store: StateStore) => T): T {
    const store = this.store;
    const sync = this.#server;
    try {
      // One transaction for the call's rows and its session-index lines (some calls, compaction for
      // one, write only the index), so a failure leaves neither behind.
      let logged = 0;
      const result = this.ctx.storage.transactionSync(() => {
        const value = work(store);
        logged = sync.logOwnWrites();
        return value;
      });
      if (logged > 0) this.#poke(null, sync.cursor());
      return result;
    } catch (error) {
      // The index file rolled back with the call, but the store's in-memory map of it may not have:
      // reopen from storage on the next call.
      // REPLACED is refused before anything is written, and the store remembers the replaced streams
      // it refuses: keep it.
      if (!(error instanceof StoreError && error.code === 'REPLACED')) this.#store = undefined;
      throw error;
    }
  }

  /**
   * Accepts a sync WebSocket (the router forwards `<prefix>/<store>/sync` upgrades here after
   * authorize) with the hibernation API: the object may sleep between frames and the socket stays
   * open. Anything but a WebSocket upgrade is refused with 426. A subclass with a fetch of its own
   * hands sync upgrades to `super.fetch(request)`.
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      const error = { code: 'INVALID_ARGUMENT', message: 'this object serves only sync WebSocket upgrades' };
      return new Response(JSON.stringify({ error }), { status: 426, headers: { upgrade: 'websocket', 'content-type': 'application/json; charset=utf-8' } });
    }
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ device: null, openedAt: Date.now() } satisfies SocketState);
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * One frame from a sync socket: hello → welcome, push → ack (and a poke to every other welcomed
   * socket when rows were applied), pull → changes. Whatever is wrong with a frame is answered with
   * an error frame, never a crash, and writes nothing; only a refused hello closes the socket.
   */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const limits = this.syncLimits;
    let frame: ReceivedFrame | undefined;
    try {
      const state = socketState(ws);
      if (this.#expired(ws, state)) return;
      const received = parseFrame(message, limits);
      frame = received;
      if (received.type === 'hello') {
        if (state.device !== null) throw new StoreError('INVALID_ARGUMENT', 'this socket has already said hello', { details: { field: 'type' } });
        try {
          const welcome = this.#write(() => this.#server.hello(received, limits));
          ws.serializeAttachment({ device: String(received['device']), openedAt: state.openedAt } satisfies SocketState);
          send(ws, welcome);
        } catch (error) {
          send(ws, errorFrame(error));
          ws.close(1008, 'hello refused');
        }
        return;
      }
      if (received.type !== 'push' && received.type !== 'pull') {
        throw new StoreError('INVALID_ARGUMENT', `unknown frame type ${JSON.stringify(received.type.slice(0, 32))}; send hello, push or pull`, { details: { field: 'type' } });
      }
      const device = state.device;
      if (device === null) throw new StoreError('INVALID_ARGUMENT', `${received.type} before a successful hello`, { details: { field: 'type' } });
      if (received.type === 'pull') {
        send(ws, this.#write(() => this.#server.pull(device, received, limits)));
        return;
      }
      const ack = this.#write(() => this.#server.push(device, received, limits));
      send(ws, ack);
      if (ack.applied > 0) this.#poke(ws, ack.cursor);
    } catch (error) {
      const push = frame?.type === 'push' && Number.isSafeInteger(frame['push']) ? (frame['push'] as number) : undefined;
      send(ws, errorFrame(error, push));
    }
  }

  /** A sync socket closed by its client: closes this end too (it may already be closed). */
  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      // 1005 and 1006 only describe a close; they cannot be sent.
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }

  /** A sync socket that failed: close it; the device reconnects and resends what was not acknowledged. */
  override async webSocketError(ws: WebSocket): Promise<void> {
    try {
      ws.close(1011, 'socket error');
    } catch {
      // Already closed.
    }
  }

  /** Tells every other welcomed socket of this store that the server's log now reaches `cursor`: their devices pull. */
  #poke(from: WebSocket | null, cursor: number): void {
    for (const ws of this.ctx.getWebSockets()) {
      const state = socketState(ws);
      if (ws === from || state.device === null || this.#expired(ws, state)) continue;
      send(ws, { type: 'poke', cursor });
    }
  }

  /** Closes a socket past syncSocketMaxAgeMs (the device reconnects, and authorize sees its token again); true when it did. */
  #expired(ws: WebSocket, state: SocketState): boolean {
    if (Date.now() - state.openedAt <= this.syncSocketMaxAgeMs) return false;
    try {
      ws.close(4001, 'the sync socket reached its maximum age; reconnect');
    } catch {
      // Already closing.
    }
    return true;
  }
}

/** The socket's state as it was last attached (a socket accepted before this version has none). */
function socketState(ws: WebSocket): SocketState {
  const state = ws.deserializeAttachment() as Partial<SocketState> | null;
  // A socket accepted before sockets had an age counts from now.
  return { device: typeof state?.device === 'string' ? state.device : null, openedAt: typeof state?.openedAt === 'number' ? state.openedAt : Date.now() };
}

/** Sends one frame; a socket that has closed meanwhile drops it (the device resends or pulls later). */
function send(ws: WebSocket, frame: ServerFrame): void {
  try {
    ws.send(JSON.stringify(frame));
  } catch {
    // Closed or closing.
  }
}

/** An error as a frame: a StoreError keeps its code and message, anything else is STORAGE. */
function errorFrame(error: unknown, push?: number): ServerFrame {
  const { code, message } = (failure(error) as { ok: false; error: { code: StoreError['code']; message: string } }).error;
  return { type: 'error', code, message, ...(push === undefined ? {} : { push }) };
}

/** A text frame of JSON with a string `type`, within the frame limit; anything else is INVALID_ARGUMENT. */
function parseFrame(message: string | ArrayBuffer, limits: SyncLimits): ReceivedFrame {
  if (typeof message !== 'string') throw new StoreError('INVALID_ARGUMENT', 'sync frames are JSON text; a binary frame was sent', { details: { field: 'frame' } });
  // Counting UTF-8 bytes only when the character count leaves it in doubt (a character is 1 to 3 bytes).
  if (message.length > limits.maxFrameBytes || (message.length * 3 > limits.maxFrameBytes && utf8Length(message) > limits.maxFrameBytes)) {
    throw new StoreError('INVALID_ARGUMENT', `the frame is over the limit of ${limits.maxFrameBytes} bytes`, { details: { field: 'frame', limitBytes: limits.maxFrameBytes } });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    throw new StoreError('INVALID_ARGUMENT', 'a sync frame must be JSON', { details: { field: 'frame' } });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || typeof (parsed as { type?: unknown }).type !== 'string') {
    throw new StoreError('INVALID_ARGUMENT', 'a sync frame must be a JSON object with a string "type"', { details: { field: 'type' } });
  }
  return parsed as ReceivedFrame;
}
