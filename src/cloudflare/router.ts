import { StoreError, type StoreErrorCode, type StoreErrorDetails } from '../core/errors.js';
import { isServed, operation } from '../core/operations.js';
import { reviveError, type EdgeReply } from './reply.js';
import { MAX_STREAMED_IMPORT_BYTES } from './staging.js';

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

/** What the router needs of a Durable Object stub: the object's `call`, `fetch` for sync upgrades, and its sync tickets. */
interface CallableStub {
  call(method: string, args: unknown[]): Promise<EdgeReply>;
  fetch(request: Request): Promise<Response>;
  issueTicket(ttlSeconds?: number): Promise<EdgeReply<{ ticket: string; expiresAt: number }>>;
  exportStream(): Promise<EdgeReply<{ stream: ReadableStream<Uint8Array>; byteLength: number }>>;
  importStream(body: ReadableStream<Uint8Array>, options: { maxBytes: number }): Promise<EdgeReply>;
  redeemTicket(ticket: string): Promise<boolean>;
}

/** What the router needs of a namespace binding (env.STORES). */
interface Namespace {
  idFromName(name: string): unknown;
  get(id: never): unknown;
}

/**
 * What authorize grants: a store name (every method of that store), or the store with what the caller
 * may do there. `can(method)` is asked for every request: the served method of a call,
 * `exportDatabase` and `importDatabase` for those routes, `sync` for the sync route (and for tickets).
 */
export type StoreAccess = string | { store: string; can?: (method: string) => boolean };

/** Options of handleStoreRequest. */
export interface StoreRouterOptions<Env = unknown> {
  /**
   * Decides who may use which store and how: returns the name of the one store this request's caller
   * may use (all of it), or `{ store, can }` to limit the methods (see readOnly), or null/undefined (or
   * throws a StoreError, UNAUTHORIZED or FORBIDDEN) to refuse. Nothing reaches a store without it.
   * Verify the token here (a session, a signed JWT); never take the store name from the request
   * without checking it belongs to the caller.
   */
  authorize: (request: Request, env: Env) => StoreAccess | null | undefined | Promise<StoreAccess | null | undefined>;
  /** The env key of the Durable Object namespace bound to StateStoreObject. Default `STORES`. */
  binding?: string;
  /** The path the routes sit under. Default `/stores`. */
  prefix?: string;
  /** The largest JSON body of a call, in bytes. Default 1 MiB (1048576). */
  maxCallBytes?: number;
  /**
   * The largest file an import takes, in bytes. Default 1 GiB (MAX_STREAMED_IMPORT_BYTES): the body is
   * streamed into the object's storage and checked there, so neither memory nor RPC's 32 MiB value
   * limit bounds it; the object's 10 GB and its CPU limit do (see the README's limits table).
   */
  maxImportBytes?: number;
  /**
   * Where a failure that is not the caller's (an engine error, a bug) is logged, with its request id:
   * the caller gets only `500 internal error` and that id. Default console.error.
   */
  logError?: (requestId: string, error: unknown) => void;
  /**
   * The page origins allowed to call from another origin (CORS): a list of exact origins
   * (`https://app.example.com`) or a function. Such a request gets `Access-Control-Allow-Origin`, and
   * its preflight (OPTIONS) is answered before `authorize`, since a preflight carries no credentials.
   * A synced page served from another origin needs it, or a refused token looks like a network
   * failure. Default: none (same-origin only).
   */
  allowedOrigins?: readonly string[] | ((origin: string) => boolean);
}

/**
 * Default limits of handleStoreRequest: body sizes, and how deep a call's JSON may nest (deeper is
 * INVALID_ARGUMENT before anything else reads it; no stored record needs more).
 */
export const ROUTER_LIMITS = { maxCallBytes: 1 << 20, maxImportBytes: MAX_STREAMED_IMPORT_BYTES, maxJsonDepth: 128 } as const;

/**
 * An `authorize` grant for readers: every read method, export and sync; no write, no import. Use it
 * as `{ store, can: readOnly }`.
 */
export function readOnly(method: string): boolean {
  if (method === 'exportDatabase' || method === 'sync') return true;
  return isServed(method) && operation(method).mode === 'read';
}

/** The content types of a call body: JSON only, which a plain HTML form cannot send (it forces a CORS preflight). */
const CALL_TYPES = ['application/json'];
/** The content types of an import body; neither can a form send. */
const IMPORT_TYPES = ['application/vnd.sqlite3', 'application/octet-stream'];

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

