import type { SmallLimitsObject, StoreObject } from './worker';

declare global {
  namespace Cloudflare {
    interface Env {
      STORES: DurableObjectNamespace<StoreObject>;
      SMALL: DurableObjectNamespace<SmallLimitsObject>;
      BIG_STORE_MB: string;
      BIG_STORE_FILL_ONLY: string;
    }
  }
}
