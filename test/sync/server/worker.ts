import { StateStoreObject } from '../../../src/cloudflare/index.js';
import { handleStoreRequest } from '../../../src/cloudflare/router.js';

/**
 * The sync suite's Worker: the package's object and router, with an authorize that maps a bearer
 * token to the one store it may use (SYNC_TOKENS, token → store name). The router carries
 * `/stores/<name>/sync` to the store's object.
 */

interface Env {
  STORES: DurableObjectNamespace<StateStoreObject>;
  /** token → the store name it may use (an object, or its JSON text). */
  SYNC_TOKENS: Record<string, string> | string;
}

function tokens(env: Env): Record<string, string> {
  return typeof env.SYNC_TOKENS === 'string' ? (JSON.parse(env.SYNC_TOKENS) as Record<string, string>) : env.SYNC_TOKENS;
}

/** The store the bearer token names, or null (401). */
function authorize(request: Request, env: Env): string | null {
  const header = request.headers.get('authorization') ?? '';
  const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
  return Object.hasOwn(tokens(env), token) ? tokens(env)[token]! : null;
}

export { StateStoreObject };

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    return handleStoreRequest(request, env, { authorize });
  },
};
