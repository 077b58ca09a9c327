/**
 * The identity of this process in the mesh: a short-lived certificate for its service, obtained from
 * the config service's CA with the service token, and renewed in the background at a fraction of
 * its lifetime (half by default) with a new key each time. A renewal that fails keeps the current
 * certificate, which stays usable until it expires, and retries with full-jitter backoff; every
 * failure is counted, visible in `describe()` and in metrics.
 *
 * Timers run on the injected clock; a certificate's remaining lifetime is read once, against the
 * wall clock, when it arrives, and from then on measured on that clock.
 */
import {
  type Clock,
  checkKnownKeys,
  ErrorCode,
  invalidOption,
  type KeySet,
  type Random,
  sleep,
  systemClock,
  WeftError,
} from '@weft/core';
import { checkName, fullJitterBackoff, type TrustBundle } from '@weft/core/config';
import { observeIdentity, recordRequest } from './metrics.ts';
import { CertificateRequestError, type IdentityCredentials, requestCertificate } from './request.ts';

export interface IdentityOptions {
  /** The service this process is an instance of; the token must be scoped to it (or be an admin token). */
  service: string;
  /** Config service URLs, tried in turn when one is unreachable. Defaults to `WEFT_CONTROL_PLANE`. */
  urls?: string | readonly string[];
  /** The service token. Defaults to `WEFT_TOKEN`. */
  token?: string;
  /**
   * Lifetime to ask for, in ms (1000–604800000). Defaults to unset: the config service's own
   * (`--cert-lifetime-ms`, 24 h by default), which is also the most it grants.
   */
  lifetimeMs?: number;
  /** Renew after this fraction of the certificate's remaining lifetime (0.1–0.9). Defaults to 0.5. */
  renewAt?: number;
  /** Timeout of one certificate request in ms. Defaults to 5000. */
  requestTimeoutMs?: number;
  /** Cap of the first retry delay after a failed request, in ms. Defaults to 1000. */
  backoffInitialMs?: number;
  /** Largest retry delay in ms. Defaults to 60000. */
  backoffMaxMs?: number;
  /**
   * A `ConfigClient` whose trust bundle the identity follows between renewals: a CA rotation's new
   * root is trusted as soon as the watch stream brings it, not only at the next renewal, so peers
   * whose certificates the new CA signed verify at once. Defaults to none: the bundle that came with
   * the last certificate.
   */
  config?: TrustBundleSource;
  /** Timers of renewal, retries and expiry. Defaults to the system clock. */
  clock?: Clock;
  /** Uniform random source in [0, 1) for the jitter. Defaults to `Math.random`. */
  random?: Random;
}

export const IDENTITY_DEFAULTS = {
  renewAt: 0.5,
  requestTimeoutMs: 5000,
  backoffInitialMs: 1000,
  backoffMaxMs: 60_000,
} as const;

/** Renewal comes up to this fraction earlier than `renewAt` says, so that a fleet does not renew at once. */
const RENEW_JITTER = 0.1;
const MIN_RENEW_DELAY_MS = 1000;

const IDENTITY_KEYS = {
  service: true,
  urls: true,
  token: true,
  lifetimeMs: true,
  renewAt: true,
  requestTimeoutMs: true,
  backoffInitialMs: true,
  backoffMaxMs: true,
  config: true,
  clock: true,
  random: true,
} as const satisfies KeySet<IdentityOptions>;

/** Where a newer trust bundle comes from (a `ConfigClient` has both). */
export interface TrustBundleSource {
  trustBundle(): TrustBundle | undefined;
  watchTrustBundle(listener: (bundle: TrustBundle | undefined) => void): () => void;
}

/**
 * `starting`: no certificate yet; `valid`: one, not due for renewal; `renewing`: due, a request in
 * flight or retrying, the current one still valid; `expired`: it expired before a renewal succeeded;
 * `refused`: the first request was refused (see `lastError`); `closed`.
 */
export type IdentityState = 'starting' | 'valid' | 'renewing' | 'expired' | 'refused' | 'closed';

