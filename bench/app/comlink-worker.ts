/**
 * For the overhead breakdown: Comlink on its own (no store, no SQL), answering at once or after one
 * MessageChannel hop, which is the wait the store's group commit adds before it runs a call.
 */
import * as Comlink from 'comlink';

const hop = new MessageChannel();
const waiting: Array<() => void> = [];
hop.port1.onmessage = () => waiting.shift()?.();

const api = {
  /** Answers at once. */
  echo(value: unknown): unknown {
    return value;
  },
  /** Answers after one macrotask hop. */
  echoAfterHop(value: unknown): Promise<unknown> {
    return new Promise((resolve) => {
      waiting.push(() => resolve(value));
      hop.port2.postMessage(null);
    });
  },
};

/** What the page sees. */
export type ComlinkEchoApi = typeof api;

Comlink.expose(api);
