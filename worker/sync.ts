/**
 * The browser end of sync (issue #15), run by the leading tab's worker when its page opened the store
 * with `sync`. It carries frames between the core and the store's Durable Object; the core does all
 * the data work (outbox, cursor, merge), each step in its own short transaction through the leader's
 * group commit, so a local write or read never waits for the network.
 *
 * One session: hello → welcome, then push the outbox a batch at a time (one in flight; acknowledged
 * on `ack`), pull from the cursor while `more`, and wait for a local commit (a nudge) or a `poke`.
 * When the socket closes or fails, the state is `offline` and the engine retries with backoff.
 */
import type { StoreChange } from '../src/core/changes.js';
import { STORE_ERROR_CODES, StoreError, type StoreErrorCode } from '../src/core/errors.js';
import { SYNC_PROTOCOL, type ClientFrame, type ServerFrame, type SyncLimits, type SyncState } from '../src/core/sync-protocol.js';
import type { StateStore } from '../src/core/store.js';
import type { TokenSource } from '../src/wire.js';

/** The core's sync methods the engine calls (mode 'internal' in the operation table: never served to a page). */
export type SyncCore = Pick<StateStore, 'enableSync' | 'syncWelcome' | 'nextPush' | 'acknowledgePush' | 'applyPulled' | 'syncStatus'>;

/** What the engine needs of the leader: its group commit and its changes channel. */
export interface SyncHost {
  /** Runs a core write in the group commit; the notices it returns are published after the commit, like a local write's. */
  write<T>(run: (core: SyncCore) => T, notices?: (result: T) => StoreChange[]): Promise<T>;
  /** Runs a core read in the group commit's queue. */
  read<T>(run: (core: SyncCore) => T): Promise<T>;
  /** Publishes a `sync` notice on the changes channel. */
  announce(state: SyncState): void;
}

type SyncError = NonNullable<SyncState['lastError']>;

/** Backoff: the first retry waits about RETRY_FIRST_MS, each next one twice as long, up to RETRY_MAX_MS. */
export const RETRY_FIRST_MS = 500;
export const RETRY_MAX_MS = 10_000;
/** Local commits are pushed together: a nudge waits this long for the commits right behind it. */
const NUDGE_MS = 20;
/** Pending-count notices: at most one per this interval. */
const STATUS_INTERVAL_MS = 100;
/** How long the socket may take to open, and the server to answer a frame. */
const OPEN_TIMEOUT_MS = 15_000;
const REPLY_TIMEOUT_MS = 30_000;
/** How long getToken may take. */
const TOKEN_TIMEOUT_MS = 30_000;
/** Changes per pull. */
const PULL_LIMIT = 500;
/**
 * How often the worker looks at navigator.onLine while it waits. Chromium updates it in a worker but
 * fires no `offline` event there (seen under DevTools' offline emulation, which also leaves an open
 * socket silently stalled), so the page forwards its own events (network()) and this catches the rest.
 */
const ONLINE_POLL_MS = 1_000;

/** navigator.onLine, where there is one: false means surely offline; true may be wrong. */
const surelyOffline = (): boolean => (globalThis.navigator as Navigator | undefined)?.onLine === false;

/**
 * How long to wait before reconnect attempt `attempt` (0-based): doubling from RETRY_FIRST_MS, capped
 * at RETRY_MAX_MS, and spread over its upper half by `random` (0…1) so that devices a server restart
 * dropped together do not all come back in the same instant.
 */
export function retryDelay(attempt: number, random: number = Math.random()): number {
  const full = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.round(full / 2 + (full / 2) * Math.min(Math.max(random, 0), 1));
}

/** The WebSocket's URL: ws(s) for http(s), and the token as `access_token` (a browser cannot set headers on a WebSocket). */
export function syncSocketUrl(url: string, token: string): string {
  return `${url.replace(/^http/, 'ws')}/sync?access_token=${encodeURIComponent(token)}`;
}

/** The probe's URL: a plain GET with `Authorization: Bearer <token>`, answered 204 when the token is good. */
export function syncProbeUrl(url: string): string {
  return `${url}/sync`;
}

const isCode = (code: unknown): code is StoreErrorCode => (STORE_ERROR_CODES as readonly unknown[]).includes(code);

/**
 * What a refused probe means: the router's `{ error: { code, message } }`, or 401 → UNAUTHORIZED and
 * 403 → FORBIDDEN where the body says nothing usable. Null for an answer that is not a refusal.
 */
