// First: refuses too old a Node.js before any other module of the package runs.
import './runtime/node-check.ts';

export type {
  Admission,
  AdmissionOptions,
  AdmissionSnapshot,
  ConcurrencyOptions,
  RejectReason,
} from './admission/admission.ts';
export { ADMISSION_DEFAULTS, admission, concurrencyLimit } from './admission/admission.ts';
export type { ConcurrencyLimit, FixedLimitOptions, GradientLimitOptions, Sample } from './admission/limit.ts';
export {
  FIXED_LIMIT_DEFAULTS,
  fixedLimit,
  GRADIENT_LIMIT_DEFAULTS,
  gradientLimit,
} from './admission/limit.ts';
export type { TokenBucket, TokenBucketOptions } from './admission/token-bucket.ts';
export { tokenBucket } from './admission/token-bucket.ts';
export type { AttemptParams } from './attempt/attempt-filter.ts';
export { ATTEMPT_DEFAULTS, attemptModule } from './attempt/attempt-filter.ts';
export { AttemptExchange, discardExchange, onExchangeDone } from './attempt/exchange.ts';
export type { AdaptivePerTryParams } from './attempt/watchdog.ts';
export { ADAPTIVE_PER_TRY_DEFAULTS, AttemptWatchdog, attemptTimeout } from './attempt/watchdog.ts';
export type { AuthzCall, AuthzReason } from './authz/authz-engine.ts';
export { AuthzDenial, CompiledAuthorization, selectPolicies } from './authz/authz-engine.ts';
export {
  AuthorizationCondition,
  AuthorizationOperation,
  AuthorizationPolicySpec,
  AuthorizationRule,
  AuthorizationSource,
  SPIFFE_SERVICE_ID,
} from './authz/authz-schema.ts';
export type { CertificateNames, PeerIdentity, TlsSocketLike } from './authz/peer.ts';
export { parseSpiffeId, peerFromCertificate, peerOfSocket } from './authz/peer.ts';
export type { BalanceParams } from './balancer/balance-filter.ts';
export { BALANCE_DEFAULTS, balanceModule } from './balancer/balance-filter.ts';
export type { EndpointParams } from './balancer/endpoint-filter.ts';
export { DEADLINE_BLAME_FACTOR, endpointModule } from './balancer/endpoint-filter.ts';
export type { Selector } from './balancer/endpoint-pool.ts';
export { EndpointPool } from './balancer/endpoint-pool.ts';
export type { EndpointSetOptions } from './balancer/endpoint-set.ts';
export { EndpointSet, MAX_SUBSETS, PROBE_PREFERENCE_MS } from './balancer/endpoint-set.ts';
export type { Health } from './balancer/endpoint-state.ts';
export { EndpointState, NO_HISTORY_PENALTY, REFUSED_PENALTY } from './balancer/endpoint-state.ts';
export { HASH_RANGE, hash32 } from './balancer/hash.ts';
export type { Balancer, P2cEwmaOptions } from './balancer/strategies.ts';
export {
  balancerFor,
  p2cEwma,
  p2cLeastLoaded,
  RING_MAX_POINTS,
  RING_POINTS_PER_ENDPOINT,
  ringHash,
  roundRobin,
  TIE_ABSOLUTE_MS,
  TIE_RELATIVE,
  weighted,
} from './balancer/strategies.ts';
export type { BreakerParams } from './breaker/breaker-filter.ts';
export { BREAKER_DEFAULTS, breakerModule } from './breaker/breaker-filter.ts';
export type { CircuitOutcome, CircuitParams, CircuitState } from './breaker/circuit.ts';
export { Circuit, checkCircuitParams } from './breaker/circuit.ts';
export { hostIssue, serviceNameIssue, validateHost, validateServiceName } from './config/names.ts';
export type { WeftContext } from './context/context.ts';
export { createContext, currentContext, runWithContext } from './context/context.ts';
export { contextModule } from './context/context-filter.ts';
export {
  Header,
  isValidTraceparent,
  MAX_WIRE_DEADLINE_MS,
  parseDeadlineHeader,
  parseTraceparent,
} from './context/wire.ts';
export type { DeadlineParams } from './deadline/deadline-filter.ts';
export { DEADLINE_DEFAULTS, deadlineExceeded, deadlineModule } from './deadline/deadline-filter.ts';
export type { ClientPolicyOptions } from './destination/client-options.ts';
export {
  CLIENT_POLICY_KEYS,
  checkServiceName,
  localZoneFromOptions,
  policyFromOptions,
  resolverFromOptions,
  staticEndpoints,
} from './destination/client-options.ts';
export type { DestinationExtras } from './destination/create.ts';
export { createDestination } from './destination/create.ts';
export type {
  DestinationDescription,
  DestinationOptions,
  PolicySource,
  RouteDescription,
} from './destination/destination.ts';
export { Destination, describeDestinations } from './destination/destination.ts';
export { addressProblem, isUsableEndpoint, portProblem } from './endpoint/address.ts';
export type { Endpoint, Resolver, ResolverListener, ResolverState } from './endpoint/endpoint.ts';
export { endpointKey, parseEndpoint, StaticResolver, usableEndpoints } from './endpoint/endpoint.ts';
export type { ErrorCode as ErrorCodeValue, WeftErrorOptions } from './errors/errors.ts';
export { abortError, ErrorCode, invalidOption, isWeftError, WeftError } from './errors/errors.ts';
export type { FailureKind, OutlierHost, OutlierOptions } from './health/outlier.ts';
export { OUTLIER_DEFAULTS, OutlierDetector, resolveOutlierOptions } from './health/outlier.ts';
export type { DurationInstrument, FaultAbort, ProtocolBinding, ProtocolSemconv } from './protocol/binding.ts';
export { nativeDeadline, writeDeadlineHeader } from './protocol/binding.ts';
export type { RetryBudget, RetryBudgetOptions } from './retry/budget.ts';
export { RETRY_BUDGET_DEFAULTS, retryBudget } from './retry/budget.ts';
export { classifyError, isCallerCancellation } from './retry/classifier.ts';
export type { Pushback } from './retry/pushback.ts';
export { applyPushback, MAX_PUSHBACK_MS, parseGrpcPushback, parseRetryAfter } from './retry/pushback.ts';
export type { RetryBudgetParams, RetryParams } from './retry/retry-filter.ts';
export { RETRY_DEFAULTS, retryModule } from './retry/retry-filter.ts';
export { faultModule, MAX_HEADER_DELAY_MS } from './route/fault-module.ts';
export { MIRROR_DEFAULT_MAX_INFLIGHT, MirrorGate } from './route/mirror.ts';
export { editCallHeaders, editRecordHeaders, routeModule, ruleOverrides } from './route/route-module.ts';
export type {
  FaultSpec,
  HeaderEdits,
  HeaderMatch,
  PathMatch,
  RouteBackend,
  RouteMatch,
  RouteRule,
  RouteSpecInput,
} from './route/route-schema.ts';
export { MAX_REGEX_LENGTH, RouteSpec } from './route/route-schema.ts';
export type {
  CompiledEdits,
  CompiledRule,
  HeaderReader,
  MethodKind,
  RouteTable,
} from './route/route-table.ts';
export {
  compileRoute,
  isRouteOverride,
  MAX_ROUTE_OVERRIDE_LENGTH,
  overrideFor,
  queryParam,
  readCallHeader,
} from './route/route-table.ts';
export type { OutcomeAttributes, RoutedBackend, RoutedRule } from './route/routed.ts';
export { chooseBackend } from './route/routed.ts';
export { assertNodeVersion, nodeVersionSatisfies } from './runtime/node-version.ts';
export type {
  ServerBinding,
  ServerModule,
  ServerService,
  ServerStack,
  ServerStackEnv,
} from './server/binding.ts';
export type { RouteLimit, ServerFinisher, ServerOutcome } from './server/call.ts';
export { latencySample, ServerCall } from './server/call.ts';
export type { DrainOptions, DrainResult, DrainState, ServingState } from './server/drain.ts';
export { DRAIN_DEFAULTS, drainState } from './server/drain.ts';
export type { Inbound, InboundField, InboundValues, ServerContextFields } from './server/inbound.ts';
export {
  MAX_BAGGAGE_LENGTH,
  MAX_TRACESTATE_LENGTH,
  readInbound,
  ServerContext,
} from './server/inbound.ts';
export type { ServerInstrumentNames, ServerInstruments } from './server/instruments.ts';
export { createServerInstruments } from './server/instruments.ts';
export { RouteAdmission, serverAdmissionModule } from './server/modules/admission-module.ts';
export type {
  AuthorizationPolicySource,
  ServerAuthorizationSettings,
} from './server/modules/authorization-module.ts';
export { serverAuthorizationModule } from './server/modules/authorization-module.ts';
export { serverContextModule } from './server/modules/context-module.ts';
export { serverDeadlineModule } from './server/modules/deadline-module.ts';
export { serverDrainModule } from './server/modules/drain-module.ts';
export { serverSwitchModule } from './server/modules/switch-module.ts';
export { serverTelemetryModule } from './server/modules/telemetry-module.ts';
export type { ResolvedServerBase, ServerBaseOptions, ServerConfigSource } from './server/options.ts';
export {
  checkAdmission,
  resolveServerBase,
  SERVER_BASE_DEFAULTS,
  SERVER_BASE_KEYS,
} from './server/options.ts';
export type { BuiltInRejection, ServerRejectionOptions } from './server/rejection.ts';
export {
  internalRejection,
  rejectionReason,
  retryAfterSeconds,
  SERVER_REJECTIONS,
  ServerRejection,
} from './server/rejection.ts';
export type { ServerRuntimeBaseOptions, ShedReason } from './server/runtime-base.ts';
export { ServerRuntimeBase } from './server/runtime-base.ts';
export {
  checkServerStack,
  defaultServerStack,
  editServerStack,
  HANDLER_NEEDS,
} from './server/server-stack.ts';
export { onShutdownSignal } from './server/signals.ts';
export type { ServerSpan } from './server/telemetry.ts';
export { endServerSpan, runInServerContext, startServerSpan } from './server/telemetry.ts';
export type { AttemptHandle } from './stack/call.ts';
export { Call, isIdempotentMethod } from './stack/call.ts';
export { CLIENT_TRANSPORT_NEEDS, defaultClientStack } from './stack/client-stack.ts';
export type { Classifier, Outcome, StackEnv } from './stack/env.ts';
export { outcomeOf, SharedState } from './stack/env.ts';
export type { ParamSpec, ParamSpecs } from './stack/params.ts';
export {
  checkOverride,
  checkParams,
  defaultsOf,
  param,
  paramGroup,
  policyField,
  policyFields,
  readPolicy,
} from './stack/params.ts';
export { SignalFollower } from './stack/signal-follower.ts';
export type {
  AnyModule,
  CallField,
  Module,
  ParamsByRole,
  ParamsOverride,
  Service,
  StackDescription,
  StackOptions,
} from './stack/stack.ts';
export { checkContracts, Stack, StackContractError } from './stack/stack.ts';
export type { SparseHistogram } from './summary/histogram.ts';
export {
  BUCKETS as SUMMARY_BUCKETS,
  bucketOf,
  bucketValue,
  HISTOGRAM_SCHEMA,
  quantile,
  toSparse,
} from './summary/histogram.ts';
export { DestinationSummary, SummaryRow } from './summary/recorder.ts';
export { MAX_REPORT_ROWS, TrafficReport, TrafficReportRow, UNKNOWN_SERVICE } from './summary/report.ts';
export type { TrafficSummaryHost, TrafficSummaryOptions, TrafficSummaryStats } from './summary/summary.ts';
export { resolveTrafficSummaryOptions, TRAFFIC_SUMMARY_DEFAULTS, TrafficSummary } from './summary/summary.ts';
export { diagnostics } from './telemetry/diagnostics.ts';
export type { Instruments } from './telemetry/instruments.ts';
export { createInstruments, DURATION_BUCKETS, tracingEnabled } from './telemetry/instruments.ts';
export { formatTraceparent, headerSetter } from './telemetry/propagation.ts';
export { telemetryModule } from './telemetry/telemetry-filter.ts';
export type { Clock, Random, TimerHandle } from './time/clock.ts';
export { sleep, systemClock } from './time/clock.ts';
export { stopModule } from './traffic/stop-module.ts';
export { MAX_REASON_LENGTH, MESH_SWITCH, TrafficSwitchSpec } from './traffic/switch-schema.ts';
export type {
  StopErrorFactory,
  StopScope,
  TrafficGateDescription,
  TrafficSwitchSource,
} from './traffic/traffic-gate.ts';
export { stopMessage, TrafficGate } from './traffic/traffic-gate.ts';
export type { KeySet } from './util/known-keys.ts';
export { checkKnownKeys, closestKey } from './util/known-keys.ts';
