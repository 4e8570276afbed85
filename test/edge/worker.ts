import { StateStoreObject } from '../../src/cloudflare/index.js';
import type { StateStore } from '../../src/core/store.js';

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
}

export default {
  fetch(): Response {
    return new Response('edge test worker');
  },
};
