/**
 * The wire side of the sync engine (worker/sync.ts): the endpoints' URLs, the reconnect backoff, what
 * a refused probe means, and one WebSocket whose frames queue up for the engine to take.
 */
import { STORE_ERROR_CODES, StoreError, type StoreErrorCode } from '../src/core/errors.js';
import type { ClientFrame, SyncState } from '../src/core/sync-protocol.js';

/** SyncState's lastError. */
export type SyncError = NonNullable<SyncState['lastError']>;

/** Backoff: the first retry waits about RETRY_FIRST_MS, each next one twice as long, up to RETRY_MAX_MS. */
export const RETRY_FIRST_MS = 500;
export const RETRY_MAX_MS = 10_000;

/**
 * How long to wait before reconnect attempt `attempt` (0-based): doubling from RETRY_FIRST_MS, capped
 * at RETRY_MAX_MS, and spread over its upper half by `random` (0…1) so that devices a server restart
 * dropped together do not all come back in the same instant.
 */
export function retryDelay(attempt: number, random: number = Math.random()): number {
  const full = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(Math.max(attempt, 0), 30));
  return Math.round(full / 2 + (full / 2) * Math.min(Math.max(random, 0), 1));
}

/** The WebSocket's URL: ws(s) for http(s), and the token as `access_token` (a browser cannot set headers on a WebSocket). */
export function syncSocketUrl(url: string, token: string): string {
  return `${url.replace(/^http/, 'ws')}/sync?access_token=${encodeURIComponent(token)}`;
}

/** The probe's URL: a plain GET with `Authorization: Bearer <token>`, answered 204 when the token is good. */
export function syncProbeUrl(url: string): string {
  return `${url}/sync`;
}

/** Whether `code` is one of STORE_ERROR_CODES. */
export const isCode = (code: unknown): code is StoreErrorCode => (STORE_ERROR_CODES as readonly unknown[]).includes(code);

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

/** A failure as SyncState's lastError: a StoreError's code, or `fallback`. */
export function asSyncError(error: unknown, fallback: StoreErrorCode): SyncError {
  if (error instanceof StoreError) return { code: error.code, message: error.message };
  if (typeof error === 'object' && error !== null && isCode((error as { code?: unknown }).code)) {
    return { code: (error as { code: StoreErrorCode }).code, message: String((error as { message?: unknown }).message ?? '') };
  }
  return { code: fallback, message: error instanceof Error ? error.message : String(error) };
}

/** A promise that anyone can wake, and that is then replaced by a fresh one. */
export class Signal {
  private wake: () => void = () => {};
  private waiting: Promise<void> | undefined;

  /** Resolves at the next notify(), or after `ms` when given. */
  wait(ms?: number): Promise<void> {
    this.waiting ??= new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    if (ms === undefined) return this.waiting;
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([this.waiting, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
  }

  /** Wakes every waiter. */
  notify(): void {
    this.waiting = undefined;
    this.wake();
  }
}

/** Why a session ended early: the server refused something (an `error` frame), or the connection broke. */
export class SessionEnded extends Error {
  constructor(
    readonly refusal: SyncError | null,
    message: string,
  ) {
    super(message);
  }
}

/** One WebSocket: frames queue up as they arrive; every event wakes the engine. */
export class Connection {
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

/** A frame's type for an error message, or a word for a frame that has none. */
export function describe(frame: unknown): string {
  const type = (frame as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? `"${type.slice(0, 40)}"` : 'a frame that is not a protocol frame';
}
