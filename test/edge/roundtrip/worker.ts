import { StateStoreObject } from '../../../src/cloudflare/index.js';
import { handleStoreRequest } from '../../../src/cloudflare/router.js';
import { canonicalDump } from '../../support/full-store.js';

/**
 * The Worker the browser round trip (test/e2e/edge-roundtrip.spec.ts) starts under `wrangler`'s
 * local runtime (workerd): the package's object and router, plus a test-only dump of every table.
 */

interface Env {
  STORES: DurableObjectNamespace<RoundTripStores>;
}

const TOKEN = 'Bearer round-trip-test';

/** The package's object with a canonical dump of its database (test only). */
export class RoundTripStores extends StateStoreObject<Env> {
  /** Every table of this object's database, as test/support/full-store.ts's canonicalDump. */
  async dump(): Promise<Record<string, string[]>> {
    return canonicalDump((sql) => this.ctx.storage.sql.exec(sql).toArray() as Array<Record<string, unknown>>);
  }
}

/** The one test token may use any store the URL names: the round trip is about files, not authorization. */
function authorize(request: Request): string | null {
  if (request.headers.get('authorization') !== TOKEN) return null;
  const name = new URL(request.url).pathname.split('/')[2];
  return name ? decodeURIComponent(name) : null;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.startsWith('/dump/')) {
      if (request.headers.get('authorization') !== TOKEN) return new Response('no', { status: 401 });
      const stub = env.STORES.get(env.STORES.idFromName(decodeURIComponent(url.pathname.slice('/dump/'.length))));
      return Response.json(await stub.dump());
    }
    return handleStoreRequest(request, env, { authorize });
  },
};
