/**
 * The store's worker with the leader's test hook: once armed (armFailover in main.ts), the next write
 * that reaches this leader from another tab (a write with a request id) is committed and then never
 * answered, and the worker says so on BroadcastChannel('test-failover'). The test then closes this
 * tab, so the write's tab must resend it to the next leader. Built from the package's source: the
 * hook is not part of the published `serve()`; this does what serve() does, plus the hook.
 */
import * as Comlink from 'comlink';
import { installErrorTransfer } from '../../../src/wire.js';
import { makeWorkerApi } from '../../../worker/api.js';
import { recordStorageErrors } from '../../../worker/storage-errors.js';

/** What the page sends to arm the hook, and what the worker answers. */
export type FailoverMessage =
  | { arm: string }
  | { armed: string }
  | { hung: { method: string; requestId: string } };

const channel = new BroadcastChannel('test-failover');
let armed = false;
channel.onmessage = (event: MessageEvent<FailoverMessage>) => {
  if (!('arm' in event.data)) return;
  armed = true;
  channel.postMessage({ armed: event.data.arm } satisfies FailoverMessage);
};

installErrorTransfer(Comlink.transferHandlers as never);
recordStorageErrors();
Comlink.expose(
  makeWorkerApi({
    afterCommit(method, requestId) {
      if (!armed) return Promise.resolve();
      armed = false;
      channel.postMessage({ hung: { method, requestId } } satisfies FailoverMessage);
      return new Promise<void>(() => {}); // committed, and never answered
    },
  }),
);
