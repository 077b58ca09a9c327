/**
 * A resolver over DNS: A, AAAA, both, or SRV records, re-resolved when the answer's TTL runs out.
 *
 * - The refresh delay is the smallest TTL among the records used, clamped to
 *   [`minTtlMs`, `maxTtlMs`]: a TTL of 0 must not turn into a query loop, and a day-long TTL must not
 *   hide a move for a day.
 * - NXDOMAIN and NODATA are authoritative answers: the state becomes `negative` and the name is
 *   asked again after `negativeTtlMs` (RFC 2308 caches negative answers for the SOA minimum; Node's
 *   resolver does not expose the SOA, so the interval is configured).
 * - SERVFAIL, timeouts and refusals are failures: the state becomes `failed`, the last good set is
 *   kept (static stability), and the query is retried with exponential backoff.
 * - SRV: Node's resolver gives no TTL for SRV records, so the SRV set is refreshed every
 *   `srvRefreshMs` (or sooner, when a target's A/AAAA TTL is shorter). Only the lowest priority is
 *   used, as RFC 2782 asks; each target is resolved to its addresses.
 */
import { Resolver as NodeDnsResolver } from 'node:dns/promises';
import type { Clock, Resolver, ResolverListener, ResolverState, TimerHandle } from '@weft/core';
import { checkKnownKeys, ErrorCode, invalidOption, type KeySet, systemClock, WeftError } from '@weft/core';
import { EndpointSource } from '../source/endpoint-source.ts';
import { type DnsRecordType, type Lookup, lookup } from './query.ts';

export type { DnsRecordType } from './query.ts';

export interface DnsResolverOptions {
  /** The name to resolve (`users.internal`, `_http._tcp.users.internal` for SRV). Required. */
  readonly name: string;
  /** Which records to ask for. Defaults to `A`. */
  readonly type?: DnsRecordType;
  /** Port of the endpoints for A/AAAA answers (1–65535). Required unless `type` is `SRV` (SRV records carry it). */
  readonly port?: number;
  /** DNS servers as `ip` or `ip:port` (`[v6]:port`). Defaults to the system's servers. */
  readonly servers?: readonly string[];
  /** Smallest refresh delay, in ms (≥ 0). Defaults to 1000. */
  readonly minTtlMs?: number;
  /** Largest refresh delay, in ms (≥ minTtlMs). Defaults to 300000 (5 minutes). */
  readonly maxTtlMs?: number;
  /** How long a negative answer holds before asking again, in ms (clamped to min/max TTL). Defaults to 30000. */
  readonly negativeTtlMs?: number;
  /** Refresh interval for SRV answers, whose TTL Node's resolver does not report, in ms (clamped to min/max TTL). Defaults to 30000. */
  readonly srvRefreshMs?: number;
  /** First retry delay after a failure, in ms (> 0); doubles on each failure in a row. Defaults to 1000. */
  readonly retryMs?: number;
  /** Largest retry delay, in ms (≥ retryMs). Defaults to 30000. */
  readonly maxRetryMs?: number;
  /** Timeout of one query attempt, in ms (> 0). Defaults to 2000. */
  readonly timeoutMs?: number;
  /** Attempts per query before it fails (1–10). Defaults to 2. */
  readonly tries?: number;
  /** Labels added to every endpoint (`zone`, `version`). Defaults to none. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Service name in metrics. Defaults to `name`. */
  readonly service?: string;
  /** Time source for the refresh timers. Defaults to the system clock. */
  readonly clock?: Clock;
}

const DNS_KEYS = {
  name: true,
  type: true,
  port: true,
  servers: true,
  minTtlMs: true,
  maxTtlMs: true,
  negativeTtlMs: true,
  srvRefreshMs: true,
  retryMs: true,
  maxRetryMs: true,
  timeoutMs: true,
  tries: true,
  labels: true,
  service: true,
  clock: true,
} as const satisfies KeySet<DnsResolverOptions>;

export const DNS_DEFAULTS = {
  type: 'A',
  minTtlMs: 1000,
  maxTtlMs: 300_000,
  negativeTtlMs: 30_000,
  srvRefreshMs: 30_000,
  retryMs: 1000,
  maxRetryMs: 30_000,
  timeoutMs: 2000,
  tries: 2,
} as const;

type Settings = Required<Omit<DnsResolverOptions, 'servers' | 'labels' | 'service' | 'clock' | 'port'>> & {
  port: number;
};

function number(
  name: string,
  value: number,
  min: number,
  max = Number.POSITIVE_INFINITY,
  above = false,
): void {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    (above && value === min) ||
    value > max
  ) {
    const range = max === Number.POSITIVE_INFINITY ? `${above ? '>' : '≥'} ${min}` : `in ${min}..${max}`;
    throw invalidOption(name, `must be a number ${range} (got ${String(value)})`);
  }
}

