/**
 * The strategy an active health check runs against one endpoint. HTTP is here
 * ({@link httpHealthCheck}); the gRPC one (`grpc.health.v1`) is `grpcHealthCheck` of `@weft/grpc`,
 * which has this shape without depending on this package.
 */
import type { Endpoint } from '@weft/core';

export interface HealthChecker {
  /** A short name for metrics and messages (`http`, `grpc`). */
  readonly name: string;
  /**
   * Resolves when `endpoint` is healthy; rejects with the reason when it is not. `signal` aborts at
   * the check's timeout: stop work and release the connection then.
   */
  check(endpoint: Endpoint, signal: AbortSignal): Promise<void>;
}