export function probeRefusal(status: number, body: string): SyncError | null {
  if (status < 400) return null;
  let error: { code?: unknown; message?: unknown } = {};
  try {
    const parsed = JSON.parse(body) as { error?: typeof error } | null;
    if (parsed && typeof parsed.error === 'object' && parsed.error !== null) error = parsed.error;
  } catch {
    // Not the router's JSON (a proxy's page): the status alone says what happened.
  }
  const byStatus: StoreErrorCode | undefined = status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'FORBIDDEN' : undefined;
  const code = isCode(error.code) ? error.code : byStatus;
  if (!code) return null;
  const message = typeof error.message === 'string' ? error.message : `the sync endpoint answered ${status}`;
  return { code, message };
}

function asSyncError(error: unknown, fallback: StoreErrorCode): SyncError {
  if (error instanceof StoreError) return { code: error.code, message: error.message };
  if (typeof error === 'object' && error !== null && isCode((error as { code?: unknown }).code)) {
    return { code: (error as { code: StoreErrorCode }).code, message: String((error as { message?: unknown }).message ?? '') };
  }
  return { code: fallback, message: error instanceof Error ? error.message : String(error) };
}

/** A promise that anyone can wake, and that is then replaced by a fresh one. */
class Signal {
  private wake: () => void = () => {};
  private waiting: Promise<void> | undefined;