function refusalResponse(error: unknown, logError: (requestId: string, error: unknown) => void): Response {
  if (error instanceof HttpRefusal) return errorResponse(error.status, error, error.status === 405 ? { allow: String(error.details?.['allow'] ?? '') } : {});
  const status = error instanceof StoreError ? (STATUS[error.code] ?? 500) : 500;
  if (error instanceof StoreError && status < 500) return errorResponse(status, error);
  // Never echo a failure that is not the caller's (an engine error, a TypeError): its text may carry
  // another store's or the platform's details. The log gets it, under an id the caller can quote.
  const requestId = crypto.randomUUID();
  logError(requestId, error);
  const code = error instanceof StoreError ? error.code : 'STORAGE';
  return errorResponse(status, { code, message: `internal error (request ${requestId})`, details: { requestId } }, { 'x-request-id': requestId });
}

function defaultLogError(requestId: string, error: unknown): void {
  console.error(`agent-state-store router: request ${requestId} failed`, error);
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

/** The refusal of a body over its limit: 413. */
function tooLarge(limit: number): HttpRefusal {
  return new HttpRefusal(413, 'INVALID_ARGUMENT', `the request body is larger than the limit of ${limit} bytes`, { field: 'body', limitBytes: limit });
}

/** Reads a body, refusing it (413) once it passes `limit` bytes, whatever Content-Length claims. */
async function readBody(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
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
      throw tooLarge(limit);
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

/**
 * How deep a JSON text nests, counted on the text (brackets outside strings) before it is parsed,
 * stopping at `limit + 1`: the parser and everything after it (RPC's copy, the store) then never see
 * a value deeper than the limit.
 */
function jsonDepthOver(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** The method and args of a call body, checked before any store sees them. */
function parseCall(body: Uint8Array, maxDepth: number): { method: string; args: unknown[] } {
  let parsed: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body);
  } catch {
    throw new HttpRefusal(400, 'INVALID_ARGUMENT', 'the body must be JSON: { "method": string, "args": array }', { field: 'body' });
  }
  if (jsonDepthOver(text, maxDepth)) {
    throw new HttpRefusal(400, 'INVALID_ARGUMENT', `the body nests deeper than ${maxDepth} levels`, { field: 'body', limitDepth: maxDepth });
  }
  try {
    parsed = JSON.parse(text);
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

/** What authorize granted, checked: the one store, and what the caller may do there. */
interface Grant {
  store: string;
  can: (method: string) => boolean;
}

/** Runs the app's authorize and returns the one store it allows, with its permissions; refuses otherwise. */
async function authorizedStore<Env>(request: Request, env: Env, authorize: StoreRouterOptions<Env>['authorize']): Promise<Grant> {
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
  if (typeof allowed === 'string' && allowed.length > 0) return { store: allowed, can: () => true };
  if (typeof allowed === 'object') {
    const { store, can } = allowed as { store?: unknown; can?: unknown };
    if (typeof store === 'string' && store.length > 0 && (can === undefined || typeof can === 'function')) {
      return { store, can: (can as Grant['can'] | undefined) ?? (() => true) };
    }
  }
  throw new StoreError('UNAUTHORIZED', 'the request could not be authorized');
}

/** Refuses a method the grant does not allow: 403 FORBIDDEN naming it. */
function permit(grant: Grant, method: string): void {
  let allowed = false;
  try {
    allowed = grant.can(method) === true;
  } catch {
    // A permission check that fails is a refusal.
  }
  if (!allowed) throw new StoreError('FORBIDDEN', `this caller may not use ${method} on this store`, { details: { method } });
}

/** Refuses a body whose Content-Type is not one of `types` (415): a cross-site form can send none of them. */
function requireContentType(request: Request, types: readonly string[]): void {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (!types.includes(type)) {
    throw new HttpRefusal(415, 'INVALID_ARGUMENT', `the body must be sent as ${types.join(' or ')}${type ? `, not ${type.slice(0, 64)}` : ''}`, {
      field: 'content-type',
    });
  }
}

/**
 * Whether a WebSocket upgrade comes from a page the router serves: no Origin (not a browser), the
 * router's own origin, or one of allowedOrigins. Browsers send cookies with a cross-site WebSocket,
 * so without this check any site could open a socket as the user (cross-site WebSocket hijacking).
 */
function originAllowed(request: Request, allowed: StoreRouterOptions['allowedOrigins']): boolean {
  const origin = request.headers.get('origin');
  if (origin === null || origin === new URL(request.url).origin) return true;
  if (allowed === undefined) return false;
  return typeof allowed === 'function' ? allowed(origin) === true : allowed.includes(origin);
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
  return unwrapReply(await stub.call(method, args));
}

/** A reply's value; a refusal keeps its code and text, a failure of the store (5xx) is logged, not shown (refusalResponse). */
function unwrapReply<T>(reply: EdgeReply<T>): T {
  if (!reply.ok) throw reviveError(reply.error);
  return reply.value;
}

/** How long a sync ticket lasts, in seconds: long enough to open a socket, too short to be worth stealing from a log. */
const TICKET_SECONDS = 30;

/**
 * A sync upgrade that presents `?ticket=…` (from `POST <prefix>/<store>/ticket`) instead of a token:
 * the store's object uses the ticket up (once, before it expires) and the socket is opened without
 * authorize, as the ticket's issue was authorized. Null for every other request.
 */
async function syncByTicket(request: Request, env: unknown, binding: string, prefix: string, allowed: StoreRouterOptions['allowedOrigins']): Promise<Response | null> {
  const url = new URL(request.url);
  const ticket = url.searchParams.get('ticket');
  if (ticket === null) return null;
  const { store, action } = route(url, prefix);
  if (action !== 'sync') return null;
  if (request.headers.has('authorization') || url.searchParams.has('access_token')) {
    throw new HttpRefusal(400, 'INVALID_ARGUMENT', 'send a ticket or a token, not both', { field: 'ticket' });
  }
  requireMethod(request, ['GET']);
  if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') throw new HttpRefusal(400, 'INVALID_ARGUMENT', 'a ticket opens a WebSocket upgrade only', { field: 'ticket' });
  if (!originAllowed(request, allowed)) throw new StoreError('FORBIDDEN', 'a sync socket from this origin is not allowed (see allowedOrigins)', { details: { field: 'origin' } });
  const stub = stubFor(env, binding, store);
  if (!(await stub.redeemTicket(ticket))) throw new StoreError('UNAUTHORIZED', 'the ticket is unknown, used or expired');
  url.searchParams.delete('ticket');
  return await stub.fetch(new Request(url.toString(), request));
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
  const logError = options?.logError ?? defaultLogError;
  try {
    const ticketed = await syncByTicket(request, env, binding, prefix, options?.allowedOrigins);
    if (ticketed) return ticketed;
    request = withQueryToken(request, prefix);
    // Authorization comes first: an unauthorized caller learns nothing, not even which routes exist.
    const grant = await authorizedStore(request, env, options?.authorize);
    const { store, action } = route(new URL(request.url), prefix);
    if (store !== grant.store) throw new StoreError('FORBIDDEN', 'this token does not give access to that store');
    if (action === 'call') {
      requireMethod(request, ['POST']);
      requireContentType(request, CALL_TYPES);
      const { method, args } = parseCall(await readBody(request, maxCallBytes), ROUTER_LIMITS.maxJsonDepth);
      permit(grant, method);
      const value = await send(stubFor(env, binding, store), method, args);
      return new Response(stringifyValue(value), { headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } });
    }
    if (action === 'export') {
      requireMethod(request, ['GET']);
      permit(grant, 'exportDatabase');
      // Streamed from the object's storage block by block: no size limit but the object's own.
      const { stream, byteLength } = unwrapReply(await stubFor(env, binding, store).exportStream());
      return new Response(stream, {
        headers: {
          'content-type': 'application/vnd.sqlite3',
          'content-length': String(byteLength),
          'content-disposition': `attachment; filename="${encodeURIComponent(store)}.sqlite"`,
          'cache-control': 'no-store',
        },
      });
    }
    if (action === 'import') {
      requireMethod(request, ['PUT', 'POST']);
      requireContentType(request, IMPORT_TYPES);
      permit(grant, 'importDatabase');
      // Streamed to the object, which stages it block by block and refuses it past the limit.
      const declared = Number(request.headers.get('content-length'));
      if (Number.isFinite(declared) && declared > maxImportBytes) throw tooLarge(maxImportBytes);
      const body = request.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
      const reply = await stubFor(env, binding, store).importStream(body, { maxBytes: maxImportBytes });
      if (!reply.ok && reply.error.details?.['limitBytes'] !== undefined && reply.error.details['field'] === 'body') throw tooLarge(maxImportBytes);
      const value = unwrapReply(reply);
      return new Response(stringifyValue(value), { headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } });
    }
    if (action === 'ticket') {
      requireMethod(request, ['POST']);
      permit(grant, 'sync');
      const value = unwrapReply(await stubFor(env, binding, store).issueTicket(TICKET_SECONDS));
      return new Response(stringifyValue(value), { headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } });
    }
    if (action === 'sync') {
      requireMethod(request, ['GET']);
      permit(grant, 'sync');
      const stub = stubFor(env, binding, store);
      if (request.headers.get('upgrade')?.toLowerCase() === 'websocket') {
        if (!originAllowed(request, options?.allowedOrigins)) {
          throw new StoreError('FORBIDDEN', 'a sync socket from this origin is not allowed (see allowedOrigins)', { details: { field: 'origin' } });
        }
        return await stub.fetch(request);
      }
      return new Response(null, { status: 204, headers: { 'cache-control': 'no-store' } });
    }
    throw new HttpRefusal(404, 'NOT_FOUND', `no such route: ${action.slice(0, 64)}; use call, export, import, ticket or sync`, { field: 'path' });
  } catch (error) {
    return refusalResponse(error, logError);
  }
}
