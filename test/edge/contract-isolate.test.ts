import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { edgeStore } from '../../src/cloudflare/index.js';
import { loadEdgeEngine } from '../../src/cloudflare/engine.js';
import type { ContractStore } from '../contract/index.js';
import { EDGE_LACKS, runContract, withStores } from './contract-cases.js';
import type { StoreObject } from './worker.js';

// The contract suite in-isolate: each case runs inside a fresh SQLite-backed Durable Object, against
// the StateStore that object hosts, on the Durable Object driver (storage can only be touched from
// inside its object). Listeners work here: they are the core's own. A second store that a case
// opens (a donor, say) is another object, reached over RPC as a Worker would.
runContract(async (run) => {
  // The store is used directly (not through call), so the file engine is loaded here, as call would.
  await loadEdgeEngine();
  const stub = env.STORES.get(env.STORES.newUniqueId());
  await runInDurableObject(stub, async (object) => {
    let first = true;
    await withStores(async () => {
      if (!first) return edgeStore(env.STORES, `contract-${crypto.randomUUID()}`) as unknown as ContractStore;
      first = false;
      return (object as unknown as StoreObject).localStore() as unknown as ContractStore;
    })(run);
  });
}, EDGE_LACKS);
