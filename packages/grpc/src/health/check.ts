/**
 * An active health check over the standard gRPC health protocol (`grpc.health.v1.Health/Check`),
 * for `withHealthChecks` of `@weft/discovery` (it has the shape of its `HealthChecker`): healthy
 * when the endpoint answers SERVING for `service` (`''`, the default, is the server as a whole).
 * NOT_SERVING (a draining Weft server says so first), NOT_FOUND for the service, a refused or
 * broken connection, or no answer before the check's timeout: unhealthy, with the reason.
 *
 * Each check opens its own channel (its own subchannel pool) and closes it: a probe then proves
 * the endpoint accepts connections, as the HTTP checker's `connection: close` does, and never
 * shares or disturbs the connections of real traffic.
 */
import { isIPv6 } from 'node:net';
import {
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  credentials as grpcCredentials,
  type ServiceError,
  status as Status,
} from '@grpc/grpc-js';
import { type Endpoint, invalidOption } from '@weft/core';
import { healthClientConstructor } from './health.ts';

export interface GrpcHealthCheckOptions {
  /** The service whose status to ask; `''` is the server as a whole. Defaults to `''`. */
  readonly service?: string;
  /** Channel credentials (TLS, mTLS). Defaults to insecure (plaintext). */
  readonly credentials?: ChannelCredentials;
  /** Extra grpc-js channel options (for example `grpc.ssl_target_name_override`). Defaults to none. */
  readonly channelOptions?: ChannelOptions;
}

export const GRPC_HEALTH_DEFAULTS = { service: '' } as const;

/** The checker `withHealthChecks` takes (structurally its `HealthChecker`). */
export interface GrpcHealthChecker {
  readonly name: 'grpc';
  check(endpoint: Endpoint, signal: AbortSignal): Promise<void>;
}

interface HealthStub extends Client {
  check(
    request: { service: string },
    callback: (error: ServiceError | null, response?: { status: string }) => void,
  ): { cancel(): void };
}

/** Builds a `grpc.health.v1` {@link GrpcHealthChecker}. See {@link GrpcHealthCheckOptions}. */
export function grpcHealthCheck(options: GrpcHealthCheckOptions = {}): GrpcHealthChecker {
  const service = options.service ?? GRPC_HEALTH_DEFAULTS.service;
  if (typeof service !== 'string') throw invalidOption('service', `must be a string (got ${typeof service})`);
  const creds = options.credentials ?? grpcCredentials.createInsecure();
  const channelOptions: ChannelOptions = {
    ...options.channelOptions,
    'grpc.use_local_subchannel_pool': 1,
    'grpc.max_reconnect_backoff_ms': 1000,
  };
  const Health = healthClientConstructor();
  return {
    name: 'grpc',
    check(endpoint: Endpoint, signal: AbortSignal): Promise<void> {
      if (signal.aborted) return Promise.reject(new Error('health check aborted before it started'));
      const host = isIPv6(endpoint.address) ? `[${endpoint.address}]` : endpoint.address;
      const client = new Health(`${host}:${endpoint.port}`, creds, channelOptions) as unknown as HealthStub;
      return new Promise<void>((resolve, reject) => {
        const call = client.check({ service }, (error, response) => {
          signal.removeEventListener('abort', onAbort);
          client.close();
          if (error) reject(new Error(`grpc health ${Status[error.code] ?? error.code}: ${error.details}`));
          else if (response?.status === 'SERVING') resolve();
          else reject(new Error(`grpc health: ${service || 'server'} is ${response?.status ?? 'UNKNOWN'}`));
        });
        function onAbort() {
          call.cancel();
        }
        signal.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}
