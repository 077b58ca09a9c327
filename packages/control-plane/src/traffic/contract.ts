/**
 * The traffic API's answers (`GET /v1/traffic`, `GET /v1/traffic/services/:service`): the contract
 * the config service serves and the dashboard reads. No imports, so the dashboard's bundle can use
 * it as it is.
 */

export interface Metrics {
  requests: number;
  failures: number;
  failuresByClass: Record<string, number>;
  rps: number;
  successRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

export interface Edge extends Metrics {
  from: string;
  to: string;
}

export interface TrafficGraph {
  windowS: number;
  now: string;
  reporters: number;
  nodes: { service: string; inbound: Metrics; outbound: Metrics }[];
  edges: Edge[];
}

export interface EndpointTraffic extends Metrics {
  destination: string;
  subset: string;
  endpoint: string;
  share: number;
  state?: { healthy: boolean; ejected: boolean; latencyEstimateMs: number | null };
}

export interface ServiceTraffic {
  service: string;
  windowS: number;
  now: string;
  inbound: Edge[];
  outbound: Edge[];
  subsets: ({ destination: string; subset: string } & Metrics)[];
  endpoints: EndpointTraffic[];
  destinations: ({ destination: string } & Metrics)[];
  series: {
    stepS: number;
    points: { t: string; rps: number; successRate: number | null; p99Ms: number | null }[];
  };
}
