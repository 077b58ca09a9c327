/** The shapes the dashboard reads: the traffic API's contract and the config service's documents. */

export type {
  Edge,
  EndpointTraffic,
  Metrics,
  ServiceTraffic,
  TrafficGraph,
} from '../../src/traffic/contract.ts';

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
