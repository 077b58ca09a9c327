/** The shapes the dashboard reads: the traffic API's contract and the config service's documents. */

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

export interface StoredDocument<S = unknown> {
  kind: string;
  name: string;
  spec: S;
  revision: number;
  createRevision: number;
}

export interface RouteBackend {
  subset: string;
  weight: number;
}

export interface RouteRule {
  name?: string;
  matches?: unknown[];
  backends?: RouteBackend[];
  [key: string]: unknown;
}

export interface RouteSpec {
  subsets?: Record<string, Record<string, string>>;
  rules: RouteRule[];
  [key: string]: unknown;
}

export interface Instance {
  service: string;
  id: string;
  address: string;
  port: number;
  labels: Record<string, string>;
  weight?: number;
}

export type Change =
  | { op: 'put'; document: StoredDocument }
  | { op: 'delete'; kind: string; name: string }
  | { op: string; [key: string]: unknown };

export interface LogEntry {
  revision: number;
  at: string;
  changes: Change[];
  author?: { tokenId: string; name: string };
}
