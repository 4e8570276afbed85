import * as Comlink from 'comlink';
import { StoreError } from '../src/core/errors.js';
import { storeChannels } from '../src/wire.js';
import type { ControlMessage } from './control.js';
import type { LeaderApi } from './leader.js';

/** Thrown inside the link when the leader a call went to is gone; the call is sent again. */
const LEADER_LOST = Symbol('leader lost');

interface Connection {
  leaderId: string;
  remote: Comlink.Remote<LeaderApi>;
  channel: BroadcastChannel;
  lost: Promise<never>;
  lose(): void;
}

// How long a call waits for some tab to lead before it fails with BUSY.
const NO_LEADER_TIMEOUT_MS = 20_000;

/**
 * A follower's way to the leader: Comlink over this tab's own BroadcastChannel. When the leader
 * changes (its tab closed or crashed and another took over), every call in flight is sent again to
 * the new one; writes carry request ids, so the new leader applies each at most once.
 */
export class LeaderLink {
  private connection: Connection | undefined;
  private waiting: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly name: string,
    private readonly tabId: string,
    private readonly control: BroadcastChannel,
    private readonly selfIsLeader: () => boolean,
  ) {}

  /** Reacts to a control message: a new leader, or the welcome that opens this tab's channel. */
  onControl(message: ControlMessage): void {
    const selfIsLeader = this.selfIsLeader();
    if (message.type === 'leader' && !selfIsLeader && message.leaderId !== this.connection?.leaderId) {
      this.drop();
      this.control.postMessage({ type: 'hello', tabId: this.tabId } satisfies ControlMessage);
    } else if (message.type === 'resign' && message.leaderId === this.connection?.leaderId) {
      this.drop();
    } else if (message.type === 'welcome' && message.tabId === this.tabId && !selfIsLeader) {
      if (this.connection?.leaderId === message.leaderId) return;
      this.drop();
      const channel = new BroadcastChannel(storeChannels(this.name).rpc(this.tabId));
      let lose = () => {};
      const lost = new Promise<never>((_, reject) => {
        lose = () => reject(LEADER_LOST);
      });
      lost.catch(() => {});
      this.connection = { leaderId: message.leaderId, remote: Comlink.wrap<LeaderApi>(channel), channel, lost, lose };
      for (const wake of this.waiting.splice(0)) wake();
    }
  }

  /** Forgets the current leader (it is gone, or this tab now leads): calls in flight are retried. */
  drop(): void {
    const old = this.connection;
    this.connection = undefined;
    if (old) {
      old.lose();
      old.remote[Comlink.releaseProxy]();
      old.channel.close();
    }
    for (const wake of this.waiting.splice(0)) wake();
  }

  private async connected(): Promise<Connection | null> {
    const deadline = Date.now() + NO_LEADER_TIMEOUT_MS;
    while (!this.connection) {
      if (this.closed) throw new StoreError('CLOSED', 'the store is closed');
      if (this.selfIsLeader()) return null;
      if (Date.now() > deadline) throw new StoreError('BUSY', `no tab is serving the store "${this.name}"`);
      this.control.postMessage({ type: 'who-leads' } satisfies ControlMessage);
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        setTimeout(resolve, 250);
      });
    }
    return this.connection;
  }

  /**
   * Sends a call to the leader, again to the next leader if this one goes away first. Returns
   * `undefined` as `handedBack` when this tab became the leader meanwhile and must run it itself.
   */
  async send<T>(run: (remote: Comlink.Remote<LeaderApi>) => Promise<T>): Promise<{ value: T } | { handedBack: true }> {
    for (;;) {
      const connection = await this.connected();
      if (!connection) return { handedBack: true };
      try {
        return { value: await Promise.race([run(connection.remote), connection.lost]) };
      } catch (error) {
        const resigned = error instanceof StoreError && error.details?.['resigned'] === true;
        if (resigned) this.drop();
        else if (error !== LEADER_LOST) throw error;
      }
    }
  }

  /** Fails every waiting call with CLOSED. */
  close(): void {
    this.closed = true;
    this.drop();
    for (const wake of this.waiting.splice(0)) wake();
  }
}
