/**
 * Options of the Weft server middleware, the same for Express and Fastify. Checked once, when the
 * middleware or plugin is made; a bad value names the option and the allowed range.
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

/** Admission limits of one route (see `route()` in Express, `config.weft` in Fastify). */
export interface RouteAdmissionOptions {
  /** Concurrency limit of the route, or `false`. Defaults to none. */
  concurrency?: ConcurrencyOptions | false;
  /** Token-bucket rate limit of the route, or `false`. Defaults to none. */
  rate?: TokenBucketOptions | false;
}

export interface ServerOptions {
  /**
   * The server's concurrency limit: a number (fixed), `{ kind: 'fixed', limit }`, an adaptive
   * `{ kind: 'gradient', … }`, or `false` for none. Defaults to a fixed limit of 1000.
   */
  concurrency?: ConcurrencyOptions | false;
  /** A token-bucket rate limit for the whole server `{ ratePerSecond, burst }`, or `false`. Defaults to none. */
  rate?: TokenBucketOptions | false;
  /** Liveness path (always 200 while the process serves HTTP), or `false`. Defaults to `/healthz`. */
  livenessPath?: string | false;
  /** Readiness path (200 while serving, 503 once draining), or `false`. Defaults to `/readyz`. */
  readinessPath?: string | false;
  /**
   * Path of the admin endpoint (JSON: server state and admission, every live Weft client's effective
   * policy, stack and endpoints), or `false`. Defaults to `false`: it exposes internals, so turn it on
   * only where the port is not public.
   */
  adminPath?: string | false;
  /** Longest wait for in-flight requests when draining, in ms. Defaults to 30000. */
  drainTimeoutMs?: number;
  /**
   * Least time to keep answering once draining (readiness 503, requests refused with
   * `weft-rejected`) before the listener closes, so discovery and load balancers drop the instance
   * while it still answers. Defaults to 0; under Kubernetes use a few seconds (as a preStop delay).
   */
  drainDelayMs?: number;
  /** Signals that start a drain, or `false` for none. Defaults to `['SIGTERM']`. */
  drainSignals?: readonly NodeJS.Signals[] | false;
  /** Injected time (tests). Defaults to the process clock. */
  clock?: Clock;
}

export interface ResolvedServerOptions {
  admission: AdmissionOptions;
  livenessPath: string | false;
  readinessPath: string | false;
  adminPath: string | false;
  drainTimeoutMs: number;
  drainDelayMs: number;
  drainSignals: readonly NodeJS.Signals[];
  clock: Clock;
}

export const SERVER_DEFAULTS = {
  concurrency: { kind: 'fixed', limit: FIXED_LIMIT_DEFAULTS.limit },
  rate: false,
  livenessPath: '/healthz',
  readinessPath: '/readyz',
  adminPath: false,
  drainTimeoutMs: DRAIN_DEFAULTS.timeoutMs,
  drainDelayMs: DRAIN_DEFAULTS.delayMs,
  drainSignals: ['SIGTERM'],
} as const;

export function resolveServerOptions(options: ServerOptions = {}): ResolvedServerOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'must be an object');
  const clock = options.clock ?? systemClock;
  const concurrency = options.concurrency ?? SERVER_DEFAULTS.concurrency;
  const rate = options.rate ?? SERVER_DEFAULTS.rate;
  checkAdmission(concurrency, rate);
  const livenessPath = path('livenessPath', options.livenessPath, SERVER_DEFAULTS.livenessPath);
  const readinessPath = path('readinessPath', options.readinessPath, SERVER_DEFAULTS.readinessPath);
  const adminPath = path('adminPath', options.adminPath, SERVER_DEFAULTS.adminPath);
  const drainTimeoutMs = options.drainTimeoutMs ?? SERVER_DEFAULTS.drainTimeoutMs;
  if (!(Number.isFinite(drainTimeoutMs) && drainTimeoutMs >= 0 && drainTimeoutMs <= 86_400_000))
    throw invalidOption('drainTimeoutMs', 'must be within 0–86400000');
  const drainDelayMs = options.drainDelayMs ?? SERVER_DEFAULTS.drainDelayMs;
  if (!(Number.isFinite(drainDelayMs) && drainDelayMs >= 0 && drainDelayMs <= drainTimeoutMs))
    throw invalidOption('drainDelayMs', 'must be within 0 and drainTimeoutMs');
  const signals = options.drainSignals ?? SERVER_DEFAULTS.drainSignals;
  if (signals !== false && (!Array.isArray(signals) || signals.some((s) => !/^SIG[A-Z0-9]+$/.test(s))))
    throw invalidOption('drainSignals', 'must be false or a list of signal names such as SIGTERM');
  return {
    admission: { concurrency, rate, clock },
    livenessPath,
    readinessPath,
    adminPath,
    drainTimeoutMs,
    drainDelayMs,
    drainSignals: signals === false ? [] : signals,
    clock,
  };
}

/** Validates route-level limits (throws like the server options do). */
export function checkRouteAdmission(options: RouteAdmissionOptions): AdmissionOptions {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('route', 'must be an object { concurrency?, rate? }');
  const concurrency = options.concurrency ?? false;
  const rate = options.rate ?? false;
  checkAdmission(concurrency, rate);
  return { concurrency, rate };
}

function checkAdmission(concurrency: ConcurrencyOptions | false, rate: TokenBucketOptions | false): void {
  concurrencyLimit(concurrency);
  if (rate !== false) tokenBucket(rate, systemClock);
}

function path(name: string, value: string | false | undefined, fallback: string | false): string | false {
  if (value === undefined) return fallback;
  if (value === false) return false;
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9._~\-/]*$/.test(value))
    throw invalidOption(name, `${JSON.stringify(value)} must be false or a path such as /healthz`);
  return value;
}
