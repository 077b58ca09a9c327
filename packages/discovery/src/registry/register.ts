/**
 * Registers this process as an instance of a service with the config service and keeps its lease
 * alive: heartbeats every third of the lease, re-registration when the service forgot it (its lease
 * expired or its data was replaced), full-jitter backoff and failover across URLs while the service
 * is unreachable, and graceful deregistration on close.
 */
import {
  type Clock,
  checkKnownKeys,
  invalidOption,
  type KeySet,
  type Random,
  sleep,
  systemClock,
} from '@weft/core';
import { checkName, fullJitterBackoff, portIssue, validateHost } from '@weft/core/config';

export interface RegisterInstanceOptions {
  service: string;
  /** The address other services should call. */
  address: string;
  port: number;
  /** Labels such as `version` and `zone`. Defaults to none. */
  labels?: Record<string, string>;
  /** Relative weight. Defaults to unset (1). */
  weight?: number;
  /** Lease length in ms (100–3600000). Defaults to 10000. */
  ttlMs?: number;
  /** Instance id. Defaults to `address:port`. */
  id?: string;
  /** Config service URLs. Defaults to `WEFT_CONTROL_PLANE`. */
  urls?: string | readonly string[];
  /** Bearer token. Defaults to `WEFT_TOKEN`. */
  token?: string;
  /** Timeout of one request in ms. Defaults to 5000. */
  requestTimeoutMs?: number;
  clock?: Clock;
  random?: Random;
}

export const REGISTER_DEFAULTS = { ttlMs: 10_000, requestTimeoutMs: 5000 } as const;

export interface InstanceRegistration {
  readonly id: string;
  /** True while the service holds a live lease for this instance, as far as this process knows. */
  readonly registered: boolean;
  /** The last error met, if any. */
  readonly lastError: string | undefined;
  /** Stops heartbeats and deregisters (best effort, bounded by `requestTimeoutMs`). */
  close(): Promise<void>;
}

class HttpStatusError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export const REGISTER_KEYS = {
  service: true,
  address: true,
  port: true,
  labels: true,
  weight: true,
  ttlMs: true,
  id: true,
  urls: true,
  token: true,
  requestTimeoutMs: true,
  clock: true,
  random: true,
} as const satisfies KeySet<RegisterInstanceOptions>;

export function registerInstance(options: RegisterInstanceOptions): InstanceRegistration {
  checkKnownKeys('registerInstance', options, REGISTER_KEYS);
  const nameIssue = checkName(options.service);
  if (nameIssue) throw invalidOption('service', nameIssue);
  // The registry's own rule: an IP address (IPv6 bare or bracketed, stored bare) or a host name.
  const address = validateHost(options.address, 'address');
  const portProblem = portIssue(options.port);
  if (portProblem) throw invalidOption('port', portProblem);
  const ttlMs = options.ttlMs ?? REGISTER_DEFAULTS.ttlMs;
  if (!Number.isInteger(ttlMs) || ttlMs < 100 || ttlMs > 3_600_000)
    throw invalidOption('ttlMs', 'must be from 100 to 3600000');
  const raw = options.urls ?? process.env.WEFT_CONTROL_PLANE ?? '';
  const urls = (typeof raw === 'string' ? raw.split(',') : [...raw]).map((u) => u.trim()).filter(Boolean);
  if (urls.length === 0)
    throw invalidOption('urls', 'at least one config service URL (or WEFT_CONTROL_PLANE) is required');
  const token = options.token ?? process.env.WEFT_TOKEN;
  const timeoutMs = options.requestTimeoutMs ?? REGISTER_DEFAULTS.requestTimeoutMs;
  const clock = options.clock ?? systemClock;
  const backoff = fullJitterBackoff({
    initialMs: 100,
    maxMs: Math.max(100, Math.min(5000, ttlMs / 3)),
    random: options.random,
  });
  const id =
    options.id ?? (address.includes(':') ? `[${address}]:${options.port}` : `${address}:${options.port}`);
  const base = `/v1/services/${encodeURIComponent(options.service)}/instances`;
  const body = {
    id,
    address: address,
    port: options.port,
    labels: options.labels ?? {},
    ...(options.weight === undefined ? {} : { weight: options.weight }),
    ttlMs,
  };

  const closing = new AbortController();
  let registered = false;
  let lastError: string | undefined;
  let urlIndex = 0;

  async function call(method: string, path: string, payload?: unknown): Promise<void> {
    const url = new URL(path, urls[urlIndex % urls.length]);
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: payload === undefined ? undefined : JSON.stringify(payload),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      urlIndex++; // fail over to the next URL
      throw error;
    }
    const text = await res.text();
    if (!res.ok) throw new HttpStatusError(res.status, `HTTP ${res.status}: ${text.slice(0, 300)}`);
  }

  async function loop(): Promise<void> {
    let failures = 0;
    while (!closing.signal.aborted) {
      try {
        if (!registered) await call('POST', base, body);
        else await call('PUT', `${base}/${encodeURIComponent(id)}/lease`);
        registered = true;
        failures = 0;
        lastError = undefined;
        await sleep(clock, Math.floor(ttlMs / 3), closing.signal, true);
      } catch (error) {
        if (closing.signal.aborted) break;
        if (error instanceof HttpStatusError && error.status === 404) {
          registered = false; // the service no longer knows us: register again at once
          continue;
        }
        const cause = (error as { cause?: { code?: string } }).cause?.code;
        lastError =
          error instanceof HttpStatusError && (error.status === 401 || error.status === 403)
            ? `unauthorized: the config service refused the token (${error.message}); a service token for ${options.service} is needed`
            : (cause ?? (error as Error).message);
        try {
          await sleep(clock, backoff(failures++), closing.signal, true);
        } catch {
          break;
        }
      }
    }
  }
  const running = loop();

  return {
    id,
    get registered() {
      return registered;
    },
    get lastError() {
      return lastError;
    },
    async close() {
      if (closing.signal.aborted) return;
      closing.abort();
      await running;
      if (!registered) return;
      registered = false;
      for (let i = 0; i < urls.length; i++) {
        try {
          await call('DELETE', `${base}/${encodeURIComponent(id)}`);
          return;
        } catch (error) {
          if (error instanceof HttpStatusError) return; // 404: already gone
        }
      }
    },
  };
}
