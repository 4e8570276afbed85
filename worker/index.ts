/**
 * `agent-state-store/worker`: the Web Worker entry. Loaded as a module worker it boots sqlite-wasm
 * and serves the store to the page through Comlink. Apps that host the worker themselves create it
 * from this module and pass it to `openStateStore({ worker })`.
 */
import * as Comlink from 'comlink';
import { installErrorTransfer } from '../src/protocol.js';
import { makeWorkerApi } from './api.js';

export type { WorkerApi } from './api.js';
export { makeWorkerApi } from './api.js';

declare const WorkerGlobalScope: unknown;

// Only serve when actually running as a worker, so importing this module for its types is harmless.
if (typeof WorkerGlobalScope !== 'undefined') {
  installErrorTransfer(Comlink.transferHandlers as never);
  Comlink.expose(makeWorkerApi());
}
