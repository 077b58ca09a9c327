/**
 * The config-service client. One Server-Sent Events stream (`GET /v1/watch`) brings a snapshot and
 * then every revision; the client keeps the state in memory for O(1) lookups, saves it as the
 * last-known-good snapshot on disk, starts from that file when the service is down, and reconnects
 * with full-jitter backoff, failing over across the configured URLs and resuming from its revision.
 * The data plane never waits on it: lookups are synchronous and keep the last good values.
 */

import type { AuthorizationPolicySpec } from '../authz/authz-schema.ts';
import type { Endpoint } from '../endpoint/endpoint.ts';
import { ErrorCode, invalidOption, isWeftError, WeftError } from '../errors/errors.ts';
import type { RouteSpec } from '../route/route-schema.ts';
import { type TrafficReport, UNKNOWN_SERVICE } from '../summary/report.ts';
import {
  resolveTrafficSummaryOptions,
  TrafficSummary,
  type TrafficSummaryOptions,
} from '../summary/summary.ts';
import { type Clock, type Random, sleep, systemClock, type TimerHandle } from '../time/clock.ts';
import type { TrafficSwitchSpec } from '../traffic/switch-schema.ts';
import { checkKnownKeys, type KeySet } from '../util/known-keys.ts';
import { BACKOFF_DEFAULTS, fullJitterBackoff } from './backoff.ts';
import { readSnapshotCache, removeStaleCacheTemps, writeSnapshotCache } from './cache.ts';
import { serviceNameIssue } from './names.ts';
import { type DestinationPolicy, mergePolicies } from './policy.ts';
import { type LogEntry, type Snapshot, type TrustBundle, WatchEvent, watchEventId } from './protocol.ts';
import type { SseMessage } from './sse.ts';
import { ConfigState } from './state.ts';
import { readWatchStream } from './watch-stream.ts';
import { parseWatchData } from './wire-check.ts';

export interface ConfigClientOptions {
  /** Config service URLs (array or comma-separated). Defaults to `WEFT_CONTROL_PLANE`. */
  urls?: string | readonly string[];
  /** Bearer token. Defaults to `WEFT_TOKEN`. */
  token?: string;
  /** File of the last-known-good snapshot. Defaults to none (no disk cache). */
  cacheFile?: string;
  /** Only watch the registry instances of these services. Defaults to all services. */
  services?: readonly string[];
  /** How long `ready()` waits for a first snapshot (service or cache) before rejecting. Defaults to 10000. */
  startTimeoutMs?: number;
  /** Reconnects after this long without a byte from the stream (the service pings every 15 s). Defaults to 45000. */
  idleTimeoutMs?: number;
  /** Cap of the first reconnection delay in ms. Defaults to 200. */
  backoffInitialMs?: number;
  /** Largest reconnection delay in ms. Defaults to 10000. */
  backoffMaxMs?: number;
  /**
   * The service this process is: the caller named in its traffic summaries. Defaults to
   * `WEFT_SERVICE`, else `unknown`.
   */
  service?: string;
  /**
   * Traffic summaries sent to the config service for its golden metrics (docs/control-room.md), or
   * `false` to send none. Defaults to on, with {@link TRAFFIC_SUMMARY_DEFAULTS}.
   */
  traffic?: TrafficSummaryOptions | false;
  /** Defaults to {@link systemClock}. */
  clock?: Clock;
  /** Defaults to `Math.random`. */
  random?: Random;
}

const CONFIG_CLIENT_KEYS = {
  urls: true,
  token: true,
  cacheFile: true,
  services: true,
  startTimeoutMs: true,
  idleTimeoutMs: true,
  backoffInitialMs: true,
  backoffMaxMs: true,
  service: true,
  traffic: true,
  clock: true,
  random: true,
} as const satisfies KeySet<ConfigClientOptions>;

export const CONFIG_CLIENT_DEFAULTS = {
  startTimeoutMs: 10_000,
  idleTimeoutMs: 45_000,
  backoffInitialMs: BACKOFF_DEFAULTS.initialMs,
  backoffMaxMs: BACKOFF_DEFAULTS.maxMs,
} as const;

/**
 * Connection state: `from-cache` means serving the on-disk snapshot without having reached the
 * service; `unauthorized` means the service answered 401/403 (a wrong, revoked or under-privileged
 * token: not an outage). The client keeps trying in the background in both, serving what it has.
 */
