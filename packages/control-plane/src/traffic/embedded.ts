/** The default traffic source: the views computed from the config service's own window. */
import type { TrafficSource } from './routes.ts';
import { serviceTraffic, trafficGraph } from './views.ts';
import type { TrafficWindow } from './window.ts';

export function embeddedSource(window: TrafficWindow): TrafficSource {
  return {
    kind: 'embedded',
    graph: (windowS) => trafficGraph(window, windowS),
    service: (service, windowS) => serviceTraffic(window, service, windowS),
  };
}
