/**
 * `agent-state-store/core`: the StateStore, its types and errors, and createMemoryStore() for Node and tests.
 *
 * @module agent-state-store/core
 */
export * from './core/index.js';
export { createMemoryStore } from './memory-store.js';
export type { MemoryStore, MemoryStoreOptions } from './memory-store.js';
