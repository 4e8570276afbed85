/**
 * The wire side of the browser's sync platform (worker/sync.ts): the endpoints' URLs, what a refused
 * probe means, and one WebSocket whose frames queue up for the engine to take.
 */
import type { StoreErrorCode } from '../src/core/errors.js';
import { isCode, SessionEnded, type SyncError, type SyncLink } from '../src/sync/engine.js';
import type { ClientFrame } from '../src/sync/protocol.js';

/** The WebSocket's URL: ws(s) for http(s), and the token as `access_token` (a browser cannot set headers on a WebSocket). */
export function syncSocketUrl(url: string, token: string): string {
  return `${url.replace(/^http/, 'ws')}/sync?access_token=${encodeURIComponent(token)}`;
}

/** The probe's URL: a plain GET with `Authorization: Bearer <token>`, answered 204 when the token is good. */
export function syncProbeUrl(url: string): string {
  return `${url}/sync`;
}

/**
 * What a refused probe means: the router's `{ error: { code, message } }`, or 401 → UNAUTHORIZED and
 * 403 → FORBIDDEN where the body says nothing usable. A 404 that is not the router's, or a web page
 * where the router answers 204, means `url` is not a store's URL on the router: NOT_FOUND, with what
 * to check. Null for an answer that is not a refusal.
 */
export function probeRefusal(status: number, body: string, url = 'sync.url'): SyncError | null {
  const notTheRouter = (what: string): SyncError => ({
    code: 'NOT_FOUND',
    message:
      `${syncProbeUrl(url)} ${what}, so sync.url is not a store's URL on the edge router: set it to the router's address ` +
      'and the store path it serves, e.g. "https://example.com/stores/alice" (see docs/troubleshooting.md)',
  });
  // An app server's fallback page (Vite's dev server, a single-page app host) answers any path with 200.
  if (status >= 200 && status < 300 && /^\s*<(!doctype|html)/i.test(body)) return notTheRouter(`answered ${status} with a web page`);
  if (status < 400) return null;
  let error: { code?: unknown; message?: unknown } = {};
  try {
    const parsed = JSON.parse(body) as { error?: typeof error } | null;
    if (parsed && typeof parsed.error === 'object' && parsed.error !== null) error = parsed.error;
  } catch {
    // Not the router's JSON (a proxy's page): the status alone says what happened.
  }
  const byStatus: StoreErrorCode | undefined = status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'FORBIDDEN' : undefined;
  if (status === 404 && !isCode(error.code)) return notTheRouter('answered 404');
  const code = isCode(error.code) ? error.code : byStatus;
  if (!code) return null;
  const message = typeof error.message === 'string' ? error.message : `the sync endpoint answered ${status}`;
  return { code, message };
}

/** One WebSocket: frames queue up as they arrive; every event wakes the engine. */
/**
 * Where the sync socket opens: with a one-use ticket from `POST <url>/ticket` (the token goes in a
 * header, never into a URL that request logs keep), or, from a server with no ticket route (404), with
 * the token as `access_token`. Rejects when the ticket is refused (the engine then probes why).
 */
export async function socketUrlFor(url: string, token: string): Promise<string> {
  const response = await fetch(`${url}/ticket`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
  if (response.status === 404) return syncSocketUrl(url, token);
  if (!response.ok) throw new Error(`the sync ticket was refused (${response.status})`);
  const ticket = ((await response.json()) as { value?: { ticket?: unknown } } | null)?.value?.ticket;
  if (typeof ticket !== 'string' || ticket === '') throw new Error('the sync ticket answer has no ticket');
  return `${url.replace(/^http/, 'ws')}/sync?ticket=${encodeURIComponent(ticket)}`;
}

/** One WebSocket, opened once its URL is known: frames queue up as they arrive; every event wakes the engine. */
export class Connection implements SyncLink {
  socket: WebSocket | undefined;
  readonly frames: unknown[] = [];
  state: 'connecting' | 'open' | 'closed' = 'connecting';

  constructor(url: string | Promise<string>, onEvent: () => void) {
    Promise.resolve(url).then(
      (resolved) => {
        if (this.state === 'closed') return;
        this.open(resolved, onEvent);
      },
      () => {
        this.state = 'closed';
        onEvent();
      },
    );
  }

  private open(url: string, onEvent: () => void): void {
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      if (this.state === 'connecting') this.state = 'open';
      onEvent();
    };
    socket.onmessage = (event: MessageEvent) => {
      let frame: unknown;
      try {
        frame = typeof event.data === 'string' ? JSON.parse(event.data) : null;
      } catch {
        frame = null;
      }
      this.frames.push(frame);
      onEvent();
    };
    socket.onclose = () => {
      this.state = 'closed';
      onEvent();
    };
    // An error is followed by close, which is what the engine acts on.
    socket.onerror = () => {};
  }

  /** Sends one frame; throws SessionEnded when the socket is no longer open. */
  send(frame: ClientFrame): void {
    if (this.state !== 'open' || !this.socket) throw new SessionEnded(null, 'the socket is closed');
    this.socket.send(JSON.stringify(frame));
  }

  /** Closes the socket (the engine sees it as closed at once). */
  close(): void {
    this.state = 'closed';
    try {
      this.socket?.close();
    } catch {
      // Already closing.
    }
  }
}
