// First: refuses too old a Node.js before any other module of the package runs.
import './node-check.ts';

export type { AppOptions } from './server/app.ts';
export { APP_DEFAULTS, buildApp } from './server/app.ts';
export type { ControlPlaneOptions, RunningControlPlane } from './server/run.ts';
export { CONTROL_PLANE_DEFAULTS, startControlPlane } from './server/run.ts';
export type { EtcdStoreOptions } from './store/etcd.ts';
export { ETCD_DEFAULTS, etcdStore } from './store/etcd.ts';
export type { SqliteStoreOptions } from './store/sqlite.ts';
export { SQLITE_DEFAULTS, sqliteStore } from './store/sqlite.ts';
export type {
  CommitResult,
  Expectation,
  PendingChange,
  Store,
  StoredInstance,
  TokenRecord,
} from './store/store.ts';
export { embeddedSource } from './traffic/embedded.ts';
export type { TrafficSource } from './traffic/routes.ts';
export { REPORT_BODY_LIMIT, trafficRoutes, WINDOW_S } from './traffic/routes.ts';
export type { Edge, Metrics, ServiceTraffic, TrafficGraph } from './traffic/views.ts';
export { serviceTraffic, trafficGraph } from './traffic/views.ts';
export type { Cell, Series, TrafficWindowOptions, WindowStats } from './traffic/window.ts';
export { TRAFFIC_WINDOW_DEFAULTS, TrafficWindow, WINDOW_MS } from './traffic/window.ts';
