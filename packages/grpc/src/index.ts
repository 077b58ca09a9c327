// First: refuses too old a Node.js before any other module of the package runs.
import './node-check.ts';

export type {
  DestinationDescription as GrpcDestinationDescription,
  PolicySource,
  ShedReason,
} from '@weft/core';
export { GRPC_SEMCONV, grpcBinding } from './client/binding.ts';
export type { GrpcCallKind } from './client/call.ts';
export { GrpcCall } from './client/call.ts';
export { WeftChannel } from './client/channel.ts';
export { DEFAULT_RETRYABLE_CODES, grpcClassifier } from './client/classifier.ts';
export type { GrpcClientConstructor, WeftClientSetup } from './client/client.ts';
export { createGrpcClient, describeGrpcClient, weftClientOptions } from './client/client.ts';
export type { GrpcDestination } from './client/destination.ts';
export { GrpcExchange } from './client/exchange.ts';
export type { GrpcClientOptions } from './client/options.ts';
export { GRPC_CLIENT_DEFAULTS } from './client/options.ts';
export { statusFromError, WEFT_ERROR_KEY } from './client/status.ts';
export { streamTelemetryModule } from './client/telemetry.ts';
export type { EndpointChannel, TransportOptions } from './client/transport.ts';
export type { GrpcHealthChecker, GrpcHealthCheckOptions } from './health/check.ts';
export { GRPC_HEALTH_DEFAULTS, grpcHealthCheck } from './health/check.ts';
export type { HealthService, ServingStatus } from './health/health.ts';
export { healthClientConstructor, healthService, healthServiceDefinition } from './health/health.ts';
export { loadProto, PROTO_LOADER_OPTIONS, protoDir } from './proto.ts';
export type { WeftResolverRegistry } from './resolver/registry.ts';
export { registerWeftResolver, serviceFromTarget, WEFT_SCHEME } from './resolver/registry.ts';
export { grpcServerBinding, rejectionStatus } from './server/binding.ts';
export { GrpcServerCall } from './server/call.ts';
export type { GrpcServerOptions } from './server/options.ts';
export { GRPC_SERVER_DEFAULTS } from './server/options.ts';
export { GrpcServerRuntime, grpcServerRuntime } from './server/runtime.ts';
export type { CreateGrpcServerOptions, WeftGrpcServer } from './server/server.ts';
export { createGrpcServer } from './server/server.ts';
