/**
 * The server options every protocol binding shares (admission, drain, signals, time), checked once
 * when the binding is made; a bad value names the option and the allowed range. The HTTP
 * middleware and the gRPC server extend them with their own.
 */
import { type AdmissionOptions, type ConcurrencyOptions, concurrencyLimit } from '../admission/admission.ts';
import { FIXED_LIMIT_DEFAULTS } from '../admission/limit.ts';
import { type TokenBucketOptions, tokenBucket } from '../admission/token-bucket.ts';
import { validateServiceName } from '../config/names.ts';
import { invalidOption } from '../errors/errors.ts';
import type { PeerAuthenticationSource } from '../mtls/peer-authentication-schema.ts';
import { checkServerMtls, type ServerMtlsOptions } from '../mtls/server-mtls.ts';
import { type Clock, systemClock } from '../time/clock.ts';
import type { TrafficSwitchSource } from '../traffic/traffic-gate.ts';
import type { KeySet } from '../util/known-keys.ts';
import type { ServerStack } from './binding.ts';
import { DRAIN_DEFAULTS } from './drain.ts';
import type {
  AuthorizationPolicySource,
  ServerAuthorizationSettings,
} from './modules/authorization-module.ts';
import { defaultServerStack, editServerStack } from './server-stack.ts';

export interface ServerBaseOptions {
  /**
   * The server's concurrency limit: a number (fixed), `{ kind: 'fixed', limit }`, an adaptive
   * `{ kind: 'gradient', … }`, or `false` for none. Defaults to a fixed limit of 1000.
   */
  concurrency?: ConcurrencyOptions | false;
  /** A token-bucket rate limit for the whole server `{ ratePerSecond, burst }`, or `false`. Defaults to none. */
  rate?: TokenBucketOptions | false;
  /** Longest wait for calls in flight when draining, in ms. Defaults to 30000. */
  drainTimeoutMs?: number;
  /**
   * Least time to keep answering once draining (readiness false, calls refused with a retryable
   * rejection) before the listener closes, so discovery and load balancers drop the instance while
   * it still answers. Defaults to 0; under Kubernetes use a few seconds (as a preStop delay).
   */
  drainDelayMs?: number;
  /** Signals that start a drain, or `false` for none. The default is the binding's. */
  drainSignals?: readonly NodeJS.Signals[] | false;
  /**
   * Edits the server stack by role, the same for HTTP and gRPC: given the default stack, returns the
   * one to run, e.g. `(s) => s.insertAfter('admission', mine)`; a stack without `context`, or with a
   * module above what it `needs`, is refused. See docs/server.md. Defaults to the default stack.
   */
  stack?: (stack: ServerStack) => ServerStack;
  /**
   * The config service (a `ConfigClient`), which the server follows live: the kill switch
   * (`TrafficSwitch`: the mesh-wide one and its own service's) and the `AuthorizationPolicy`
   * documents that protect it. Defaults to none: the server never stops and no policy applies.
   */
  config?: ServerConfigSource;
  /**
   * The service this server is in the mesh: whose own `TrafficSwitch` stops it, and the
   * `spec.service` of the `AuthorizationPolicy` documents that protect it. Defaults to the
   * registration's `service` (the `register` option), else none (only the mesh-wide switch
   * applies, and no policy).
   */
  service?: string;
  /**
   * Whether a request may carry the travelling `weft-route` override (`catalog=v2`, see
   * docs/traffic.md) into this server's context, and so to every call its handler makes. Set it to
   * false on a server that callers outside the mesh reach (the edge): their overrides are then
   * dropped there, and only what the mesh sets travels. Defaults to true.
   */
  routeOverrides?: boolean;
  /**
   * Serve mTLS with this process's identity, beside plaintext (`PERMISSIVE`) or instead of it
   * (`STRICT`), on the same port: `{ identity, mode }`. Client certificates are required on TLS and
   * verified against the mesh's trust bundle; the caller's SPIFFE ID is then `currentContext().peer`.
   * The mode is the config service's `PeerAuthentication` (the service's, else `mesh`), never looser
   * than `mode`. A registered server advertises it (label `weft/mtls`), so clients use mTLS with it.
   * See docs/security.md. Defaults to none: plaintext only.
   */
  mtls?: ServerMtlsOptions;
  /** Injected time (tests). Defaults to the process clock. */
  clock?: Clock;
  /**
   * The trust domain of the mesh: `from.services` in a policy names callers of this domain only
   * (`spiffe://<trustDomain>/service/<name>`). Defaults to `weft.local`.
   */
  trustDomain?: string;
}

/**
 * What a server reads of the config service (a `ConfigClient` has it all): the kill switch, the
 * authorization policies, the revision they are at, and word of each change.
 */
export interface ServerConfigSource
  extends TrafficSwitchSource,
    AuthorizationPolicySource,
    PeerAuthenticationSource {
  trafficSwitch(name: string): ReturnType<NonNullable<TrafficSwitchSource['trafficSwitch']>>;
  subscribe(listener: (event: { revision: number }) => void): () => void;
}

/** The keys of {@link ServerBaseOptions}, for each binding's unknown-key check. */
export const SERVER_BASE_KEYS = {
  concurrency: true,
  rate: true,
  drainTimeoutMs: true,
  drainDelayMs: true,
  drainSignals: true,
  stack: true,
  config: true,
  service: true,
  clock: true,
  trustDomain: true,
  routeOverrides: true,
  mtls: true,
} as const satisfies KeySet<ServerBaseOptions>;