export interface IdentityDescription {
  readonly service: string;
  readonly state: IdentityState;
  readonly spiffeId: string | undefined;
  readonly serialNumber: string | undefined;
  /** ISO time the current certificate expires. */
  readonly notAfter: string | undefined;
  /** Successful renewals (the first certificate is not one). */
  readonly renewals: number;
  /** Failed requests, first and renewals, since creation. */
  readonly failures: number;
  readonly lastError: string | undefined;
}

/** Told of each new certificate (`valid`) and of the current one's expiry without renewal (`expired`). */
export type IdentityListener = (credentials: IdentityCredentials, state: 'valid' | 'expired') => void;

export interface Identity {
  /** Resolves with the first certificate; rejects when it is refused (a `WeftError`) or on close. */
  ready(): Promise<IdentityCredentials>;
  /** The current credentials (possibly expired: see `describe().state`), or undefined before the first. */
  readonly credentials: IdentityCredentials | undefined;
  /** Registers a listener; returns the function that removes it. */
  onChange(listener: IdentityListener): () => void;
  describe(): IdentityDescription;
  /** Stops renewing. The current credentials stay readable. */
  close(): void;
}

function checkOptions(options: IdentityOptions) {
  checkKnownKeys('createIdentity', options, IDENTITY_KEYS);
  const nameIssue = checkName(options.service);
  if (nameIssue) throw invalidOption('service', nameIssue);
  const raw = options.urls ?? process.env.WEFT_CONTROL_PLANE ?? '';
  const urls = (typeof raw === 'string' ? raw.split(',') : [...raw]).map((u) => u.trim()).filter(Boolean);
  if (urls.length === 0)
    throw invalidOption('urls', 'at least one config service URL (or WEFT_CONTROL_PLANE) is required');
  for (const url of urls)
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))
      throw invalidOption('urls', `${JSON.stringify(url)} is not an http(s) URL`);
  const { lifetimeMs } = options;
  if (
    lifetimeMs !== undefined &&
    !(Number.isInteger(lifetimeMs) && lifetimeMs >= 1000 && lifetimeMs <= 604_800_000)
  )
    throw invalidOption('lifetimeMs', 'must be an integer from 1000 to 604800000');
  const renewAt = options.renewAt ?? IDENTITY_DEFAULTS.renewAt;
  if (!(renewAt >= 0.1 && renewAt <= 0.9)) throw invalidOption('renewAt', 'must be from 0.1 to 0.9');
  const requestTimeoutMs = options.requestTimeoutMs ?? IDENTITY_DEFAULTS.requestTimeoutMs;
  if (!(Number.isInteger(requestTimeoutMs) && requestTimeoutMs >= 1 && requestTimeoutMs <= 600_000))
    throw invalidOption('requestTimeoutMs', 'must be an integer from 1 to 600000');
  const backoff = fullJitterBackoff({
    initialMs: options.backoffInitialMs ?? IDENTITY_DEFAULTS.backoffInitialMs,
    maxMs: options.backoffMaxMs ?? IDENTITY_DEFAULTS.backoffMaxMs,
    random: options.random,
  });
  return { urls, lifetimeMs, renewAt, requestTimeoutMs, backoff };
}

