// The store's worker with a storage layer that can run out of quota on demand (see quota-hook.ts).
import './quota-hook.js';
import { serve } from 'agent-state-store/worker';

serve();
