// First: refuses too old a Node.js before any other module of the package runs.
import '../runtime/node-check.ts';

export {
  MESH_PEER_AUTHENTICATION,
  MtlsMode,
  PeerAuthenticationSpec,
} from '../mtls/peer-authentication-schema.ts';
export type { RolloutSpecInput } from '../rollout/rollout-schema.ts';
export {
  ROLLOUT_DEFAULTS,
  ROLLOUT_LIMITS,
  RolloutAnalysis,
  RolloutSpec,
  RolloutStep,
} from '../rollout/rollout-schema.ts';
export type { IntervalMetrics, RolloutInterval, RolloutPhase } from '../rollout/rollout-status.ts';
export { MAX_STATUS_INTERVALS, ROLLOUT_PHASES, RolloutStatusSpec } from '../rollout/rollout-status.ts';
export type { RouteSpecInput } from '../route/route-schema.ts';
export { RouteSpec } from '../route/route-schema.ts';
export type { SplitBackend, SplitChange } from '../route/route-split.ts';
export { defaultRuleIndex, splitSpec } from '../route/route-split.ts';
export type { OtlpProtocol, TelemetryHeaderValue } from '../telemetry/telemetry-schema.ts';
export {
  HEADER_ENV_PREFIX,
  MESH_TELEMETRY,
  OTLP_PROTOCOLS,
  RESERVED_RESOURCE_ATTRIBUTES,
  redactTelemetry,
  TELEMETRY_DEFAULTS,
  TelemetryMetrics,
  TelemetrySpec,
  TelemetryTraces,
} from '../telemetry/telemetry-schema.ts';
export { MESH_SWITCH, TrafficSwitchSpec } from '../traffic/switch-schema.ts';
export type { BackoffOptions } from './backoff.ts';
export { BACKOFF_DEFAULTS, fullJitterBackoff } from './backoff.ts';
export {
  CACHE_FORMAT,
  readSnapshotCache,
  removeStaleCacheTemps,
  STALE_TEMP_MS,
  writeSnapshotCache,
} from './cache.ts';
export type { ConfigClient, ConfigClientOptions, ConfigClientStatus } from './client.ts';
export { CONFIG_CLIENT_DEFAULTS, createConfigClient } from './client.ts';
export type {
  ConfigDocument,
  DocumentKind,
  DocumentSpecs,
  StoredDocument,
  ValidationResult,
} from './document.ts';
export {
  checkName,
  DOCUMENT_KINDS,
  documentKey,
  isDocumentKind,
  NAME_PATTERN,
  validateDocument,
} from './document.ts';
export {
  hostIssue,
  MAX_NAME_LENGTH,
  normalizeHost,
  portIssue,
  serviceNameIssue,
  validateHost,
  validateServiceName,
} from './names.ts';
export {
  AdaptivePerTryPolicy,
  BalancerKind,
  BalancerPolicy,
  CircuitBreakerPolicy,
  DestinationPolicy,
  formatIssues,
  mergePolicies,
  OutlierPolicy,
  RetryBudgetPolicy,
  RetryPolicy,
} from './policy.ts';
export type { Change, Instance, LogEntry, Snapshot, TrustBundle, WriteAuthor } from './protocol.ts';
export {
  InstanceRegistration,
  LEASE_LIMITS,
  parseWatchEventId,
  spiffeId,
  WatchEvent,
  watchEventId,
} from './protocol.ts';
export type { SseMessage } from './sse.ts';
export { SseParser } from './sse.ts';
export { ConfigState } from './state.ts';
export type { WatchStreamOptions } from './watch-stream.ts';
export { readWatchStream } from './watch-stream.ts';