export interface ResolvedServerBase {
  admission: AdmissionOptions;
  drainTimeoutMs: number;
  drainDelayMs: number;
  drainSignals: readonly NodeJS.Signals[];
  /** The server stack to run, checked. */
  stack: ServerStack;
  config: ServerConfigSource | undefined;
  service: string | undefined;
  clock: Clock;
  /** What the `authorization` module decides with (undefined: no policy applies). */
  authorization: ServerAuthorizationSettings | undefined;
  /** Whether inbound `weft-route` overrides are kept. */
  routeOverrides: boolean;
  /** The `mtls` option with its defaults, or undefined for plaintext only. */
  mtls: Required<ServerMtlsOptions> | undefined;
}

export const SERVER_BASE_DEFAULTS = {
  concurrency: { kind: 'fixed', limit: FIXED_LIMIT_DEFAULTS.limit },
  rate: false,
  drainTimeoutMs: DRAIN_DEFAULTS.timeoutMs,
  drainDelayMs: DRAIN_DEFAULTS.delayMs,
  trustDomain: 'weft.local',
} as const;

/** Checks and fills in the shared options; `drainSignals` defaults to the binding's own choice. */
export function resolveServerBase(
  options: ServerBaseOptions,
  defaultSignals: readonly NodeJS.Signals[] | false,
): ResolvedServerBase {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'must be an object');
  const clock = options.clock ?? systemClock;
  const concurrency = options.concurrency ?? SERVER_BASE_DEFAULTS.concurrency;
  const rate = options.rate ?? SERVER_BASE_DEFAULTS.rate;
  checkAdmission(concurrency, rate);
  const drainTimeoutMs = options.drainTimeoutMs ?? SERVER_BASE_DEFAULTS.drainTimeoutMs;
  if (!(Number.isFinite(drainTimeoutMs) && drainTimeoutMs >= 0 && drainTimeoutMs <= 86_400_000))
    throw invalidOption('drainTimeoutMs', 'must be within 0–86400000');
  const drainDelayMs = options.drainDelayMs ?? SERVER_BASE_DEFAULTS.drainDelayMs;
  if (!(Number.isFinite(drainDelayMs) && drainDelayMs >= 0 && drainDelayMs <= drainTimeoutMs))
    throw invalidOption('drainDelayMs', 'must be within 0 and drainTimeoutMs');
  const signals = options.drainSignals ?? defaultSignals;
  if (signals !== false && (!Array.isArray(signals) || signals.some((s) => !/^SIG[A-Z0-9]+$/.test(s))))
    throw invalidOption('drainSignals', 'must be false or a list of signal names such as SIGTERM');
  if (options.stack !== undefined && typeof options.stack !== 'function')
    throw invalidOption('stack', 'must be a function (stack) => stack, editing the default server stack');
  const stack = options.stack === undefined ? defaultServerStack() : editServerStack(options.stack);
  const config = options.config;
  if (
    config !== undefined &&
    (typeof config !== 'object' ||
      config === null ||
      typeof config.trafficSwitch !== 'function' ||
      typeof config.subscribe !== 'function' ||
      typeof config.authorizationPolicies !== 'function' ||
      typeof config.peerAuthentication !== 'function' ||
      typeof config.revision !== 'number')
  )
    throw invalidOption(
      'config',
      'must be a ConfigClient (createConfigClient): revision, subscribe, trafficSwitch, authorizationPolicies and peerAuthentication',
    );
  const service = options.service === undefined ? undefined : validateServiceName(options.service, 'service');
  const authorization = resolveAuthorization(service, config, options.trustDomain);
  const routeOverrides = options.routeOverrides ?? true;
  if (typeof routeOverrides !== 'boolean') throw invalidOption('routeOverrides', 'must be true or false');
  if (options.mtls !== undefined && (typeof options.mtls !== 'object' || options.mtls === null))
    throw invalidOption('mtls', 'must be { identity, mode? }');
  const mtls = options.mtls === undefined ? undefined : checkServerMtls('server', options.mtls);
  return {
    mtls,
    authorization,
    admission: { concurrency, rate, clock },
    drainTimeoutMs,
    drainDelayMs,
    drainSignals: signals === false ? [] : signals,
    stack,
    config,
    service,
    clock,
    routeOverrides,
  };
}

function resolveAuthorization(
  service: string | undefined,
  config: ServerConfigSource | undefined,
  domain: string | undefined,
): ServerAuthorizationSettings | undefined {
  const trustDomain = domain ?? SERVER_BASE_DEFAULTS.trustDomain;
  if (!/^[a-z0-9._-]{1,255}$/.test(String(trustDomain)))
    throw invalidOption(
      'trustDomain',
      'must be a trust domain such as weft.local (lowercase letters, digits, ".", "_", "-")',
    );
  if (service === undefined || config === undefined) return undefined;
  return { service, config, trustDomain };
}

/** Checks a concurrency limit and a rate limit (they throw, naming the option, when invalid). */
export function checkAdmission(
  concurrency: ConcurrencyOptions | false,
  rate: TokenBucketOptions | false,
): void {
  concurrencyLimit(concurrency);
  if (rate !== false) tokenBucket(rate, systemClock);
}
