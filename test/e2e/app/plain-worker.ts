// The package's worker, hosted by the app itself (the `worker` option of openStateStore).
import { serve } from 'agent-state-store/worker';

serve();
