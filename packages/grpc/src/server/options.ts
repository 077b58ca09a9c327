/**
 * Options of the Weft gRPC server side, checked once when the runtime is made; a bad value names
 * the option and the allowed range.
 */
import {
  type AdmissionOptions,
  type Clock,
  type ConcurrencyOptions,
  concurrencyLimit,
  DRAIN_DEFAULTS,
  FIXED_LIMIT_DEFAULTS,
  invalidOption,
  systemClock,
  type TokenBucketOptions,
  tokenBucket,
} from '@weft/core';

export interface GrpcServerOptions {
  /**
   * The server's concurrency limit: a number (fixed), `{ kind: 'fixed', limit }`, an adaptive
   * `{ kind: 'gradient', … }`, or `false` for none. Defaults to a fixed limit of 1000.
   */
  concurrency?: ConcurrencyOptions | false;
  /** A token-bucket rate limit `{ ratePerSecond, burst }`, or `false`. Defaults to none. */
  rate?: TokenBucketOptions | false;
  /** Longest wait for in-flight calls when draining, in ms. Defaults to 30000. */
  drainTimeoutMs?: number;
  /** Signals that start a drain, or `false` for none. Defaults to `false` (opt in with `['SIGTERM']`). */
  drainSignals?: readonly NodeJS.Signals[] | false;
  /**
   * Method paths that bypass admission and drain (health checks must answer while draining).
   * Defaults to the `grpc.health.v1.Health` methods.
   */
  exemptPrefixes?: readonly string[];
  /** Injected time (tests). Defaults to the process clock. */
  clock?: Clock;
}

export interface ResolvedGrpcServerOptions {
  admission: AdmissionOptions;
  drainTimeoutMs: number;
  drainSignals: readonly NodeJS.Signals[];
  exemptPrefixes: readonly string[];
  clock: Clock;
}

export const GRPC_SERVER_DEFAULTS = {
  concurrency: { kind: 'fixed', limit: FIXED_LIMIT_DEFAULTS.limit },
  rate: false,
  drainTimeoutMs: DRAIN_DEFAULTS.timeoutMs,
  drainSignals: false,
  exemptPrefixes: ['/grpc.health.v1.Health/'],
} as const;

export function resolveGrpcServerOptions(options: GrpcServerOptions = {}): ResolvedGrpcServerOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'must be an object');
  const clock = options.clock ?? systemClock;
  const concurrency = options.concurrency ?? GRPC_SERVER_DEFAULTS.concurrency;
  const rate = options.rate ?? GRPC_SERVER_DEFAULTS.rate;
  concurrencyLimit(concurrency);
  if (rate !== false) tokenBucket(rate, systemClock);
  const drainTimeoutMs = options.drainTimeoutMs ?? GRPC_SERVER_DEFAULTS.drainTimeoutMs;
  if (!(Number.isFinite(drainTimeoutMs) && drainTimeoutMs >= 0 && drainTimeoutMs <= 86_400_000))
    throw invalidOption('drainTimeoutMs', 'must be within 0–86400000');
  const signals = options.drainSignals ?? GRPC_SERVER_DEFAULTS.drainSignals;
  if (signals !== false && (!Array.isArray(signals) || signals.some((s) => !/^SIG[A-Z0-9]+$/.test(s))))
    throw invalidOption('drainSignals', 'must be false or a list of signal names such as SIGTERM');
  const exempt = options.exemptPrefixes ?? GRPC_SERVER_DEFAULTS.exemptPrefixes;
  if (!Array.isArray(exempt) || exempt.some((p) => typeof p !== 'string' || !p.startsWith('/')))
    throw invalidOption('exemptPrefixes', 'must be a list of method path prefixes starting with /');
  return {
    admission: { concurrency, rate, clock },
    drainTimeoutMs,
    drainSignals: signals === false ? [] : signals,
    exemptPrefixes: exempt,
    clock,
  };
}
