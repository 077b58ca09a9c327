/**
 * Per-destination figures of one client process, over one-second windows: requests, failures,
 * latency percentiles, how the calls spread over the destination's endpoints and over its versions
 * (the `version` each answer names), and the route in force with its mirrored copies. The processes
 * that call other services (the frontend, the load generator) send one snapshot a second to the
 * launcher, which shows them.
 */

/** One destination's figures for the last window. */
export interface DestinationFigures {
  destination: string;
  /** Length of the window in ms. */
  windowMs: number;
  requests: number;
  failures: number;
  /** Error codes of the failures in the window, with their counts. */
  errors: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  /** Calls completed per endpoint in the window, as the Weft client counted them (mirrored copies too). */
  endpoints: EndpointFigures[];
  /** Answers per `version` the answer named, in the window: the primary calls only, never the copies. */
  versions: Record<string, number>;
  /** The client's Route in force, if it has one (from `describe()`). */
  route: RouteFigures | undefined;
  /** The client's effective policy for this destination (from `describe()`). */
  policy: Record<string, unknown>;
  /** The client's resolver state: bound, failed (keeping the last set), … */
  resolver: string;
}

export interface EndpointFigures {
  endpoint: string;
  /** `version` label, when the endpoint has one. */
  version: string | undefined;
  health: string;
  calls: number;
}

export interface RouteFigures {
  /** Each rule (name or index) with its backends' weights. */
  rules: { rule: string; backends: { subset: string; weight: number }[] | undefined }[];
  /** Copies sent to the mirror subset in the window. */
  mirrored: number;
  /** Copies sent since the client started. */
  mirroredTotal: number;
}

/** What a Weft client's `describe()` tells about its endpoints (HTTP and gRPC agree on these fields). */
export interface DescribedDestination {
  policy: object;
  resolver: string;
  route?:
    | {
        rules: { rule: string; backends: { subset: string; weight: number }[] | undefined }[];
        mirrors: Record<string, number> | undefined;
      }
    | undefined;
  endpoints: readonly {
    endpoint: string;
    health: string;
    completed: number;
    labels?: Record<string, string>;
  }[];
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Records the calls to one destination and turns each window into {@link DestinationFigures}. */
export class DestinationRecorder {
  readonly destination: string;
  readonly #describe: () => DescribedDestination;
  /** Labels of endpoints learned elsewhere (the gRPC description has none), by endpoint key. */
  readonly #versions: (endpoint: string) => string | undefined;
  #latencies: number[] = [];
  #failures = 0;
  #errors: Record<string, number> = {};
  #answers: Record<string, number> = {};
  #since = performance.now();
  readonly #completed = new Map<string, number>();
  #mirrored = 0;
  /** Calls and failures since the start, for the final summary. */
  totalRequests = 0;
  totalFailures = 0;

  constructor(
    destination: string,
    describe: () => DescribedDestination,
    versions: (endpoint: string) => string | undefined = () => undefined,
  ) {
    this.destination = destination;
    this.#describe = describe;
    this.#versions = versions;
  }

  /** Records one call: its duration, the error code when it failed, the version that answered when known. */
  record(ms: number, error?: string, version?: string): void {
    this.#latencies.push(ms);
    this.totalRequests++;
    if (version !== undefined) this.#answers[version] = (this.#answers[version] ?? 0) + 1;
    if (error !== undefined) {
      this.#failures++;
      this.totalFailures++;
      this.#errors[error] = (this.#errors[error] ?? 0) + 1;
    }
  }

  /** The figures since the last call, and starts a new window. */
  window(): DestinationFigures {
    const now = performance.now();
    const sorted = this.#latencies.sort((a, b) => a - b);
    const described = this.#describe();
    const endpoints: EndpointFigures[] = described.endpoints.map((e) => {
      const before = this.#completed.get(e.endpoint) ?? 0;
      this.#completed.set(e.endpoint, e.completed);
      return {
        endpoint: e.endpoint,
        version: e.labels?.version ?? this.#versions(e.endpoint),
        health: e.health,
        calls: Math.max(0, e.completed - before),
      };
    });
    const route = described.route;
    const mirroredTotal = route?.mirrors?.sent ?? 0;
    const figures: DestinationFigures = {
      destination: this.destination,
      windowMs: now - this.#since,
      requests: sorted.length,
      failures: this.#failures,
      errors: this.#errors,
      p50Ms: round(percentile(sorted, 50)),
      p99Ms: round(percentile(sorted, 99)),
      endpoints,
      versions: this.#answers,
      route: route && {
        rules: route.rules,
        mirrored: Math.max(0, mirroredTotal - this.#mirrored),
        mirroredTotal,
      },
      policy: described.policy as Record<string, unknown>,
      resolver: described.resolver,
    };
    this.#mirrored = mirroredTotal;
    this.#latencies = [];
    this.#failures = 0;
    this.#errors = {};
    this.#answers = {};
    this.#since = now;
    return figures;
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