function settle(o: DnsResolverOptions): Settings {
  if (typeof o?.name !== 'string' || o.name.trim() === '')
    throw invalidOption('name', 'must be a non-empty DNS name');
  const given = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const s = { ...DNS_DEFAULTS, ...given, port: o.port ?? 0 } as Settings;
  if (!['A', 'AAAA', 'A+AAAA', 'SRV'].includes(s.type)) {
    throw invalidOption('type', `must be 'A', 'AAAA', 'A+AAAA' or 'SRV' (got ${String(s.type)})`);
  }
  if (s.type !== 'SRV' && (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535)) {
    throw invalidOption(
      'port',
      `must be an integer in 1..65535 for ${s.type} records (got ${String(o.port)})`,
    );
  }
  number('minTtlMs', s.minTtlMs, 0);
  number('maxTtlMs', s.maxTtlMs, s.minTtlMs);
  number('negativeTtlMs', s.negativeTtlMs, 0);
  number('srvRefreshMs', s.srvRefreshMs, 0, Number.POSITIVE_INFINITY, true);
  number('retryMs', s.retryMs, 0, Number.POSITIVE_INFINITY, true);
  number('maxRetryMs', s.maxRetryMs, s.retryMs);
  number('timeoutMs', s.timeoutMs, 0, Number.POSITIVE_INFINITY, true);
  number('tries', s.tries, 1, 10);
  return s;
}

/** A resolver over DNS records, refreshed on their TTL. */
export class DnsResolver implements Resolver {
  readonly #source: EndpointSource;
  readonly #dns: NodeDnsResolver;
  readonly #s: Settings;
  readonly #labels: Readonly<Record<string, string>> | undefined;
  readonly #clock: Clock;
  #timer: TimerHandle | undefined;
  #failuresInARow = 0;
  #queries = 0;
  /** The delay chosen for the next refresh, in ms (for tests and admin pages). */
  nextRefreshMs: number | undefined;

  constructor(options: DnsResolverOptions) {
    checkKnownKeys('dnsResolver', options, DNS_KEYS);
    this.#s = settle(options);
    this.#labels = options.labels;
    this.#clock = options.clock ?? systemClock;
    this.#dns = new NodeDnsResolver({ timeout: this.#s.timeoutMs, tries: this.#s.tries });
    if (options.servers !== undefined) {
      try {
        this.#dns.setServers([...options.servers]);
      } catch (err) {
        throw invalidOption(
          'servers',
          `must be IP addresses with optional ports (${(err as Error).message})`,
        );
      }
    }
    this.#source = new EndpointSource('dns', options.service ?? this.#s.name);
    void this.#refresh();
  }

  get state(): ResolverState {
    return this.#source.state;
  }

  /** Queries started so far. */
  get queries(): number {
    return this.#queries;
  }

  subscribe(listener: ResolverListener): () => void {
    return this.#source.subscribe(listener);
  }

  close(): void {
    this.#source.close();
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#dns.cancel();
  }

  async #refresh(): Promise<void> {
    this.#timer = undefined;
    this.#queries++;
    const { name, type, port, srvRefreshMs } = this.#s;
    let result: Lookup;
    try {
      result = await lookup(this.#dns, { name, type, port, labels: this.#labels, srvRefreshMs });
    } catch (err) {
      // lookup() reports DNS errors as results; anything thrown is unexpected, but must not stop the refresh loop.
      result = { kind: 'failed', error: err instanceof Error ? err : new Error(String(err)) };
    }
    if (this.#source.closed) return;
    let delay: number;
    if (result.kind === 'bound') {
      this.#failuresInARow = 0;
      this.#source.bind(result.endpoints);
      delay = this.#clamp(result.ttlMs);
    } else if (result.kind === 'negative') {
      this.#failuresInARow = 0;
      this.#source.negative();
      delay = this.#clamp(this.#s.negativeTtlMs);
    } else {
      this.#failuresInARow++;
      const code = (result.error as NodeJS.ErrnoException).code ?? result.error.message;
      this.#source.fail(
        new WeftError(ErrorCode.ResolutionFailed, `DNS ${type} lookup of ${name} failed: ${code}`, {
          retryable: true,
          cause: result.error,
        }),
      );
      delay = Math.min(this.#s.retryMs * 2 ** Math.min(this.#failuresInARow - 1, 30), this.#s.maxRetryMs);
    }
    this.nextRefreshMs = delay;
    this.#timer = this.#clock.setTimeout(() => void this.#refresh(), delay, true);
  }

  #clamp(ms: number): number {
    return Math.min(Math.max(ms, this.#s.minTtlMs), this.#s.maxTtlMs);
  }
}

/** Builds a DNS resolver. See {@link DnsResolverOptions}. */
export function dnsResolver(options: DnsResolverOptions): DnsResolver {
  return new DnsResolver(options);
}
