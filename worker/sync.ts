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
import { StoreError } from '../src/core/errors.js';
import { SYNC_PROTOCOL, type ServerFrame, type SyncLimits, type SyncState } from '../src/core/sync-protocol.js';
import type { StateStore } from '../src/core/store.js';
import type { TokenSource } from '../src/wire.js';
import { asSyncError, Connection, describe, isCode, probeRefusal, retryDelay, SessionEnded, Signal, syncProbeUrl, syncSocketUrl, type SyncError } from './sync-connection.js';

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
