// The store's worker in a scope without OPFS: `auto` must fall back to memory.
import './remove-opfs.js';
import 'agent-state-store/worker';
