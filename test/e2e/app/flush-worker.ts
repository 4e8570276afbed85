// The store's worker, counting the flushes of its OPFS handles (see flush-hook.ts).
import './flush-hook.js';
import { serve } from 'agent-state-store/worker';

serve();
