import { StoreError, type StoreErrorCode, type StoreErrorDetails } from '../core/errors.js';
import { isServed } from '../core/operations.js';
import type { EdgeReply } from './reply.js';

/**
 * The HTTP face of the edge stores, for a Worker's fetch handler. Every request under the prefix goes
 * through the app's `authorize` before anything else is read, and it reaches only the one store that
 * authorize named: a URL naming another store is refused. Routes:
 *
 * - `POST <prefix>/<store>/call` with JSON `{ "method": "...", "args": [...] }` → JSON `{ "value": ... }`
 * - `GET <prefix>/<store>/export` → the database as a SQLite file (application/vnd.sqlite3)
 * - `PUT` or `POST <prefix>/<store>/import` with the file's bytes → JSON `{ "value": ImportResult }`
 * - `GET <prefix>/<store>/sync` with `Upgrade: websocket` → the store's sync WebSocket (101), served by
 *   its object; without the upgrade → 204, a probe that tells a refused token from a network failure.
 *   On this route only, a token may come as `?access_token=…` (browsers cannot set a WebSocket's
 *   headers): the router moves it into `Authorization: Bearer …` before authorize sees the request.
 *
 * Failures are JSON `{ "error": { code, message, details } }` with an HTTP status that fits the code.
 * Bytes inside JSON (LangGraph checkpoints, say) travel as `{ "$bytes": "<base64>" }`, both ways.
 */

/** What the router needs of a Durable Object stub: the object's `call`, and `fetch` for sync upgrades. */
interface CallableStub {
  call(method: string, args: unknown[]): Promise<EdgeReply>;
  fetch(request: Request): Promise<Response>;
}

/** What the router needs of a namespace binding (env.STORES). */
interface Namespace {
  idFromName(name: string): unknown;
  get(id: never): unknown;
}

/** Options of handleStoreRequest. */
export interface StoreRouterOptions<Env = unknown> {
  /**
   * Decides who may use which store: returns the name of the one store this request's caller may use,
   * or null/undefined (or throws a StoreError, UNAUTHORIZED or FORBIDDEN) to refuse. Nothing reaches
   * a store without it. Verify the token here (a session, a signed JWT); never take the store name
   * from the request without checking it belongs to the caller.
   */
  authorize: (request: Request, env: Env) => string | null | undefined | Promise<string | null | undefined>;
  /** The env key of the Durable Object namespace bound to StateStoreObject. Default `STORES`. */
  binding?: string;
  /** The path the routes sit under. Default `/stores`. */
  prefix?: string;
  /** The largest JSON body of a call, in bytes. Default 1 MiB (1048576). */
  maxCallBytes?: number;
  /** The largest file an import takes, in bytes. Default 32 MiB (33554432): the object holds it twice in memory while it checks it. */
  maxImportBytes?: number;
  /**
   * The page origins allowed to call from another origin (CORS): a list of exact origins
   * (`https://app.example.com`) or a function. Such a request gets `Access-Control-Allow-Origin`, and
   * its preflight (OPTIONS) is answered before `authorize`, since a preflight carries no credentials.
   * A synced page served from another origin needs it, or a refused token looks like a network
   * failure. Default: none (same-origin only).
   */
  allowedOrigins?: readonly string[] | ((origin: string) => boolean);
}

/** Default size limits of handleStoreRequest's bodies. */
export const ROUTER_LIMITS = { maxCallBytes: 1 << 20, maxImportBytes: 32 << 20 } as const;

const MAX_STORE_NAME = 256;

const STATUS: Record<StoreErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  SCHEMA_TOO_NEW: 409,
  REPLACED: 409,
  BUSY: 503,
  CLOSED: 503,
  QUOTA_EXCEEDED: 507,
  MIGRATION_FAILED: 500,
  STORAGE: 500,
};

/** A refusal with its own HTTP status where the code's default does not say enough (413, 405). */
class HttpRefusal extends StoreError {
  constructor(
    readonly status: number,
    code: StoreErrorCode,
    message: string,
    details?: StoreErrorDetails,
  ) {
    super(code, message, details ? { details } : {});
  }
}

function errorResponse(status: number, error: { code: string; message: string; details?: unknown }, headers: Record<string, string> = {}): Response {
  const body = { error: { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) } };
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers } });
}

function refusalResponse(error: unknown): Response {
  if (error instanceof HttpRefusal) return errorResponse(error.status, error, error.status === 405 ? { allow: String(error.details?.['allow'] ?? '') } : {});
  if (error instanceof StoreError) return errorResponse(STATUS[error.code] ?? 500, error);
  // Never echo an unexpected failure's text: it may carry another store's or the platform's details.
  return errorResponse(500, { code: 'STORAGE', message: 'the request failed inside the store router' });
}

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function fromBase64(text: string): Uint8Array {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new HttpRefusal(400, 'INVALID_ARGUMENT', 'a "$bytes" value is not valid base64', { field: 'args' });
  }
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** JSON args with `{ "$bytes": base64 }` turned into Uint8Arrays. */
function reviveBytes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reviveBytes);
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  const bytes = (value as Record<string, unknown>)['$bytes'];
  if (keys.length === 1 && typeof bytes === 'string') return fromBase64(bytes);
  return Object.fromEntries(keys.map((key) => [key, reviveBytes((value as Record<string, unknown>)[key])]));
}

