import { DurableObject } from 'cloudflare:workers';

/** Placeholder object for the pool's first run. */
export class StoreObject extends DurableObject {
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