  /** Resolves at the next notify(), or after `ms` when given. */
  wait(ms?: number): Promise<void> {
    this.waiting ??= new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    if (ms === undefined) return this.waiting;
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([this.waiting, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
  }

  notify(): void {
    this.waiting = undefined;
    this.wake();
  }
}

/** Why a session ended early: the server refused something (an `error` frame), or the connection broke. */
class SessionEnded extends Error {
  constructor(
    readonly refusal: SyncError | null,
    message: string,
  ) {
    super(message);
  }
}

/** One WebSocket: frames queue up as they arrive; every event wakes the engine. */
class Connection {
  readonly socket: WebSocket;
  readonly frames: unknown[] = [];
  state: 'connecting' | 'open' | 'closed' = 'connecting';

  constructor(url: string, onEvent: () => void) {
    this.socket = new WebSocket(url);
    this.socket.onopen = () => {
      if (this.state === 'connecting') this.state = 'open';
      onEvent();
    };
    this.socket.onmessage = (event: MessageEvent) => {
      let frame: unknown;
      try {
        frame = typeof event.data === 'string' ? JSON.parse(event.data) : null;
      } catch {
        frame = null;
      }
      this.frames.push(frame);
      onEvent();
    };
    this.socket.onclose = () => {
      this.state = 'closed';
      onEvent();
    };
    // An error is followed by close, which is what the engine acts on.
    this.socket.onerror = () => {};
  }

  send(frame: ClientFrame): void {
    if (this.state !== 'open') throw new SessionEnded(null, 'the socket is closed');
    this.socket.send(JSON.stringify(frame));
  }

  close(): void {
    this.state = 'closed';
    try {
      this.socket.close();
    } catch {
      // Already closing.
    }
  }
}

/** What a session did, for the backoff: a session that made progress starts the retries over. */
interface SessionOutcome {
  /** The server answered hello: the token was good. */
  welcomed: boolean;
  progressed: boolean;
  refused: boolean;
}

/**
 * Keeps one store in sync while its tab's worker leads. Start it once; stop it when the leader closes.
 * The page's getToken is called before every connection attempt, so a new token is used at the next one.
 */
export class SyncEngine {
  private status: SyncState = { state: 'connecting', pending: 0, lastError: null, cursor: 0 };
  private announced = '';
  private announcedState = '';
  private announcedAt = 0;
  private announceTimer: ReturnType<typeof setTimeout> | undefined;
  /** The last error came from connecting (a token, a refused probe): a welcome clears it. */
  private connectError = false;
  private stopped = false;
  private running: Promise<void> | undefined;
  private connection: Connection | undefined;
  /** Wakes the session: a frame, a closed socket, a nudge, stop. */
  private readonly events = new Signal();
  /** Ends a backoff early: an `online` event, stop. */
  private readonly retryNow = new Signal();
  /** Local commits not yet looked at by the push loop. */
  private dirty = true;
  private nudgeTimer: ReturnType<typeof setTimeout> | undefined;
  private statusTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly onOnline = () => this.retryNow.notify();
  private readonly onOffline = () => {
    // The network is gone: do not wait for the socket to time out.
    this.connection?.close();
    this.events.notify();
  };

  constructor(
    private readonly host: SyncHost,
    private readonly url: string,
    private readonly getToken: TokenSource,
  ) {}

  /** The status as last read (the notices' view: the pending count may be up to STATUS_INTERVAL_MS old). */
  state(): SyncState {
    return { ...this.status, lastError: this.status.lastError ? { ...this.status.lastError } : null };
  }

  /** The status with the pending count and cursor read now (info().sync). */
  async current(): Promise<SyncState> {
    await this.refresh();
    return this.state();
  }

  /** Starts syncing: turns sync on in the database, then connects and keeps connecting. */
  start(): void {
    if (this.running) return;
    globalThis.addEventListener?.('online', this.onOnline);
    globalThis.addEventListener?.('offline', this.onOffline);
    this.announce();
    this.running = this.run().catch((error: unknown) => {
      // Not expected (every step reports its own failure and retries), but never an unhandled rejection.
      if (this.stopped) return;
      this.update({ state: 'offline', lastError: asSyncError(error, 'STORAGE') });
    });
  }

  /** A local commit happened: push it soon (commits in quick succession share one push). */
  nudge(): void {
    if (this.stopped) return;
    this.dirty = true;
    this.refreshSoon();
    this.nudgeTimer ??= setTimeout(() => {
      this.nudgeTimer = undefined;
      this.events.notify();
    }, NUDGE_MS);
  }

  /** The page's `online` / `offline` event: connect at once, or drop the socket at once. */
  network(online: boolean): void {
    if (this.stopped) return;
    if (online) this.onOnline();
    else this.onOffline();
  }

  /**
   * Closes the socket and ends the loop without waiting for it (it may be waiting for getToken or a
   * probe; its next store call fails with CLOSED). A batch in flight stays recorded for the next leader to resend.
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    globalThis.removeEventListener?.('online', this.onOnline);
    globalThis.removeEventListener?.('offline', this.onOffline);
    clearTimeout(this.nudgeTimer);
    clearTimeout(this.statusTimer);
    clearTimeout(this.announceTimer);
    this.connection?.close();
    this.events.notify();
    this.retryNow.notify();
  }

  private async run(): Promise<void> {
    // At once, so that the outbox (and its pending count) starts now, also for a device that starts offline.
    await this.enable().catch(() => {});
    await this.refresh();
    for (let attempt = 0; !this.stopped; ) {
      // A browser that knows it is offline: no attempt (and no backoff growth) until it says otherwise.
      while (surelyOffline() && !this.stopped) {
        this.update({ state: 'offline' });
        await this.retryNow.wait(ONLINE_POLL_MS);
      }
      if (this.stopped) return;
      this.update({ state: 'connecting' });
      const outcome = await this.connect();
      if (this.stopped) return;
      this.connection = undefined;
      this.update({ state: 'offline' });
      // A session that got somewhere starts the backoff over; one refused or failing each time backs off further.
      attempt = outcome.progressed && !outcome.refused ? 0 : attempt + 1;
      await this.retryNow.wait(retryDelay(attempt));
    }
  }

  /** Turns sync on (idempotent) and returns the device's identity for hello. */
  private enable(): Promise<ReturnType<SyncCore['enableSync']>> {
    return this.host.write((core) => core.enableSync());
  }

  /** One connection attempt, from the token to the socket's end. */
  private async connect(): Promise<SessionOutcome> {
    const outcome: SessionOutcome = { welcomed: false, progressed: false, refused: false };
    let identity: ReturnType<SyncCore['enableSync']>;
    try {
      // Asked again at every attempt: an import may have replaced the database, and its identity with it.
      identity = await this.enable();
    } catch (error) {
      if (!this.stopped) this.fail(asSyncError(error, 'STORAGE'), false);
      outcome.refused = true;
      return outcome;
    }
    let token: string;
    try {
      token = await this.withTimeout(Promise.resolve(this.getToken()), TOKEN_TIMEOUT_MS, 'sync.getToken did not answer');
    } catch (error) {
      this.fail(asSyncError(error, 'UNAUTHORIZED'), true);
      outcome.refused = true;
      return outcome;
    }
    if (this.stopped) return outcome;
    const connection = new Connection(syncSocketUrl(this.url, token), () => this.events.notify());
    this.connection = connection;
    await this.until(() => connection.state !== 'connecting', OPEN_TIMEOUT_MS);
    if (connection.state !== 'open') {
      connection.close();
      if (!this.stopped) {
        // A refused upgrade looks like any network failure to a WebSocket: ask over plain HTTP why.
        const refusal = await this.probe(token);
        if (refusal) {
          this.fail(refusal, true);
          outcome.refused = true;
        }
      }
      return outcome;
    }
    try {
      await this.session(connection, identity, outcome);
    } catch (error) {
      if (error instanceof SessionEnded && error.refusal) {
        // Refused before the welcome (a server that answers a bad token with an error frame): a connection error.
        this.fail(error.refusal, !outcome.welcomed);
        outcome.refused = true;
      } else if (!(error instanceof SessionEnded)) {
        // The core refused a frame's content (a welcome or changes it cannot apply): report it, drop the socket.
        this.fail(asSyncError(error, 'STORAGE'), false);
        outcome.refused = true;
      }
    } finally {
      connection.close();
    }
    return outcome;
  }

  /** The protocol, once the socket is open: hello, then push and pull until the socket closes. */
  private async session(connection: Connection, identity: ReturnType<SyncCore['enableSync']>, outcome: SessionOutcome): Promise<void> {
    let pullWanted = false;
    /** Another device pushed (a poke): its changes are pulled before the rest of a long outbox is pushed. */
    let poked = false;
    /** The next frame of `type`; a poke on the way only asks for a pull. */
    const reply = async <T extends ServerFrame['type']>(type: T): Promise<Extract<ServerFrame, { type: T }>> => {
      for (;;) {
        await this.until(() => connection.frames.length > 0 || connection.state !== 'open', REPLY_TIMEOUT_MS);
        const frame = connection.frames.shift();
        if (frame === undefined) {
          throw new SessionEnded(null, connection.state === 'open' ? `the server did not answer with ${type}` : 'the socket closed');
        }
        if ((frame as { type?: unknown } | null)?.type === 'poke' || (frame as { type?: unknown } | null)?.type === 'error') {
          if (this.handleUnasked(frame)) poked = true;
          continue;
        }
        if ((frame as ServerFrame).type !== type) throw new SessionEnded({ code: 'STORAGE', message: `sync: expected ${type} from the server, got ${describe(frame)}` }, 'protocol');
        return frame as Extract<ServerFrame, { type: T }>;
      }
    };

    connection.send({ type: 'hello', protocol: SYNC_PROTOCOL, ...identity });
    const welcome = await reply('welcome');
    await this.host.write((core) => core.syncWelcome(welcome));
    outcome.welcomed = true;
    const limits: SyncLimits = welcome.limits;
    if (this.connectError) this.update({ lastError: null });
    this.update({ state: 'syncing' });
    await this.refresh();
    pullWanted = welcome.cursor > this.status.cursor;
    this.dirty = true;

    while (!this.stopped && connection.state === 'open') {
      if (this.dirty) {
        this.dirty = false;
        // One batch in flight at a time; nextPush gives the same batch again until it is acknowledged.
        for (let batch = await this.host.write((core) => core.nextPush(limits)); batch; batch = await this.host.write((core) => core.nextPush(limits))) {
          this.update({ state: 'syncing' });
          connection.send(batch);
          const ack = await reply('ack');
          if (ack.push !== batch.push) throw new SessionEnded({ code: 'STORAGE', message: `sync: the server acknowledged push ${ack.push}, not ${batch.push}` }, 'protocol');
          await this.host.write((core) => core.acknowledgePush(ack.push));
          outcome.progressed = true;
          if (ack.cursor > this.status.cursor) pullWanted = true;
          await this.refresh();
          if (poked) {
            // A page that keeps writing must not keep this device from hearing the others: pull, then push on.
            this.dirty = true;
            break;
          }
        }
      }
      if (pullWanted || poked) {
        pullWanted = false;
        poked = false;
        this.update({ state: 'syncing' });
        for (let more = true; more && connection.state === 'open'; ) {
          connection.send({ type: 'pull', cursor: this.status.cursor, limit: PULL_LIMIT });
          const changes = await reply('changes');
          await this.host.write(
            (core) => core.applyPulled(changes.changes, changes.cursor),
            (notices) => notices,
          );
          outcome.progressed = true;
          more = changes.more;
          await this.refresh();
        }
      }
      if (this.dirty || pullWanted || poked) continue;
      await this.refresh();
      if (this.dirty) continue;
      // Everything pushed and pulled: this session succeeded, whatever failed before.
      this.update({ state: 'synced', lastError: null });
      outcome.progressed = true;
      // Idle: a local commit, a poke, the socket's end or stop wakes it.
      await this.until(() => this.dirty || connection.frames.length > 0 || connection.state !== 'open');
      while (connection.frames.length > 0) {
        const frame = connection.frames.shift();
        if ((frame as { type?: unknown } | null)?.type !== 'poke' && (frame as { type?: unknown } | null)?.type !== 'error') {
          throw new SessionEnded({ code: 'STORAGE', message: `sync: the server sent ${describe(frame)} unasked` }, 'protocol');
        }
        if (this.handleUnasked(frame)) poked = true;
      }
    }
  }

  /**
   * A frame the server may send at any time: a poke (true: pull), or an error (throws). False for
   * anything else.
   */
  private handleUnasked(frame: unknown): boolean {
    const type = (frame as { type?: unknown } | null)?.type;
    // A poke for changes this device has already (its own push's) asks for nothing.
    if (type === 'poke') return !(typeof (frame as { cursor?: unknown }).cursor === 'number' && (frame as { cursor: number }).cursor <= this.status.cursor);
    if (type === 'error') {
      const { code, message } = frame as { code?: unknown; message?: unknown };
      throw new SessionEnded({ code: isCode(code) ? code : 'STORAGE', message: typeof message === 'string' ? message : 'the server refused' }, 'refused');
    }
    return false;
  }

  /** Asks the sync endpoint over plain HTTP why the socket would not open; null when it cannot tell (the network). */
  private async probe(token: string): Promise<SyncError | null> {
    try {
      const response = await this.withTimeout(
        fetch(syncProbeUrl(this.url), { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' }),
        OPEN_TIMEOUT_MS,
        'the probe did not answer',
      );
      return probeRefusal(response.status, await response.text().catch(() => ''));
    } catch {
      return null;
    }
  }

  /**
   * Waits until `done()` holds, waking at every event, or until `timeoutMs` passed (the caller looks
   * at what it has). Drops the socket when the browser says it is offline.
   */
  private async until(done: () => boolean, timeoutMs?: number): Promise<void> {
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    while (!done() && !this.stopped) {
      if (surelyOffline() && this.connection && this.connection.state !== 'closed') this.onOffline();
      const left = deadline - Date.now();
      if (left <= 0) return;
      await this.events.wait(Math.min(left, ONLINE_POLL_MS));
    }
  }

  private withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new StoreError('BUSY', message)), ms)));
    return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
  }

  private fail(error: SyncError, connecting: boolean): void {
    this.connectError = connecting;
    this.update({ lastError: error });
  }

  /** Reads the pending count and cursor now. */
  private async refresh(): Promise<void> {
    if (this.stopped) return;
    try {
      const { pending, cursor } = await this.host.read((core) => core.syncStatus());
      this.update({ pending, cursor });
    } catch {
      // A closing leader: the status no longer matters.
    }
  }

  /** Reads the pending count after a burst of local commits, at most once per STATUS_INTERVAL_MS. */
  private refreshSoon(): void {
    this.statusTimer ??= setTimeout(() => {
      void this.refresh().finally(() => (this.statusTimer = undefined));
    }, STATUS_INTERVAL_MS);
  }

  private update(change: Partial<SyncState>): void {
    this.status = { ...this.status, ...change };
    this.announce();
  }

  /**
   * Publishes the status when its state, pending count or error changed (the cursor alone is not
   * news). A change of the pending count alone waits for STATUS_INTERVAL_MS since the last notice.
   */
  private announce(): void {
    if (this.stopped) return;
    const { state, pending, lastError } = this.status;
    const key = JSON.stringify([state, pending, lastError]);
    if (key === this.announced) return;
    const sameState = JSON.stringify([state, lastError]) === this.announcedState;
    const wait = this.announcedAt + STATUS_INTERVAL_MS - Date.now();
    if (sameState && wait > 0) {
      this.announceTimer ??= setTimeout(() => {
        this.announceTimer = undefined;
        this.announce();
      }, wait);
      return;
    }
    clearTimeout(this.announceTimer);
    this.announceTimer = undefined;
    this.announced = key;
    this.announcedState = JSON.stringify([state, lastError]);
    this.announcedAt = Date.now();
    this.host.announce(this.state());
  }
}

function describe(frame: unknown): string {
  const type = (frame as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? `"${type.slice(0, 40)}"` : 'a frame that is not a protocol frame';
}
