/**
 * `agent-state-store/worker`: the Web Worker entry. Loaded as a module worker it boots sqlite-wasm
 * and serves the store to the page through Comlink. Apps that host the worker themselves call
 * `serve()` from their own worker module and pass that worker to `openStateStore({ worker })`.
 */
import * as Comlink from 'comlink';
import { installErrorTransfer } from '../src/wire.js';
import { makeWorkerApi } from './api.js';
import { recordStorageErrors } from './storage-errors.js';

export type { WorkerApi } from './api.js';

declare const WorkerGlobalScope: unknown;

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
}

// Loaded as the worker itself (the default of openStateStore), serve straight away. An explicit
// serve() call keeps working where a bundler drops side-effect-only imports.
if (typeof WorkerGlobalScope !== 'undefined') serve();