/** A JSON text of a reply value with Uint8Arrays as `{ "$bytes": base64 }`. */
function stringifyValue(value: unknown): string {
  return JSON.stringify({ value: value === undefined ? null : value }, (_key, item: unknown) => (item instanceof Uint8Array ? { $bytes: toBase64(item) } : item));
}

/** Reads a body, refusing it (413) once it passes `limit` bytes, whatever Content-Length claims. */
async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const tooLarge = () => new HttpRefusal(413, 'INVALID_ARGUMENT', `the request body is larger than the limit of ${limit} bytes`, { field: 'body', limitBytes: limit });
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

/** The method and args of a call body, checked before any store sees them. */
function parseCall(body: Uint8Array): { method: string; args: unknown[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body));
  } catch {
    throw new HttpRefusal(400, 'INVALID_ARGUMENT', 'the body must be JSON: { "method": string, "args": array }', { field: 'body' });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new HttpRefusal(400, 'INVALID_ARGUMENT', 'the body must be a JSON object: { "method": string, "args": array }', { field: 'body' });
  }
  const { method, args } = parsed as { method?: unknown; args?: unknown };
  if (typeof method !== 'string') throw new HttpRefusal(400, 'INVALID_ARGUMENT', 'method must be a string', { field: 'method' });
  if (!isServed(method)) throw new HttpRefusal(400, 'INVALID_ARGUMENT', `${method.slice(0, 64)} is not a method this store serves`, { field: 'method' });
  if (args !== undefined && !Array.isArray(args)) throw new HttpRefusal(400, 'INVALID_ARGUMENT', 'args must be an array', { field: 'args' });
  return { method, args: (reviveBytes(args ?? []) as unknown[]) };
}

/**
 * The token of an `Authorization: Bearer <token>` header, or null: for authorize functions, which
 * see sync requests' `access_token` there too.
 */
export function bearerToken(request: Request): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '')?.[1] ?? null;
}

/**
 * The request as authorize and the object see it. On the sync route, `?access_token=<token>`
 * becomes `Authorization: Bearer <token>` and leaves the URL; a request that sends both is refused
 * (RFC 6750 allows one way per request). Other routes take the header only.
 */
function withQueryToken(request: Request, prefix: string): Request {
  const url = new URL(request.url);
  if (!url.searchParams.has('access_token')) return request;
  let action: string;
  try {
    action = route(url, prefix).action;
  } catch {
    return request;
  }
  if (action !== 'sync') return request;
  if (request.headers.has('authorization')) {
    throw new HttpRefusal(400, 'INVALID_ARGUMENT', 'send the token in the Authorization header or in access_token, not both', { field: 'access_token' });
  }
  const token = url.searchParams.get('access_token') ?? '';
  url.searchParams.delete('access_token');
  const moved = new Request(url.toString(), request);
  if (token) moved.headers.set('authorization', `Bearer ${token}`);
  return moved;
}

/** Runs the app's authorize and returns the one store name it allows; refuses otherwise. */
async function authorizedStore<Env>(request: Request, env: Env, authorize: StoreRouterOptions<Env>['authorize']): Promise<string> {
  if (typeof authorize !== 'function') throw new TypeError('handleStoreRequest needs options.authorize, a function');
  let allowed: unknown;
  try {
    allowed = await authorize(request, env);
  } catch (error) {
    if (error instanceof StoreError && (error.code === 'UNAUTHORIZED' || error.code === 'FORBIDDEN')) throw error;
    // An authorize that fails is a refusal, never a pass; its message stays on the server.
    throw new StoreError('UNAUTHORIZED', 'the request could not be authorized');
  }
  if (allowed === null || allowed === undefined) throw new StoreError('UNAUTHORIZED', 'the request carries no valid credentials');
  if (typeof allowed !== 'string' || allowed.length === 0) throw new StoreError('UNAUTHORIZED', 'the request could not be authorized');
  return allowed;
}

/** `<prefix>/<store>/<action>` → its parts, or a NOT_FOUND. */
function route(url: URL, prefix: string): { store: string; action: string } {
  const notFound = () => new HttpRefusal(404, 'NOT_FOUND', `no such route: ${url.pathname.slice(0, 200)}`, { field: 'path' });
  if (!url.pathname.startsWith(`${prefix}/`)) throw notFound();
  const parts = url.pathname.slice(prefix.length + 1).split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw notFound();
  let store: string;
  try {
    store = decodeURIComponent(parts[0]);
  } catch {
    throw new HttpRefusal(400, 'INVALID_ARGUMENT', 'the store name in the path is not valid percent-encoding', { field: 'store' });
  }
  if (store.length > MAX_STORE_NAME) throw new HttpRefusal(400, 'INVALID_ARGUMENT', `a store name has at most ${MAX_STORE_NAME} characters`, { field: 'store' });
  return { store, action: parts[1] };
}

