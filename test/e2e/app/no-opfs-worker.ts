// The store's worker in a scope without OPFS: `auto` must fall back to memory.
import './remove-opfs.js';
import { serve } from 'agent-state-store/worker';

serve();
