/**
 * `agent-state-store/worker`: the Web Worker entry. Loaded as a module worker it boots sqlite-wasm
 * and serves the store to the page through Comlink. Apps that host the worker themselves call
 * `serve()` from their own worker module and pass that worker to `openStateStore({ worker })`.
 *
 * @module agent-state-store/worker
 */
import * as Comlink from 'comlink';
import { installErrorTransfer } from '../src/wire.js';
import { loadEngine } from '../src/driver/engine.js';
import { makeWorkerApi } from './api.js';
import { recordStorageErrors } from './storage-errors.js';

export type { WorkerApi } from './api.js';

declare const WorkerGlobalScope: unknown;

// The start-up stages leave User Timing marks (agent-state-store:*) for profilers and for
// scripts/startup-profile, which reads them to break a cold start down.
performance.mark('agent-state-store:module');

let serving = false;

/**
 * Serves the store from the current worker (once; later calls do nothing).
 *
 * @example
 * // my-worker.ts, created with new Worker(new URL('./my-worker.ts', import.meta.url), { type: 'module' })
 * import { serve } from 'agent-state-store/worker';
 * serve();
 */
export function serve(): void {
  if (serving) return;
  serving = true;
  installErrorTransfer(Comlink.transferHandlers as never);
  recordStorageErrors();
  Comlink.expose(makeWorkerApi());
  // The engine (fetching and compiling the wasm) is the longest step of opening a store and needs
  // nothing from the page, so it starts now, while the page's open call and the election are on
  // their way. A tab that never leads pays for it too, and is then ready to take over at once.
  loadEngine().catch(() => {});
}

// Loaded as the worker itself (the default of openStateStore), serve straight away. An explicit
// serve() call keeps working where a bundler drops side-effect-only imports.
if (typeof WorkerGlobalScope !== 'undefined') serve();
