/**
 * The package's worker, statically imported (so no message is lost), plus an answer with the
 * worker's performance marks and resource timings on a BroadcastChannel, in the page's time base.
 */
import { serve } from 'agent-state-store/worker';

serve();

const channel = new BroadcastChannel('startup-marks');
channel.onmessage = () => {
  const shift = performance.timeOrigin;
  const marks = performance.getEntriesByType('mark').map((m) => ({ name: m.name, at: shift + m.startTime }));
  const resources = (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).map((r) => ({
    name: r.name.split('/').pop(),
    start: shift + r.startTime,
    responseEnd: shift + r.responseEnd,
  }));
  channel.postMessage({ marks, resources, origin: shift });
};
