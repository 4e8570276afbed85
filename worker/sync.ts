/**
 * The browser's platform for the sync engine (src/sync/engine.ts), run by the leading tab's worker
 * when its page opened the store with `sync`: a WebSocket to the store's Durable Object, opened with a
 * one-use ticket, a plain-HTTP probe that tells a refused token from a network failure, real timers,
 * and the worker's idea of whether it is online.
 */
import { SyncEngine, type SyncHost, type SyncPlatform, type TokenSource } from '../src/sync/engine.js';
import { Connection, probeRefusal, socketUrlFor, syncProbeUrl } from './sync-connection.js';

/**
 * How often the worker looks at navigator.onLine while it waits. Chromium updates it in a worker but
 * fires no `offline` event there (seen under DevTools' offline emulation, which also leaves an open
 * socket silently stalled), so the page forwards its own events (network()) and the engine polls this.
 */
const surelyOffline = (): boolean => (globalThis.navigator as Navigator | undefined)?.onLine === false;

/** The browser's SyncPlatform for the store at `url`. */
export function browserPlatform(url: string): SyncPlatform {
  return {
    connect: (token, onEvent) => new Connection(socketUrlFor(url, token), onEvent),
    probe: async (token) => {
      const response = await fetch(syncProbeUrl(url), { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
      return probeRefusal(response.status, await response.text().catch(() => ''), url);
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => Date.now(),
    offline: surelyOffline,
  };
}

/** Starts the sync engine for a leader, with the worker's online/offline events; returns it (stop() ends it). */
export function startBrowserSync(host: SyncHost, url: string, getToken: TokenSource): SyncEngine {
  const engine = new SyncEngine(host, browserPlatform(url), getToken);
  const online = () => engine.network(true);
  const offline = () => engine.network(false);
  globalThis.addEventListener?.('online', online);
  globalThis.addEventListener?.('offline', offline);
  void engine.start().finally(() => {
    globalThis.removeEventListener?.('online', online);
    globalThis.removeEventListener?.('offline', offline);
  });
  return engine;
}
