// The store's worker with a Mobile Safari user agent (see fake-user-agent.ts).
import './fake-user-agent.js';
import { serve } from 'agent-state-store/worker';

serve();