export interface ConfigClientStatus {
  readonly state: 'connecting' | 'connected' | 'disconnected' | 'from-cache' | 'unauthorized' | 'closed';
  /** The URL of the current or last connection. */
  readonly url: string | undefined;
  readonly lastError: string | undefined;
  /** Reconnection attempts since the last successful one. */
  readonly attempts: number;
}

export interface ConfigClient {
  /** Resolves once a snapshot is loaded from the service or the cache; rejects after `startTimeoutMs`. */
  ready(): Promise<void>;
  /** The current validated policy of a destination service (synchronous, O(1)). */
  policy(destination: string): DestinationPolicy | undefined;
  /** The current validated `Route` of a destination service (synchronous, O(1)). */
  route(destination: string): RouteSpec | undefined;
  /** The current validated `TrafficSwitch` of `name` (`mesh` or a service; synchronous, O(1)). */
  trafficSwitch(name: string): TrafficSwitchSpec | undefined;
  /** The current validated `AuthorizationPolicy` documents, by document name (the same map until a change). */
  authorizationPolicies(): ReadonlyMap<string, AuthorizationPolicySpec>;
  /** built-in defaults < options in code < the config service: the value in effect for a destination. */
  effectivePolicy(
    destination: string,
    defaults?: DestinationPolicy,
    inCode?: DestinationPolicy,
  ): DestinationPolicy;
  /** Registered endpoints of a service, or undefined when it has none. */
  endpoints(service: string): readonly Endpoint[] | undefined;
  /** Called after each applied change (and after the first snapshot). Returns an unsubscribe. */
  subscribe(listener: (event: { revision: number }) => void): () => void;
  /**
   * The mesh's trust bundle (the CA certificates to trust and the trust domain), or undefined before
   * the first snapshot and while the config service has no certificate authority.
   */
  trustBundle(): TrustBundle | undefined;
  /**
   * Called with the new bundle whenever it changes (first arrival, CA rotation, end of an overlap).
   * Returns an unsubscribe.
   */
  watchTrustBundle(listener: (bundle: TrustBundle | undefined) => void): () => void;
  /** Called whenever {@link ConfigClient.status} changes. Returns an unsubscribe. */
  watchStatus(listener: (status: ConfigClientStatus) => void): () => void;
  /**
   * The traffic summary this client reports (the clients made with this config record into it), or
   * undefined when `traffic: false`.
   */
  readonly traffic: TrafficSummary | undefined;
  readonly revision: number;
  readonly status: ConfigClientStatus;
  /** State for an admin endpoint: revision, status, problems found, cache file and the revision saved in it, policies. */
  describe(): Record<string, unknown>;
  close(): Promise<void>;
}

function parseUrls(value: string | readonly string[] | undefined): string[] {
  const list = typeof value === 'string' ? value.split(',') : [...(value ?? [])];
  const urls = list.map((u) => u.trim()).filter(Boolean);
  if (urls.length === 0)
    throw invalidOption('urls', 'at least one config service URL (or WEFT_CONTROL_PLANE) is required');
  for (const u of urls) {
    if (!URL.canParse(u) || !/^https?:$/.test(new URL(u).protocol))
      throw invalidOption('urls', `"${u}" is not an http(s) URL`);
  }
  return urls;
}

function positive(name: string, value: number, max: number): number {
  if (!Number.isFinite(value) || value < 1 || value > max)
    throw invalidOption(name, `must be from 1 to ${max}`);
  return value;
}

/** The bundle in `describe()`: its domain, generation and how many anchors (not the PEM text). */
const describeBundle = (b: TrustBundle | undefined) =>
  b && { trustDomain: b.trustDomain, generation: b.generation, certificates: b.certificates.length };

