/**
 * The whole contract suite: importing this registers every case. Each target (Vitest in Node, a
 * Chromium page through the worker) imports it and runs `contractCases` against its own stores.
 */
import './cases/threads.js';
import './cases/goals.js';
import './cases/messages.js';
import './cases/tools.js';
import './cases/checkpoints.js';
import './cases/jobs.js';
import './cases/session-index.js';
import './cases/lifecycle.js';
import './cases/search.js';
import './cases/pagination.js';
import './cases/streaming.js';
import './cases/titles.js';
import './cases/retention.js';
import './cases/graph-checkpoints.js';
import './cases/app-layer.js';
import './cases/branches.js';

export { contractCases, missingCapability } from './harness.js';
export type { ContractCapability, ContractCase, ContractStore, ContractTarget } from './harness.js';
