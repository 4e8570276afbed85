/**
 * The device's sync loop, with no platform in it: the browser worker gives it a WebSocket and real
 * timers (worker/sync.ts), the simulation an in-memory link and a virtual clock (test/sync-sim), so
 * both run this same code. The data work is SyncDevice's, each step one short store call through the
 * host (the leader's group commit in a browser), so a local write or read never waits for the network.
 *
 * One session: hello → welcome; a full re-pull first when the welcome asks for one; then push the
 * outbox a batch at a time (one in flight; settled by its ack, or split when the server refuses it
 * whole) and pull from the cursor while `more`; then wait for a local commit (a nudge) or a `poke`.
 * A refused push never stops the pulls. When the link closes or fails, the state is `offline` and the
 * engine retries with backoff.
 */
import { STORE_ERROR_CODES, StoreError, type StoreErrorCode } from '../core/errors.js';
import type { StoreChange } from '../core/changes.js';
import type { SyncState } from '../core/types.js';
import type { DeviceStatus, SyncDevice } from './device.js';
import type { ClientFrame, ServerFrame, SyncLimits } from './protocol.js';

/** SyncState's lastError. */
export type SyncError = NonNullable<SyncState['lastError']>;

/** The device's sync methods the engine calls. */
export type SyncCore = Pick<SyncDevice, 'enable' | 'hello' | 'welcome' | 'nextPush' | 'acknowledge' | 'refusePush' | 'nextPull' | 'applyPulled' | 'status'>;

/** What the engine needs of the store's host: its write path and its changes channel. */
export interface SyncHost {
  /** Runs a device step as one write; the notices it returns are published after the commit, like a local write's. */
  write<T>(run: (device: SyncCore) => T, notices?: (result: T) => StoreChange[]): Promise<T>;
  /** Runs a device read. */
  read<T>(run: (device: SyncCore) => T): Promise<T>;
  /** Publishes a `sync` notice. */
  announce(state: SyncState): void;
}

/** One connection to the server: frames queue up as they arrive; every event calls the `onEvent` it was opened with. */
export interface SyncLink {
  readonly state: 'connecting' | 'open' | 'closed';
  readonly frames: unknown[];
  /** Sends one frame; throws SessionEnded when the link is no longer open. */
  send(frame: ClientFrame): void;
  close(): void;
}

/** What the engine needs of its platform. */
export interface SyncPlatform {
  /** Opens a link to the server with `token`. */
  connect(token: string, onEvent: () => void): SyncLink;
  /** Asks the server over plain HTTP why a link would not open: a refusal, or null (the network). */
  probe(token: string): Promise<SyncError | null>;
  /** Resolves after `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
  /** Milliseconds, for deadlines. */
  now(): number;
  /** True when the platform knows it is offline (false when it cannot tell). */
  offline(): boolean;
}

/** The page's token source. */
export type TokenSource = () => string | Promise<string>;

/** Local commits are pushed together: a nudge waits this long for the commits right behind it. */
const NUDGE_MS = 20;
/** Pending-count notices: at most one per this interval. */
const STATUS_INTERVAL_MS = 100;
/** How long the link may take to open, and the server to answer a frame. */
const OPEN_TIMEOUT_MS = 15_000;
const REPLY_TIMEOUT_MS = 30_000;
/** How long getToken may take. */
const TOKEN_TIMEOUT_MS = 30_000;
/** Changes per pull. */
const PULL_LIMIT = 500;
/** How often the engine looks at the platform's offline flag while it waits. */
const ONLINE_POLL_MS = 1_000;
/** After SCHEMA_TOO_NEW the versions will not match until one side is updated: retry slowly. */
const SCHEMA_RETRY_MS = 5 * 60_000;

/** Backoff: the first retry waits about RETRY_FIRST_MS, each next one twice as long, up to RETRY_MAX_MS. */
export const RETRY_FIRST_MS = 500;
export const RETRY_MAX_MS = 10_000;

/**
 * How long to wait before reconnect attempt `attempt` (0-based): doubling from RETRY_FIRST_MS, capped
 * at RETRY_MAX_MS, and spread over its upper half by `random` (0…1) so that devices a server restart
 * dropped together do not all come back in the same instant.
 */
export function retryDelay(attempt: number, random: number = Math.random()): number {
  const full = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.round(full / 2 + (full / 2) * Math.min(Math.max(random, 0), 1));
}

