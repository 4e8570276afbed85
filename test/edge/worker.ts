import { StateStoreObject, type EdgeReply } from '../../src/cloudflare/index.js';
import { isServed, operation } from '../../src/core/operations.js';
import type { StateStore } from '../../src/core/store.js';
import type { SyncLimits } from '../../src/sync/protocol.js';
import { canonicalDump } from '../support/full-store.js';

/** The package's object, plus a way for in-isolate tests to reach the store it hosts. */
export class StoreObject extends StateStoreObject {
  /** The hosted StateStore itself (a class instance: only for runInDurableObject, never over RPC). */
  localStore(): StateStore {
    return this.store;
  }
  /** Echoes one SQL value to prove the object's SQLite is reachable. */
  ping(): number {
    return this.ctx.storage.sql.exec('SELECT 1 + 1 AS two').one()['two'] as number;
  }
  /** Resets the object as a deploy does (ctx.abort): every stub to it breaks, its storage stays. */
  reset(): void {
    this.ctx.abort('reset by the test');
  }
  /** Makes the next write commit and then reset the object before its reply leaves: the reply is lost. */
  loseNextWriteReply(): void {
    this.#loseReply = true;
  }
  #loseReply = false;
  override async call(method: string, args: unknown[], requestId?: string): Promise<EdgeReply> {
    const reply = await super.call(method, args, requestId);
    if (this.#loseReply && isServed(method) && operation(method).mode !== 'read') {
      this.#loseReply = false;
      // The write is durable first (sync() waits for it), so only the reply is lost.
      await this.ctx.storage.sync();
      this.ctx.abort('reset after a write, before its reply');
    }
    return reply;
  }
  /** Every table of this object's database, as test/support/full-store.ts's canonicalDump. */
  async dump(): Promise<Record<string, string[]>> {
    return canonicalDump((sql) => this.ctx.storage.sql.exec(sql).toArray() as Array<Record<string, unknown>>);
  }
}

/** The limits of SmallLimitsObject: small enough for the sync tests to pass each one cheaply. */
export const SMALL_SYNC_LIMITS: SyncLimits = { maxChanges: 3, maxChangeBytes: 2048, maxFrameBytes: 16 * 1024 };

/** The object with its sync limits overridden the documented way (a subclass). */
export class SmallLimitsObject extends StoreObject {
  protected override syncLimits = SMALL_SYNC_LIMITS;
}

/** The object with a sync socket life of 100 ms, for the expiry test. */
export class ShortSocketObject extends StoreObject {
  protected override syncSocketMaxAgeMs = 100;
}

export default {
  fetch(): Response {
    return new Response('edge test worker');
  },
};
