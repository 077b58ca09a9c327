/**
 * Client options: the destination policy set in code (validated by the shared zod schema, so an
 * error names the field), where endpoints come from, which methods may be retried, and transport
 * settings.
 */
import type { Interceptor, status as Status } from '@grpc/grpc-js';
import {
  CLIENT_POLICY_KEYS,
  type ClientPolicyOptions,
  checkClientMtls,
  checkKnownKeys,
  defaultClientStack,
  invalidOption,
  type KeySet,
  type Stack,
} from '@weft/core';
import type { RetryPolicy } from '@weft/core/config';
import { DEFAULT_REPLAY_LIMIT_BYTES, type GrpcCall } from './call.ts';
import { DEFAULT_RETRYABLE_CODES } from './classifier.ts';
import type { GrpcExchange } from './exchange.ts';
import { streamTelemetryModule } from './telemetry.ts';
import type { TransportOptions } from './transport.ts';

export interface GrpcClientOptions extends Omit<ClientPolicyOptions, 'retry'>, TransportOptions {
  /** Retry settings, or `false` for none. Defaults to 3 attempts at most under a 20% + 10/s budget. */
  retry?: Omit<RetryPolicy, 'retryOnStatuses'> | false;
  /**
   * Methods safe to send more than once, by name (`GetUser`) or path (`/users.Users/GetUser`).
   * Methods whose proto sets `idempotency_level` to IDEMPOTENT or NO_SIDE_EFFECTS are included.
   * Defaults to none: only calls the server never processed are retried.
   */
  idempotentMethods?: readonly string[];
  /** Status codes retried on idempotent methods. Defaults to [UNAVAILABLE]. */
  retryableCodes?: readonly Status[];
  /**
   * Bytes of a client or bidi stream's request messages kept so the stream can be retried before
   * its first response message; a stream that writes more is not retried. Defaults to 262144
   * (256 KiB, gRPC's own per-call retry buffer).
   */
  retryBufferBytes?: number;
  /** Interceptors of your own, run before Weft's (Weft's is always last). Defaults to none. */
  interceptors?: readonly Interceptor[];
  /** Changes the stack: insert, replace, remove or configure modules by role. */
  stack?: (stack: Stack<GrpcCall, GrpcExchange>) => Stack<GrpcCall, GrpcExchange>;
}

const GRPC_CLIENT_KEYS = {
  ...CLIENT_POLICY_KEYS,
  credentials: true,
  channelOptions: true,
  retry: true,
  idempotentMethods: true,
  retryableCodes: true,
  retryBufferBytes: true,
  interceptors: true,
  stack: true,
} as const satisfies KeySet<GrpcClientOptions>;

/** Refuses keys a gRPC client does not know (`idempotent` for `idempotentMethods`, …). */
export function checkGrpcClientKeys(options: GrpcClientOptions): void {
  checkKnownKeys('createGrpcClient', options, GRPC_CLIENT_KEYS);
  // Checked here, before the channels' credentials are made of it (the destination checks it too).
  checkClientMtls(options.mtls);
  if (options.mtls !== undefined && options.credentials !== undefined)
    throw invalidOption(
      'credentials',
      'cannot be set with mtls, which makes the credentials of each channel',
    );
}

export const GRPC_CLIENT_DEFAULTS = {
  retryableCodes: DEFAULT_RETRYABLE_CODES,
  idempotentMethods: [] as readonly string[],
  retryBufferBytes: DEFAULT_REPLAY_LIMIT_BYTES,
} as const;

export function retryBufferFromOptions(options: GrpcClientOptions): number {
  const bytes = options.retryBufferBytes ?? GRPC_CLIENT_DEFAULTS.retryBufferBytes;
  if (!Number.isInteger(bytes) || bytes < 0 || bytes > 1 << 30)
    throw invalidOption('retryBufferBytes', 'must be an integer within 0–1073741824');
  return bytes;
}

/** The default client stack with a telemetry module whose span covers the whole call, streams included. */
export function grpcStack(): Stack<GrpcCall, GrpcExchange> {
  return defaultClientStack<GrpcCall, GrpcExchange>().replace('telemetry', streamTelemetryModule() as never);
}

export function retryableCodesFromOptions(options: GrpcClientOptions): readonly Status[] {
  const codes = options.retryableCodes ?? GRPC_CLIENT_DEFAULTS.retryableCodes;
  if (!Array.isArray(codes) || codes.some((c) => !Number.isInteger(c) || c < 1 || c > 16))
    throw invalidOption('retryableCodes', 'must be a list of gRPC status codes within 1–16');
  return codes;
}
