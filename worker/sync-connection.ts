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
 * 403 → FORBIDDEN where the body says nothing usable. Null for an answer that is not a refusal.
 */
export function probeRefusal(status: number, body: string): SyncError | null {
  if (status < 400) return null;
  let error: { code?: unknown; message?: unknown } = {};
  try {
    const parsed = JSON.parse(body) as { error?: typeof error } | null;
    if (parsed && typeof parsed.error === 'object' && parsed.error !== null) error = parsed.error;
  } catch {
    // Not the router's JSON (a proxy's page): the status alone says what happened.
  }
  const byStatus: StoreErrorCode | undefined = status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'FORBIDDEN' : undefined;
  const code = isCode(error.code) ? error.code : byStatus;
  if (!code) return null;
  const message = typeof error.message === 'string' ? error.message : `the sync endpoint answered ${status}`;
  return { code, message };
}

/** One WebSocket: frames queue up as they arrive; every event wakes the engine. */
export class Connection implements SyncLink {
  readonly socket: WebSocket;
  readonly frames: unknown[] = [];
  state: 'connecting' | 'open' | 'closed' = 'connecting';

  constructor(url: string, onEvent: () => void) {
    this.socket = new WebSocket(url);
    this.socket.onopen = () => {
      if (this.state === 'connecting') this.state = 'open';
      onEvent();
    };
    this.socket.onmessage = (event: MessageEvent) => {
      let frame: unknown;
      try {
        frame = typeof event.data === 'string' ? JSON.parse(event.data) : null;
      } catch {
        frame = null;
      }
      this.frames.push(frame);
      onEvent();
    };
    this.socket.onclose = () => {
      this.state = 'closed';
      onEvent();
    };
    // An error is followed by close, which is what the engine acts on.
    this.socket.onerror = () => {};
  }

  /** Sends one frame; throws SessionEnded when the socket is no longer open. */
  send(frame: ClientFrame): void {
    if (this.state !== 'open') throw new SessionEnded(null, 'the socket is closed');
    this.socket.send(JSON.stringify(frame));
  }

  /** Closes the socket (the engine sees it as closed at once). */
  close(): void {
    this.state = 'closed';
    try {
      this.socket.close();
    } catch {
      // Already closing.
    }
  }
}