/** Whether `code` is one of STORE_ERROR_CODES. */
export const isCode = (code: unknown): code is StoreErrorCode => (STORE_ERROR_CODES as readonly unknown[]).includes(code);

/** A failure as SyncState's lastError: a StoreError's code, or `fallback`. */
export function asSyncError(error: unknown, fallback: StoreErrorCode): SyncError {
  if (error instanceof StoreError) return { code: error.code, message: error.message };
  if (typeof error === 'object' && error !== null && isCode((error as { code?: unknown }).code)) {
    return { code: (error as { code: StoreErrorCode }).code, message: String((error as { message?: unknown }).message ?? '') };
  }
  return { code: fallback, message: error instanceof Error ? error.message : String(error) };
}

/** Why a session ended early: the server refused something (an `error` frame), or the link broke. */
export class SessionEnded extends Error {
  constructor(
    readonly refusal: SyncError | null,
    message: string,
  ) {
    super(message);
  }
}

/** A frame's type for an error message, or a word for a frame that has none. */
export function describe(frame: unknown): string {
  const type = (frame as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? `"${type.slice(0, 40)}"` : 'a frame that is not a protocol frame';
}

const typeOf = (frame: unknown): unknown => (frame as { type?: unknown } | null)?.type;

/** A promise anyone can wake, then replaced by a fresh one. */
class Signal {
  private wake: () => void = () => {};
  private waiting: Promise<void> | undefined;

  constructor(private readonly sleep: (ms: number) => Promise<void>) {}

  /** Resolves at the next notify(), or after `ms` when given. */
  wait(ms?: number): Promise<void> {
    this.waiting ??= new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    return ms === undefined ? this.waiting : Promise.race([this.waiting, this.sleep(ms)]);
  }

  /** Wakes every waiter. */
  notify(): void {
    this.waiting = undefined;
    this.wake();
  }
}

/** What a session did, for the backoff: a session that made progress starts the retries over. */
interface SessionOutcome {
  welcomed: boolean;
  progressed: boolean;
  refused: boolean;
  /** How long to wait before the next attempt, when the refusal says (SCHEMA_TOO_NEW). */
  wait?: number;
}

/**
 * Keeps one store in sync while it runs. Start it once; stop it when the store's host closes. The
 * token source is called before every connection attempt, so a new token is used at the next one.
 */
export class SyncEngine {
  private status: SyncState = { state: 'connecting', pending: 0, rejected: 0, lastError: null, cursor: 0 };
  private announced = '';
  private announcedState = '';
  private announcedAt = 0;
  private announceTimer = false;
  /** The last error came from connecting (a token, a refused probe): a welcome clears it. */
  private connectError = false;
  private stopped = false;
  private running: Promise<void> | undefined;
  private link: SyncLink | undefined;
  /** Wakes the session: a frame, a closed link, a nudge, stop. */
  private readonly events: Signal;
  /** Ends a backoff early: going online, stop. */
  private readonly retryNow: Signal;
  /** Local commits not yet looked at by the push loop. */
  private dirty = true;
  private nudging = false;
  private refreshing = false;
  /** A full re-pull runs: pulls come first, pushes wait for it to end. */
  private resyncing = false;

  constructor(
    private readonly host: SyncHost,
    private readonly platform: SyncPlatform,
    private readonly getToken: TokenSource,
    private readonly random: () => number = Math.random,
  ) {
    this.events = new Signal((ms) => platform.sleep(ms));
    this.retryNow = new Signal((ms) => platform.sleep(ms));
  }

  /** The status as last read (the notices' view: the pending count may be up to STATUS_INTERVAL_MS old). */
  state(): SyncState {
    return { ...this.status, lastError: this.status.lastError ? { ...this.status.lastError } : null };
  }

  /** The status with the pending count and cursor read now (info().sync). */
  async current(): Promise<SyncState> {
    await this.refresh();
    return this.state();
  }

  /** Starts syncing: turns sync on in the database, then connects and keeps connecting. Resolves when it has stopped. */
  start(): Promise<void> {
    this.announce();
    this.running ??= this.run().catch((error: unknown) => {
      // Not expected (every step reports its own failure and retries), but never an unhandled rejection.
      if (!this.stopped) this.update({ state: 'offline', lastError: asSyncError(error, 'STORAGE') });
    });
    return this.running;
  }

  /** A local commit happened: push it soon (commits in quick succession share one push). */
  nudge(): void {
    if (this.stopped) return;
    this.dirty = true;
    this.refreshSoon();
    if (this.nudging) return;
    this.nudging = true;
    void this.platform.sleep(NUDGE_MS).then(() => {
      this.nudging = false;
      this.events.notify();
    });
  }

  /** The platform went online or offline: connect at once, or drop the link at once. */
  network(online: boolean): void {
    if (this.stopped) return;
    if (online) this.retryNow.notify();
    else this.dropLink();
  }

  /** Ends the session at once and connects again (an import replaced the device's identity). */
  reconnect(): void {
    if (this.stopped) return;
    this.dropLink();
    this.retryNow.notify();
  }

  /**
   * Closes the link and ends the loop without waiting for it (it may be waiting for getToken or a
   * probe; its next store call fails). A batch in flight stays recorded for the next run to resend.
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.link?.close();
    this.events.notify();
    this.retryNow.notify();
  }

  private dropLink(): void {
    this.link?.close();
    this.events.notify();
  }

  private async run(): Promise<void> {
    // At once, so that the outbox (and its pending count) starts now, also for a device that starts offline.
    await this.host.write((device) => device.enable()).catch(() => {});
    await this.refresh();
    for (let attempt = 0; !this.stopped; ) {
      // A platform that knows it is offline: no attempt (and no backoff growth) until it says otherwise.
      while (this.platform.offline() && !this.stopped) {
        this.update({ state: 'offline' });
        await this.retryNow.wait(ONLINE_POLL_MS);
      }
      if (this.stopped) return;
      this.update({ state: 'connecting' });
      const outcome = await this.connect();
      if (this.stopped) return;
      this.link = undefined;
      this.update({ state: 'offline' });
      // A session that got somewhere starts the backoff over; one refused or failing each time backs off further.
      attempt = outcome.progressed && !outcome.refused ? 0 : attempt + 1;
      await this.retryNow.wait(outcome.wait ?? retryDelay(attempt, this.random()));
    }
  }

  /** One connection attempt, from the token to the link's end. */
  private async connect(): Promise<SessionOutcome> {
    const outcome: SessionOutcome = { welcomed: false, progressed: false, refused: false };
    try {
      // Asked again at every attempt: an import may have replaced the database, and its identity with it.
      await this.host.write((device) => device.enable());
    } catch (error) {
      if (!this.stopped) this.fail(asSyncError(error, 'STORAGE'), false);
      outcome.refused = true;
      return outcome;
    }
    let token: string;
    try {
      token = await this.withTimeout(Promise.resolve(this.getToken()), TOKEN_TIMEOUT_MS, 'sync.getToken did not answer');
      if (typeof token !== 'string' || token === '') throw new StoreError('INVALID_ARGUMENT', 'sync.getToken must return a non-empty string');
    } catch (error) {
      this.fail(asSyncError(error, 'UNAUTHORIZED'), true);
      outcome.refused = true;
      return outcome;
    }
    if (this.stopped) return outcome;
    const link = this.platform.connect(token, () => this.events.notify());
    this.link = link;
    await this.until(() => link.state !== 'connecting', OPEN_TIMEOUT_MS);
    if (link.state !== 'open') {
      link.close();
      if (!this.stopped) {
        // A refused upgrade looks like any network failure to a WebSocket: ask over plain HTTP why.
        const refusal = await this.platform.probe(token).catch(() => null);
        if (refusal) {
          this.fail(refusal, true);
          outcome.refused = true;
        }
      }
      return outcome;
    }
    try {
      await this.session(link, outcome);
    } catch (error) {
      if (error instanceof SessionEnded && error.refusal) {
        this.fail(error.refusal, !outcome.welcomed);
        outcome.refused = true;
        if (error.refusal.code === 'SCHEMA_TOO_NEW') outcome.wait = SCHEMA_RETRY_MS;
      } else if (!(error instanceof SessionEnded)) {
        // The store refused a frame's content (a welcome or changes it cannot apply): report it, drop the link.
        this.fail(asSyncError(error, 'STORAGE'), false);
        outcome.refused = true;
      }
    } finally {
      link.close();
    }
    return outcome;
  }

  /** The protocol, once the link is open: hello, then pull and push until the link closes. */
  private async session(link: SyncLink, outcome: SessionOutcome): Promise<void> {
    let pullWanted = false;
    /** Another writer pushed (a poke): its changes are pulled before the rest of a long outbox is pushed. */
    let poked = false;
    /** The next frame of `type` (or an error frame for the push in flight); a poke on the way only asks for a pull. */
    const reply = async (type: ServerFrame['type'], push?: number): Promise<ServerFrame> => {
      for (;;) {
        await this.until(() => link.frames.length > 0 || link.state !== 'open', REPLY_TIMEOUT_MS);
        const frame = link.frames.shift();
        if (frame === undefined) throw new SessionEnded(null, link.state === 'open' ? `the server did not answer with ${type}` : 'the link closed');
        const kind = typeOf(frame);
        if (kind === 'poke') {
          if (this.poke(frame)) poked = true;
          continue;
        }
        if (kind === 'error') {
          const refusal = refusalOf(frame);
          // The server refused the push in flight as a whole: the session goes on (the batch is split).
          if (push !== undefined && (frame as { push?: unknown }).push === push && refusal.code !== 'CONFLICT') {
            return frame as ServerFrame;
          }
          throw new SessionEnded(refusal, 'refused');
        }
        if (kind !== type) throw new SessionEnded({ code: 'STORAGE', message: `sync: expected ${type} from the server, got ${describe(frame)}` }, 'protocol');
        return frame as ServerFrame;
      }
    };

    link.send(await this.host.write((device) => device.hello()));
    const welcome = await reply('welcome');
    if (welcome.type !== 'welcome') throw new SessionEnded(refusalOf(welcome), 'refused');
    await this.host.write((device) => device.welcome(welcome));
    outcome.welcomed = true;
    const limits: SyncLimits = welcome.limits;
    if (this.connectError) this.update({ lastError: null });
    this.update({ state: 'syncing' });
    await this.refresh();
    pullWanted = welcome.cursor > this.status.cursor || this.resyncing;
    this.dirty = true;

    while (!this.stopped && link.state === 'open') {
      if (this.dirty && !this.resyncing) {
        this.dirty = false;
        // One batch in flight at a time; nextPush gives the same batch again until it is settled.
        for (let batch = await this.host.write((d) => d.nextPush(limits)); batch; batch = await this.host.write((d) => d.nextPush(limits))) {
          this.update({ state: 'syncing' });
          link.send(batch);
          const answer = await reply('ack', batch.push);
          if (answer.type !== 'ack') {
            // Refused whole: split it (or set its one row aside), tell the page, and pull anyway.
            const refusal = refusalOf(answer);
            await this.host.write((d) => d.refusePush(batch!.push, refusal));
            this.update({ lastError: refusal });
            this.dirty = true;
            pullWanted = true;
            break;
          }
          if (answer.push !== batch.push) throw new SessionEnded({ code: 'STORAGE', message: `sync: the server acknowledged push ${answer.push}, not ${batch.push}` }, 'protocol');
          await this.host.write((d) => d.acknowledge(answer));
          if (answer.rejected.length > 0) {
            const r = answer.rejected[0]!;
            this.update({ lastError: { code: r.code, message: `sync set aside ${answer.rejected.length} row(s): ${r.table} ${JSON.stringify(r.key)}: ${r.message}` } });
          }
          outcome.progressed = true;
          if (answer.cursor > this.status.cursor) pullWanted = true;
          await this.refresh();
          if (poked) {
            // A page that keeps writing must not keep this device from hearing the others: pull, then push on.
            this.dirty = true;
            break;
          }
        }
      }
      if (pullWanted || poked || this.resyncing) {
        pullWanted = false;
        poked = false;
        this.update({ state: 'syncing' });
        for (let more = true; more && link.state === 'open'; ) {
          link.send(await this.host.write((d) => d.nextPull(PULL_LIMIT)));
          const changes = await reply('changes');
          if (changes.type !== 'changes') throw new SessionEnded(refusalOf(changes), 'refused');
          await this.host.write(
            (d) => d.applyPulled(changes.changes, changes.cursor, changes.more),
            (notices) => notices,
          );
          outcome.progressed = true;
          more = changes.more;
          await this.refresh();
        }
        continue;
      }
      if (this.dirty) continue;
      await this.refresh();
      if (this.dirty || this.status.pending > 0 || this.resyncing) {
        // Rows left behind a split or a refusal: push again.
        if (!this.dirty && this.status.pending > 0) this.dirty = true;
        continue;
      }
      // Everything pushed and pulled: this session succeeded, whatever failed before (rows set aside keep their own count).
      this.update({ state: 'synced', ...(this.status.rejected === 0 ? { lastError: null } : {}) });
      outcome.progressed = true;
      // Idle: a local commit, a poke, the link's end or stop wakes it.
      await this.until(() => this.dirty || link.frames.length > 0 || link.state !== 'open');
      while (link.frames.length > 0) {
        const frame = link.frames.shift();
        if (typeOf(frame) === 'poke') {
          if (this.poke(frame)) poked = true;
          continue;
        }
        if (typeOf(frame) === 'error') throw new SessionEnded(refusalOf(frame), 'refused');
        throw new SessionEnded({ code: 'STORAGE', message: `sync: the server sent ${describe(frame)} unasked` }, 'protocol');
      }
    }
  }

  /** A poke asks for a pull unless it names changes this device already has. */
  private poke(frame: unknown): boolean {
    const cursor = (frame as { cursor?: unknown }).cursor;
    return !(typeof cursor === 'number' && cursor <= this.status.cursor);
  }

  /**
   * Waits until `done()` holds, waking at every event, or until `timeoutMs` passed (the caller looks
   * at what it has). Drops the link when the platform says it is offline.
   */
  private async until(done: () => boolean, timeoutMs?: number): Promise<void> {
    const deadline = timeoutMs === undefined ? Infinity : this.platform.now() + timeoutMs;
    while (!done() && !this.stopped) {
      if (this.platform.offline() && this.link && this.link.state !== 'closed') this.dropLink();
      const left = deadline - this.platform.now();
      if (left <= 0) return;
      await this.events.wait(Math.min(left, ONLINE_POLL_MS));
    }
  }

  private async withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
    let expired = false;
    const timer = this.platform.sleep(ms).then(() => {
      expired = true;
    });
    const result = await Promise.race([promise, timer]);
    if (expired) throw new StoreError('BUSY', message);
    return result as T;
  }

  private fail(error: SyncError, connecting: boolean): void {
    this.connectError = connecting;
    this.update({ lastError: error });
  }

  /** Reads the pending count, the rows set aside and the cursor now. */
  private async refresh(): Promise<void> {
    if (this.stopped) return;
    let s: DeviceStatus;
    try {
      s = await this.host.read((device) => device.status());
    } catch {
      // A closing host: the status no longer matters.
      return;
    }
    this.resyncing = s.resyncing;
    this.update({ pending: s.pending, rejected: s.rejected, cursor: s.cursor });
  }

  /** Reads the pending count after a burst of local commits, at most once per STATUS_INTERVAL_MS. */
  private refreshSoon(): void {
    if (this.refreshing) return;
    this.refreshing = true;
    void this.platform.sleep(STATUS_INTERVAL_MS).then(async () => {
      await this.refresh();
      this.refreshing = false;
    });
  }

  private update(change: Partial<SyncState>): void {
    this.status = { ...this.status, ...change };
    this.announce();
  }

  /**
   * Publishes the status when its state, counts or error changed (the cursor alone is not news). A
   * change of the counts alone waits for STATUS_INTERVAL_MS since the last notice.
   */
  private announce(): void {
    if (this.stopped) return;
    const { state, pending, rejected, lastError } = this.status;
    const key = JSON.stringify([state, pending, rejected, lastError]);
    if (key === this.announced) return;
    const sameState = JSON.stringify([state, lastError]) === this.announcedState;
    const wait = this.announcedAt + STATUS_INTERVAL_MS - this.platform.now();
    if (sameState && wait > 0) {
      if (this.announceTimer) return;
      this.announceTimer = true;
      void this.platform.sleep(wait).then(() => {
        this.announceTimer = false;
        this.announce();
      });
      return;
    }
    this.announced = key;
    this.announcedState = JSON.stringify([state, lastError]);
    this.announcedAt = this.platform.now();
    this.host.announce(this.state());
  }
}

/** An error frame as a SyncError. */
function refusalOf(frame: unknown): SyncError {
  const { code, message } = (frame ?? {}) as { code?: unknown; message?: unknown };
  return { code: isCode(code) ? code : 'STORAGE', message: typeof message === 'string' ? message : 'the server refused' };
}
