// The package's worker entry, hosted by the app itself (the `worker` option of openStateStore).
import 'agent-state-store/worker';
