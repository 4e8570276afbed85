import { handleStoreRequest, StateStoreObject } from 'agent-state-store/cloudflare';

export { StateStoreObject };

interface Env {
  STORES: DurableObjectNamespace<StateStoreObject>;
  /** JSON { token: userId }. A stand-in: a real app verifies its own sessions or signed tokens here. */
  API_TOKENS: string;
}

/** The one store this caller may use, or null (401). Never trust a store name the client sends. */
function authorize(request: Request, env: Env): string | null {
  const token = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
  const users = JSON.parse(env.API_TOKENS) as Record<string, string>;
  return token && Object.hasOwn(users, token) ? `user:${users[token]}` : null;
}

export default {
  // POST /stores/user:demo/call { "method": "createThread", "args": [{}] }, GET …/export, PUT …/import,
  // GET …/sync (the sync WebSocket; the token may come as ?access_token=, or use POST …/ticket)
  fetch: (request: Request, env: Env) => handleStoreRequest(request, env, { authorize }),
};
