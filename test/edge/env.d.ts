import type { ShortSocketObject, SmallLimitsObject, StoreObject } from './worker';

declare global {
  namespace Cloudflare {
    interface Env {
      STORES: DurableObjectNamespace<StoreObject>;
      SMALL: DurableObjectNamespace<SmallLimitsObject>;
      SHORT: DurableObjectNamespace<ShortSocketObject>;
      BIG_STORE_MB: string;
      BIG_STORE_FILL_ONLY: string;
    }
  }
}
