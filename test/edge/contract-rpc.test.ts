import { env } from 'cloudflare:workers';
import { edgeStore } from '../../src/cloudflare/index.js';
import type { ContractStore } from '../contract/index.js';
import { EDGE_LACKS, runContract, withStores } from './contract-cases.js';

// The contract suite through the Worker client: every call crosses Workers RPC to a fresh object.
// Listeners cross as function stubs (capabilities.listeners = 'rpc').
runContract(withStores(async () => edgeStore(env.STORES, `contract-${crypto.randomUUID()}`) as unknown as ContractStore), EDGE_LACKS);