function requireMethod(request: Request, allowed: readonly string[]): void {
  if (!allowed.includes(request.method)) {
    throw new HttpRefusal(405, 'INVALID_ARGUMENT', `${request.method} is not allowed here; use ${allowed.join(' or ')}`, { field: 'method', allow: allowed.join(', ') });
  }
}

function stubFor(env: unknown, binding: string, store: string): CallableStub {
  const namespace = (env as Record<string, unknown> | null | undefined)?.[binding] as Namespace | undefined;
  if (!namespace || typeof namespace.idFromName !== 'function' || typeof namespace.get !== 'function') {
    throw new TypeError(`handleStoreRequest: env.${binding} is not a Durable Object namespace bound to StateStoreObject`);
  }
  return namespace.get(namespace.idFromName(store) as never) as CallableStub;
}

async function send(stub: CallableStub, method: string, args: unknown[]): Promise<unknown> {
  const reply = await stub.call(method, args);
  if (!reply.ok) throw new HttpRefusal(STATUS[reply.error.code] ?? 500, reply.error.code, reply.error.message, reply.error.details);
  return reply.value;
}

/**
 * Serves the stores over HTTP behind the app's authorization (see StoreRouterOptions.authorize):
 * a request reaches a Durable Object only after authorize named a store, and only that store.
 *
 * @example
 * export default {
 *   fetch: (request, env) => handleStoreRequest(request, env, { authorize: (req) => userStoreFromToken(req) }),
 * };
 */
export async function handleStoreRequest<Env>(request: Request, env: Env, options: StoreRouterOptions<Env>): Promise<Response> {
  const origin = request.headers.get('origin');
  const allowed = options?.allowedOrigins;
  const cors = origin !== null && allowed !== undefined && (typeof allowed === 'function' ? allowed(origin) : allowed.includes(origin)) ? origin : null;
  if (cors !== null && request.method === 'OPTIONS') {
    return new Response(null, {
      status: 204,
      headers: {
        'access-control-allow-origin': cors,
        'access-control-allow-methods': 'GET, POST, PUT',
        'access-control-allow-headers': 'authorization, content-type',
        'access-control-max-age': '600',
        vary: 'origin',
      },
    });
  }
  const response = await routeStoreRequest(request, env, options);
  // A WebSocket's 101 needs no CORS and cannot be copied.
  if (cors === null || response.status === 101) return response;
  const headers = new Headers(response.headers);
  headers.set('access-control-allow-origin', cors);
  headers.append('vary', 'origin');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

async function routeStoreRequest<Env>(request: Request, env: Env, options: StoreRouterOptions<Env>): Promise<Response> {
  const prefix = (options?.prefix ?? '/stores').replace(/\/+$/, '');
  const binding = options?.binding ?? 'STORES';
  const maxCallBytes = options?.maxCallBytes ?? ROUTER_LIMITS.maxCallBytes;
  const maxImportBytes = options?.maxImportBytes ?? ROUTER_LIMITS.maxImportBytes;
  try {
    request = withQueryToken(request, prefix);
    // Authorization comes first: an unauthorized caller learns nothing, not even which routes exist.
    const allowed = await authorizedStore(request, env, options?.authorize);
    const { store, action } = route(new URL(request.url), prefix);
    if (store !== allowed) throw new StoreError('FORBIDDEN', 'this token does not give access to that store');
    if (action === 'call') {
      requireMethod(request, ['POST']);
      const { method, args } = parseCall(await readBody(request, maxCallBytes));
      const value = await send(stubFor(env, binding, store), method, args);
      return new Response(stringifyValue(value), { headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } });
    }
    if (action === 'export') {
      requireMethod(request, ['GET']);
      const bytes = (await send(stubFor(env, binding, store), 'exportDatabase', [])) as Uint8Array;
      return new Response(bytes, {
        headers: {
          'content-type': 'application/vnd.sqlite3',
          'content-length': String(bytes.byteLength),
          'content-disposition': `attachment; filename="${encodeURIComponent(store)}.sqlite"`,
          'cache-control': 'no-store',
        },
      });
    }
    if (action === 'import') {
      requireMethod(request, ['PUT', 'POST']);
      const bytes = await readBody(request, maxImportBytes);
      const value = await send(stubFor(env, binding, store), 'importDatabase', [bytes]);
      return new Response(stringifyValue(value), { headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } });
    }
    if (action === 'sync') {
      requireMethod(request, ['GET']);
      const stub = stubFor(env, binding, store);
      if (request.headers.get('upgrade')?.toLowerCase() === 'websocket') return await stub.fetch(request);
      return new Response(null, { status: 204, headers: { 'cache-control': 'no-store' } });
    }
    throw new HttpRefusal(404, 'NOT_FOUND', `no such route: ${action.slice(0, 64)}; use call, export, import or sync`, { field: 'path' });
  } catch (error) {
    return refusalResponse(error);
  }
}
