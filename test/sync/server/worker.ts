import { bearerToken, DEFAULT_SYNC_LIMITS, handleStoreRequest, StateStoreObject } from '../../../src/cloudflare/index.js';
import { canonicalDump } from '../../support/full-store.js';

/**
 * The sync server the browser sync tests (test/sync) and the sync demo start under wrangler's local
 * runtime: the package's object and router, a token table from SYNC_TOKENS, and a test-only dump of a
 * store's every table (`GET /dump/<store>` with that store's token) to compare devices with the server.
 */

interface Env {
  STORES: DurableObjectNamespace<SyncStores>;
  /** { token: store name }, or its JSON text (as `--var` and unstable_dev's `vars` pass it): each token opens exactly one store. */
  SYNC_TOKENS: Record<string, string> | string;
  /** JSON overrides of DEFAULT_SYNC_LIMITS, or empty. */
  SYNC_LIMITS?: string;
}

/** The package's object with its limits from SYNC_LIMITS and a canonical dump of its database (test only). */
export class SyncStores extends StateStoreObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    if (env.SYNC_LIMITS) this.syncLimits = { ...DEFAULT_SYNC_LIMITS, ...(JSON.parse(env.SYNC_LIMITS) as object) };
  }

  /** Every table of this object's database, as test/support/full-store.ts's canonicalDump. */
  async dump(): Promise<Record<string, string[]>> {
    return canonicalDump((sql) => this.ctx.storage.sql.exec(sql).toArray() as Array<Record<string, unknown>>);
  }
}

/** The one store the request's token opens, or null (401). */
function authorize(request: Request, env: Env): string | null {
  const token = bearerToken(request);
  const stores = typeof env.SYNC_TOKENS === 'string' ? (JSON.parse(env.SYNC_TOKENS) as Record<string, string>) : env.SYNC_TOKENS;
  return token !== null && Object.hasOwn(stores, token) ? (stores[token] ?? null) : null;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.startsWith('/dump/')) {
      const store = decodeURIComponent(url.pathname.slice('/dump/'.length));
      const allowed = authorize(request, env);
      if (allowed === null) return Response.json({ error: { code: 'UNAUTHORIZED' } }, { status: 401 });
      if (allowed !== store) return Response.json({ error: { code: 'FORBIDDEN' } }, { status: 403 });
      return Response.json(await env.STORES.get(env.STORES.idFromName(store)).dump());
    }
    // This server never takes a token in a socket's URL: the browser client opens sync sockets with a
    // one-use ticket (POST …/ticket), and every scenario that syncs proves it by getting through.
    if (url.searchParams.has('access_token') && request.headers.get('upgrade')?.toLowerCase() === 'websocket') {
      return Response.json({ error: { code: 'INVALID_ARGUMENT', message: 'this server takes no token in a URL: use a ticket' } }, { status: 400 });
    }
    // The test pages and the demo are served from another origin (vite, localhost:<port>) than this
    // server (127.0.0.1:<port>): the client's probe (`GET <url>/sync` with an Authorization header) is a
    // cross-origin request with a preflight. A test server allows any origin; an app lists its own.
    return handleStoreRequest(request, env, { authorize, allowedOrigins: () => true });
  },
};
