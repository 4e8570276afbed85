import type { StoreObject } from './worker';

declare global {
  namespace Cloudflare {
    interface Env {
      STORES: DurableObjectNamespace<StoreObject>;
    }
  }
}
