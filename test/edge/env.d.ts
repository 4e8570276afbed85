import type { SmallLimitsObject, StoreObject } from './worker';

declare global {
  namespace Cloudflare {
    interface Env {
      STORES: DurableObjectNamespace<StoreObject>;
      SMALL: DurableObjectNamespace<SmallLimitsObject>;
    }
  }
}
