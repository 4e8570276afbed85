/**
 * `agent-state-store/cloudflare`: the same StateStore on Cloudflare Durable Objects. Export
 * StateStoreObject from your Worker, bind it with `new_sqlite_classes`, and reach each store from
 * Worker code with edgeStore(env.STORES, name). The driver is exported for hosts of their own.
 *
 * @module agent-state-store/cloudflare
 */
export { StateStoreObject, EDGE_HOST_CAPABILITIES } from './object.js';
export type { EdgeCapabilities, EdgeStoreInfo } from './object.js';
export { edgeStore } from './client.js';
export type { EdgeStoreClient, StoreNamespace } from './client.js';
export { durableObjectDriver, durableObjectTextFile, EDGE_CAPABILITIES } from './driver.js';
export type { EdgeReply } from './reply.js';
export { StoreError, STORE_ERROR_CODES } from '../core/errors.js';
export type { StoreErrorCode, StoreErrorDetails } from '../core/errors.js';
export { bearerToken, handleStoreRequest, ROUTER_LIMITS } from './router.js';
export type { StoreRouterOptions } from './router.js';
export { loadEdgeEngine } from './engine.js';
export { DEFAULT_SYNC_LIMITS } from '../sync/protocol.js';
export type { SyncLimits } from '../sync/protocol.js';