export function createConfigClient(options: ConfigClientOptions = {}): ConfigClient {
  checkKnownKeys('createConfigClient', options, CONFIG_CLIENT_KEYS);
  const urls = parseUrls(options.urls ?? process.env.WEFT_CONTROL_PLANE);
  const service = options.service ?? process.env.WEFT_SERVICE ?? UNKNOWN_SERVICE;
  const serviceIssue = serviceNameIssue(service);
  if (serviceIssue) throw invalidOption('service', serviceIssue);
  const trafficOptions =
    options.traffic === false ? undefined : resolveTrafficSummaryOptions(options.traffic);
  const token = options.token ?? process.env.WEFT_TOKEN;
  const clock = options.clock ?? systemClock;
  const d = CONFIG_CLIENT_DEFAULTS;
  const startTimeoutMs = positive('startTimeoutMs', options.startTimeoutMs ?? d.startTimeoutMs, 3_600_000);
  const idleTimeoutMs = positive('idleTimeoutMs', options.idleTimeoutMs ?? d.idleTimeoutMs, 3_600_000);
  const backoff = fullJitterBackoff({
    initialMs: options.backoffInitialMs ?? d.backoffInitialMs,
    maxMs: options.backoffMaxMs ?? d.backoffMaxMs,
    random: options.random,
  });
  const cacheFile = options.cacheFile;
  const services = options.services?.length ? [...options.services].join(',') : undefined;

  const state = new ConfigState();
  const listeners = new Set<(event: { revision: number }) => void>();
  const statusListeners = new Set<(status: ConfigClientStatus) => void>();
  const closing = new AbortController();
  let status: ConfigClientStatus = { state: 'connecting', url: undefined, lastError: undefined, attempts: 0 };
  /** Tells status listeners when the state or the last error differs from `previous`. */
  const announce = (previous: ConfigClientStatus) => {
    if (previous.state === status.state && previous.lastError === status.lastError) return;
    for (const l of statusListeners) {
      try {
        l(status);
      } catch {}
    }
  };
  const setStatus = (next: ConfigClientStatus) => {
    const previous = status;
    status = next;
    announce(previous);
  };

  let loaded = false;

  let resolveReady!: () => void;
  let rejectReady!: (e: Error) => void;
  const readyPromise = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  readyPromise.catch(() => {}); // a rejection nobody awaits must not crash the process
  const giveUp = () => {
    if (!loaded)
      rejectReady(
        new WeftError(
          ErrorCode.ResolutionFailed,
          `no config within ${startTimeoutMs} ms: the config service is unreachable (${status.lastError ?? 'no answer'}) and no cache was found`,
          { retryable: true },
        ),
      );
  };
  // The start timeout runs in the background; whoever awaits ready() holds the process open until it
  // settles (a second, ref'd timer for the time that is left), so `await config.ready()` rejects
  // instead of the process exiting with the promise unsettled.
  const startedAt = clock.now();
  const startTimer = clock.setTimeout(giveUp, startTimeoutMs, true);
  let holdTimer: TimerHandle | undefined;
  const ready = () => {
    if (!loaded && holdTimer === undefined && !closing.signal.aborted)
      holdTimer = clock.setTimeout(giveUp, Math.max(0, startTimeoutMs - (clock.now() - startedAt)));
    return readyPromise;
  };

  // Cache writes are serialized; changes during a write cause one more write afterwards.
  let writing: Promise<void> | undefined;
  let dirty = false;
  let cachedRevision: number | undefined;
  const saveCache = () => {
    if (!cacheFile) return;
    dirty = true;
    if (writing) return;
    writing = (async () => {
      while (dirty) {
        dirty = false;
        const snap = state.snapshot();
        await writeSnapshotCache(cacheFile, snap).then(
          () => {
            cachedRevision = snap.revision;
          },
          (error: Error) => {
            setStatus({ ...status, lastError: `cache write failed: ${error.message}` });
          },
        );
      }
      writing = undefined;
    })();
  };

  const bundleListeners = new Set<(bundle: TrustBundle | undefined) => void>();
  let lastBundle: TrustBundle | undefined;
  const notify = () => {
    const bundle = state.trustBundle();
    if (bundle !== lastBundle) {
      lastBundle = bundle;
      for (const l of bundleListeners) {
        try {
          l(bundle);
        } catch {} // one faulty listener must not stop the others
      }
    }
    for (const l of listeners) {
      try {
        l({ revision: state.revision });
      } catch {} // one faulty listener must not stop the others
    }
  };
  const markLoaded = () => {
    if (loaded) return;
    loaded = true;
    clock.clearTimeout(startTimer);
    if (holdTimer !== undefined) clock.clearTimeout(holdTimer);
    resolveReady();
  };

  const onSnapshot = (snap: Snapshot) => {
    state.load(snap);
    markLoaded();
    saveCache();
    notify();
  };
  const onChange = (entry: LogEntry) => {
    if (!state.apply(entry)) return;
    saveCache();
    notify();
  };

  /** Applies one stream message. The status turns `connected` before listeners hear of the data. */
  function onMessage(url: string, m: SseMessage): void {
    // Checked before anything changes: a malformed message ends the stream (then a reconnect).
    const data = parseWatchData(m);
    const previous = status;
    if (previous.state !== 'connected')
      status = { state: 'connected', url, lastError: undefined, attempts: 0 };
    if (m.event === WatchEvent.Snapshot) onSnapshot(data as Snapshot);
    else if (m.event === WatchEvent.Change) onChange(data as LogEntry);
    announce(previous);
  }

  /**
   * The stream is open. A client that resumed with nothing missed gets no message at all, so it is
   * connected from here; one that has loaded nothing yet waits for its snapshot.
   */
  function onOpen(url: string): void {
    if (!loaded || status.state === 'connected') return;
    const previous = status;
    status = { state: 'connected', url, lastError: undefined, attempts: 0 };
    announce(previous);
  }

  const stream = (url: string) =>
    readWatchStream({
      url,
      token,
      services,
      lastEventId: loaded && state.storeId ? watchEventId(state.storeId, state.revision) : undefined,
      idleTimeoutMs,
      clock,
      signal: closing.signal,
      onOpen: () => onOpen(url),
      onMessage: (m) => onMessage(url, m),
    });

  async function run(): Promise<void> {
    if (cacheFile) {
      await removeStaleCacheTemps(cacheFile);
      const cached = await readSnapshotCache(cacheFile);
      if (cached && !loaded) {
        cachedRevision = cached.revision;
        state.load(cached);
        setStatus({ ...status, state: 'from-cache' });
        markLoaded();
        notify();
      }
    }
    let index = 0;
    let attempts = 0;
    while (!closing.signal.aborted) {
      const url = urls[index % urls.length]!;
      try {
        await stream(url);
      } catch (error) {
        if (closing.signal.aborted) break;
        const wasConnected = status.state === 'connected';
        if (wasConnected) attempts = 0;
        attempts++;
        const refused = isWeftError(error, ErrorCode.Unauthorized);
        // A refused token fails ready() at once: waiting out the start timeout would only hide it.
        if (refused && !loaded) rejectReady(error);
        setStatus({
          state: refused ? 'unauthorized' : status.state === 'from-cache' ? 'from-cache' : 'disconnected',
          url,
          lastError: `${url}: ${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message}`,
          attempts,
        });
      }
      index++;
      try {
        await sleep(clock, backoff(attempts - 1), closing.signal, true);
      } catch {
        break;
      }
    }
  }
  const sendReport = async (report: TrafficReport) => {
    const base = status.url ?? urls[0]!;
    const res = await fetch(new URL('/v1/traffic/reports', base), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(report),
      signal: AbortSignal.any([closing.signal, AbortSignal.timeout(traffic!.intervalMs)]),
    });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`the config service answered ${res.status} to a traffic report`);
  };
  const traffic =
    trafficOptions === undefined
      ? undefined
      : new TrafficSummary(
          { service, clock, canSend: () => status.state === 'connected', send: sendReport },
          trafficOptions,
        );
  const running = run();

  return {
    ready,
    policy: (destination) => state.policy(destination),
    route: (destination) => state.route(destination),
    trafficSwitch: (name) => state.trafficSwitch(name),
    authorizationPolicies: () => state.authorizationPolicies(),
    effectivePolicy: (destination, defaults, inCode) =>
      mergePolicies(defaults, inCode, state.policy(destination)),
    endpoints: (service) => state.endpoints(service),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    trustBundle: () => state.trustBundle(),
    watchTrustBundle(listener) {
      bundleListeners.add(listener);
      return () => bundleListeners.delete(listener);
    },
    watchStatus(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
    traffic,
    get revision() {
      return state.revision;
    },
    get status() {
      return status;
    },
    describe() {
      return {
        storeId: state.storeId,
        revision: state.revision,
        status,
        problems: [...state.problems],
        cacheFile,
        cachedRevision,
        policies: Object.fromEntries(state.policies()),
        routes: Object.fromEntries(state.routes()),
        trafficSwitches: Object.fromEntries(state.trafficSwitches()),
        trustBundle: describeBundle(state.trustBundle()),
        authorizationPolicies: Object.fromEntries(state.authorizationPolicies()),
        traffic: traffic && { service, ...traffic.stats },
      };
    },
    async close() {
      if (closing.signal.aborted) return;
      closing.abort();
      traffic?.close();
      clock.clearTimeout(startTimer);
      if (holdTimer !== undefined) clock.clearTimeout(holdTimer);
      if (!loaded)
        rejectReady(new WeftError(ErrorCode.Closed, 'the config client was closed before it had any config'));
      listeners.clear();
      bundleListeners.clear();
      setStatus({ ...status, state: 'closed' });
      statusListeners.clear();
      await running;
      await writing;
    },
  };
}