/** Obtains this process's certificate and keeps it renewed. See {@link IdentityOptions}. */
export function createIdentity(options: IdentityOptions): Identity {
  const { urls, lifetimeMs, renewAt, requestTimeoutMs, backoff } = checkOptions(options);
  const { service } = options;
  const token = options.token ?? process.env.WEFT_TOKEN;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const attributes = { 'weft.service': service };
  const closing = new AbortController();
  const listeners = new Set<IdentityListener>();

  let credentials: IdentityCredentials | undefined;
  let expiresAt = 0; // on `clock`
  let expiryTimer: unknown;
  let state: IdentityState = 'starting';
  let renewals = 0;
  let failures = 0;
  let lastError: string | undefined;
  let urlIndex = 0;

  const stopGauge = observeIdentity({
    attributes,
    secondsToExpiry: () => (credentials ? (expiresAt - clock.now()) / 1000 : undefined),
  });

  /** The newer of the bundle that came with the certificate and the one the config service sent. */
  function withNewerBundle(next: IdentityCredentials): IdentityCredentials {
    const bundle = options.config?.trustBundle();
    if (
      bundle === undefined ||
      bundle.trustDomain !== next.trustBundle.trustDomain ||
      bundle.generation <= next.trustBundle.generation
    )
      return next;
    return { ...next, trustBundle: bundle };
  }

  const stopBundle =
    options.config?.watchTrustBundle(() => {
      if (credentials === undefined || closing.signal.aborted) return;
      const next = withNewerBundle(credentials);
      if (next === credentials) return;
      credentials = next;
      if (state !== 'expired') tell(next, 'valid');
    }) ?? (() => {});

  function tell(current: IdentityCredentials, to: 'valid' | 'expired'): void {
    for (const listener of listeners) {
      try {
        listener(current, to);
      } catch (error) {
        process.emitWarning(`an identity listener threw: ${(error as Error).message}`, 'WeftWarning');
      }
    }
  }

  async function attempt(kind: 'first' | 'renewal'): Promise<IdentityCredentials> {
    const url = urls[urlIndex % urls.length]!;
    try {
      const issued = await requestCertificate({
        url,
        service,
        token,
        lifetimeMs,
        timeoutMs: requestTimeoutMs,
      });
      recordRequest(attributes, kind, 'success');
      return issued;
    } catch (error) {
      if (error instanceof CertificateRequestError && error.status === undefined) urlIndex++; // fail over
      failures++;
      lastError = (error as Error).message;
      recordRequest(attributes, kind, 'failure');
      throw error;
    }
  }

  /** Installs `next` and returns the delay until it is due for renewal. */
  function install(issued: IdentityCredentials): number {
    const next = withNewerBundle(issued);
    const remaining = Math.max(0, next.notAfter.getTime() - Date.now());
    credentials = next;
    expiresAt = clock.now() + remaining;
    state = 'valid';
    lastError = undefined;
    if (expiryTimer !== undefined) clock.clearTimeout(expiryTimer);
    expiryTimer = clock.setTimeout(
      () => {
        expiryTimer = undefined;
        if (closing.signal.aborted || credentials !== next) return;
        state = 'expired';
        tell(next, 'expired');
      },
      remaining,
      true,
    );
    // At least a second: a certificate cut short (by the CA's own expiry) must not make a busy loop.
    return Math.max(MIN_RENEW_DELAY_MS, Math.floor(remaining * renewAt * (1 - RENEW_JITTER * random())));
  }

  async function first(): Promise<IdentityCredentials> {
    for (let n = 0; ; n++) {
      try {
        return await attempt('first');
      } catch (error) {
        if (closing.signal.aborted) throw new WeftError(ErrorCode.Closed, 'the identity was closed');
        if (error instanceof CertificateRequestError && !error.retryable) {
          state = 'refused';
          throw error;
        }
        await sleep(clock, backoff(n), closing.signal, true);
      }
    }
  }

  async function keepRenewed(delay: number): Promise<void> {
    for (;;) {
      await sleep(clock, delay, closing.signal, true);
      if (state === 'valid') state = 'renewing';
      for (let n = 0; ; n++) {
        try {
          const next = await attempt('renewal');
          if (closing.signal.aborted) return;
          renewals++;
          delay = install(next);
          tell(credentials!, 'valid');
          break;
        } catch {
          if (closing.signal.aborted) return;
          await sleep(clock, backoff(n), closing.signal, true);
        }
      }
    }
  }

  const started = first().then((issued) => {
    if (closing.signal.aborted) throw new WeftError(ErrorCode.Closed, 'the identity was closed');
    const delay = install(issued);
    keepRenewed(delay).catch(() => {}); // ends only by close
    return issued;
  });
  started.catch(() => {}); // observed through ready()

  return {
    ready: () => started,
    get credentials() {
      return credentials;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    describe: () => ({
      service,
      state,
      spiffeId: credentials?.spiffeId,
      serialNumber: credentials?.serialNumber,
      notAfter: credentials?.notAfter.toISOString(),
      renewals,
      failures,
      lastError,
    }),
    close() {
      if (closing.signal.aborted) return;
      closing.abort(new WeftError(ErrorCode.Closed, 'the identity was closed'));
      if (expiryTimer !== undefined) clock.clearTimeout(expiryTimer);
      expiryTimer = undefined;
      state = 'closed';
      stopBundle();
      stopGauge();
      listeners.clear();
    },
  };
}
