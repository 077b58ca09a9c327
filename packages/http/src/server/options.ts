/**
 * Options of the Weft server middleware, the same for Express and Fastify. Checked once, when the
 * middleware or plugin is made; a bad value names the option and the allowed range.
 */
import {
  type AdmissionOptions,
  type ConcurrencyOptions,
  checkAdmission,
  checkKnownKeys,
  invalidOption,
  type KeySet,
  type ResolvedServerBase,
  resolveServerBase,
  SERVER_BASE_DEFAULTS,
  SERVER_BASE_KEYS,
  type ServerBaseOptions,
  type TokenBucketOptions,
} from '@weft/core';
import { checkServerRegistration, type ServerRegistrationOptions } from '@weft/discovery';

/** Admission limits of one route (see `route()` in Express, `config.weft` in Fastify). */
export interface RouteAdmissionOptions {
  /** Concurrency limit of the route, or `false`. Defaults to none. */
  concurrency?: ConcurrencyOptions | false;
  /** Token-bucket rate limit of the route, or `false`. Defaults to none. */
  rate?: TokenBucketOptions | false;
}

export interface ServerOptions extends ServerBaseOptions {
  /** Liveness path (always 200 while the process serves HTTP), or `false`. Defaults to `/healthz`. */
  livenessPath?: string | false;
  /** Readiness path (200 while serving, 503 once draining), or `false`. Defaults to `/readyz`. */
  readinessPath?: string | false;
  /**
   * Path of the admin endpoint (JSON: server state, admission and server stack, every live Weft
   * client's effective policy, stack and endpoints), or `false`. Defaults to `false`: it exposes internals, so turn it on
   * only where the port is not public.
   */
  adminPath?: string | false;
  /**
   * Signals that start a drain, or `false` for none. Defaults to `['SIGTERM', 'SIGINT']`: an
   * orchestrator's stop and a terminal's Ctrl-C both drain and withdraw a registration; a second
   * signal ends the process at once, as it would have without Weft.
   */
  drainSignals?: readonly NodeJS.Signals[] | false;
  /**
   * Registers the server in the config service's registry once it listens (port and address found
   * from the listener; see `ServerRegistrationOptions` in @weft/discovery), and deregisters it as
   * soon as a drain starts, before the listener closes. Defaults to none.
   */
  register?: ServerRegistrationOptions;
}

export interface ResolvedServerOptions extends ResolvedServerBase {
  register: ServerRegistrationOptions | undefined;
  livenessPath: string | false;
  readinessPath: string | false;
  adminPath: string | false;
}

export const SERVER_DEFAULTS = {
  ...SERVER_BASE_DEFAULTS,
  livenessPath: '/healthz',
  readinessPath: '/readyz',
  adminPath: false,
  drainSignals: ['SIGTERM', 'SIGINT'],
} as const;

const SERVER_KEYS = {
  ...SERVER_BASE_KEYS,
  livenessPath: true,
  readinessPath: true,
  adminPath: true,
  register: true,
} as const satisfies KeySet<ServerOptions>;

export function resolveServerOptions(options: ServerOptions = {}): ResolvedServerOptions {
  checkKnownKeys('weft()', options, SERVER_KEYS);
  // The registration names the service, unless `service` does (the kill switch's per-service scope).
  const service = options.service ?? options.register?.service;
  const base = resolveServerBase(
    service === undefined ? options : { ...options, service },
    SERVER_DEFAULTS.drainSignals,
  );
  if (options.register !== undefined) checkServerRegistration(options.register);
  return {
    ...base,
    register: options.register,
    livenessPath: path('livenessPath', options.livenessPath, SERVER_DEFAULTS.livenessPath),
    readinessPath: path('readinessPath', options.readinessPath, SERVER_DEFAULTS.readinessPath),
    adminPath: path('adminPath', options.adminPath, SERVER_DEFAULTS.adminPath),
  };
}

/** Validates route-level limits (throws like the server options do). */
export function checkRouteAdmission(options: RouteAdmissionOptions): AdmissionOptions {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('route', 'must be an object { concurrency?, rate? }');
  checkKnownKeys('route', options, { concurrency: true, rate: true });
  const concurrency = options.concurrency ?? false;
  const rate = options.rate ?? false;
  checkAdmission(concurrency, rate);
  return { concurrency, rate };
}

function path(name: string, value: string | false | undefined, fallback: string | false): string | false {
  if (value === undefined) return fallback;
  if (value === false) return false;
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9._~\-/]*$/.test(value))
    throw invalidOption(name, `${JSON.stringify(value)} must be false or a path such as /healthz`);
  return value;
}
