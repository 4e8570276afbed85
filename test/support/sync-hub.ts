/**
 * The sync engine's platform in memory, for Node tests: a server store with its SyncServer behind
 * links that carry JSON frames as a socket would (a frame the server refuses gets an error frame, a
 * push pokes the other links), and a virtual clock whose timers run only when a test advances it. So
 * the real engine (src/sync/engine.ts) runs deterministically, with no socket and no real timer.
 */
import { StoreError } from '../../src/core/errors.js';
import type { StoreChange } from '../../src/core/changes.js';
import type { SyncState } from '../../src/core/types.js';
import type { SyncDevice } from '../../src/sync/device.js';
import { SyncEngine, type SyncHost, type SyncLink, type SyncPlatform } from '../../src/sync/engine.js';
import { DEFAULT_SYNC_LIMITS, type ClientFrame, type ServerFrame, type SyncLimits } from '../../src/sync/protocol.js';
import type { ServerSide } from './sync-loop.js';

/** Timers that fire only when the test advances the clock. */
export class VirtualClock {
  now = 0;
  readonly #timers: { at: number; seq: number; fire: () => void }[] = [];
  #seq = 0;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#timers.push({ at: this.now + Math.max(0, ms), seq: this.#seq++, fire: resolve }));
  }

  /** Lets every pending promise settle. */
  static async settle(): Promise<void> {
    for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
  }

  /** Fires the next timer (moving the clock to it); false when there is none. */
  async step(): Promise<boolean> {
    await VirtualClock.settle();
    this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = this.#timers.shift();
    if (!next) return false;
    this.now = Math.max(this.now, next.at);
    next.fire();
    await VirtualClock.settle();
    return true;
  }

  /** Advances the clock by `ms`, firing every timer due on the way. */
  async advance(ms: number): Promise<void> {
    const until = this.now + ms;
    for (;;) {
      await VirtualClock.settle();
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      if (!this.#timers[0] || this.#timers[0].at > until) break;
      await this.step();
    }
    this.now = until;
    await VirtualClock.settle();
  }
}

/** A link end the hub serves. */
class MemoryLink implements SyncLink {
  state: 'connecting' | 'open' | 'closed' = 'open';
  readonly frames: unknown[] = [];
  device: string | null = null;

  constructor(
    private readonly hub: SyncHub,
    readonly onEvent: () => void,
  ) {}

  send(frame: ClientFrame): void {
    if (this.state !== 'open') throw new Error('the link is closed');
    this.hub.receive(this, JSON.parse(JSON.stringify(frame)) as ClientFrame & Record<string, unknown>);
  }

  deliver(frame: ServerFrame): void {
    if (this.state !== 'open') return;
    this.frames.push(JSON.parse(JSON.stringify(frame)));
    this.onEvent();
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.hub.links.delete(this);
    this.onEvent();
  }
}

/** A server and the links to it. */
export class SyncHub {
  readonly links = new Set<MemoryLink>();
  limits: SyncLimits = DEFAULT_SYNC_LIMITS;
  /** While false, connect() gives a link that fails to open. */
  up = true;

  constructor(readonly server: ServerSide) {}

  /** The platform a device's engine runs on. */
  platform(clock: VirtualClock): SyncPlatform {
    return {
      connect: (_token, onEvent) => {
        const link = new MemoryLink(this, onEvent);
        if (!this.up) link.state = 'closed';
        else this.links.add(link);
        queueMicrotask(onEvent);
        return link;
      },
      probe: async () => null,
      sleep: (ms) => clock.sleep(ms),
      now: () => clock.now,
      offline: () => false,
    };
  }

  /** Drops every link (a server restart). */
  dropAll(): void {
    for (const link of [...this.links]) link.close();
  }

  receive(link: MemoryLink, frame: ClientFrame & Record<string, unknown>): void {
    const sync = this.server.sync;
    try {
      if (frame.type === 'hello') {
        try {
          const welcome = sync.hello(frame, this.limits);
          link.device = frame.device;
          link.deliver(welcome);
        } catch (error) {
          link.deliver(errorFrame(error));
          link.close();
        }
        return;
      }
      if (link.device === null) throw new StoreError('INVALID_ARGUMENT', `${frame.type} before hello`);
      if (frame.type === 'pull') {
        link.deliver(sync.pull(link.device, frame, this.limits));
        return;
      }
      const ack = sync.push(link.device, frame, this.limits);
      link.deliver(ack);
      if (ack.applied > 0) for (const other of this.links) if (other !== link && other.device !== null) other.deliver({ type: 'poke', cursor: ack.cursor });
    } catch (error) {
      link.deliver(errorFrame(error, frame.type === 'push' ? (frame['push'] as number) : undefined));
    }
  }
}

function errorFrame(error: unknown, push?: number): ServerFrame {
  const e = error instanceof StoreError ? error : new StoreError('STORAGE', String(error));
  return { type: 'error', code: e.code, message: e.message, ...(push === undefined ? {} : { push }) };
}

/** A SyncHost over a device in memory: each step runs at once; the notices and states are recorded. */
export function memoryHost(device: SyncDevice): SyncHost & { states: SyncState[]; notices: StoreChange[] } {
  const states: SyncState[] = [];
  const notices: StoreChange[] = [];
  return {
    states,
    notices,
    write: async (run, toNotices) => {
      const result = run(device);
      if (toNotices) notices.push(...toNotices(result));
      return result;
    },
    read: async (run) => run(device),
    announce: (state) => states.push(state),
  };
}

/** A device's engine on the hub, with its host. */
export function engineOn(hub: SyncHub, device: SyncDevice, clock: VirtualClock): { engine: SyncEngine; host: ReturnType<typeof memoryHost> } {
  const host = memoryHost(device);
  const engine = new SyncEngine(host, hub.platform(clock), () => 'token', () => 0.5);
  void engine.start();
  return { engine, host };
}
