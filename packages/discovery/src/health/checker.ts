/**
 * The strategy an active health check runs against one endpoint. HTTP is here
 * ({@link httpHealthCheck}); a gRPC checker (grpc.health.v1) belongs with the gRPC package and only
 * has to implement this interface.
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
