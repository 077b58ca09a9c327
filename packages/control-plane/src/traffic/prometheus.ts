/**
 * The traffic views read from a Prometheus server instead of the embedded window, for a mesh whose
 * processes already export their OpenTelemetry metrics to one. The source asks Prometheus (its
 * HTTP API, PromQL) for Weft's own per-attempt client histograms — `http.client.request.duration`
 * and `rpc.client.duration`, labelled with the destination (`server.address`), the endpoint
 * (`network.peer.address`, `network.peer.port`), the Route subset and `error.type` on failures —
 * grouped by the caller's label (`job` by default: a scrape job per service), and computes the same
 * views as the embedded window from those rows: the quantiles interpolate within the histogram's
 * buckets as `histogram_quantile` does, and the failures are counted by `error.type`.
 *
 * What Prometheus does not have is left out: the client's live view of an endpoint (`state`).
 */
import type { TrafficSource } from './routes.ts';
import type { Edge, Metrics, ServiceTraffic, TrafficGraph } from './views.ts';

export interface PrometheusSourceOptions {
  /** The Prometheus server, e.g. `http://127.0.0.1:9090`. */
  url: string;
  /** The label that names the calling service. Defaults to `job`. */
  callerLabel?: string;
  /** Timeout of one query in ms. Defaults to 10000. */
  timeoutMs?: number;
  /** Extra request headers (a bearer token for a Prometheus behind a proxy). Defaults to none. */
  headers?: Record<string, string>;
}

const DURATIONS = 'http_client_request_duration|rpc_client_duration';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}
interface RangeSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

/** One caller × destination × subset × endpoint, as read from Prometheus. */
interface Row {
  from: string;
  to: string;
  subset: string;
  endpoint: string;
  requests: number;
  failures: Record<string, number>;
  /** Cumulative counts by upper bound (seconds). */
  buckets: Map<number, number>;
}

export function prometheusSource(options: PrometheusSourceOptions): TrafficSource {
  const base = options.url.replace(/\/+$/, '');
  const caller = options.callerLabel ?? 'job';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const by = `${caller}, server_address, weft_route_subset, network_peer_address, network_peer_port`;

  async function api<T>(path: string, params: Record<string, string>): Promise<T> {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
      body: new URLSearchParams(params),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.json()) as { status: string; data?: { result: T }; error?: string };
    if (body.status !== 'success' || !body.data)
      throw new Error(`Prometheus refused the query: ${body.error ?? res.status}`);
    return body.data.result;
  }
  const query = (q: string) => api<Sample[]>('/api/v1/query', { query: q });

  async function rows(windowS: number, filter = ''): Promise<Row[]> {
    const w = `${windowS}s`;
    const sel = (suffix: string, extra = '') =>
      `{__name__=~"${DURATIONS.split('|')
        .map((m) => `${m}_${suffix}`)
        .join('|')}"${filter}${extra}}`;
    const [counts, failures, buckets] = await Promise.all([
      query(`sum by (${by}) (increase(${sel('count')}[${w}]))`),
      query(`sum by (${by}, error_type) (increase(${sel('count', ',error_type!=""')}[${w}]))`),
      query(`sum by (${by}, le) (increase(${sel('bucket')}[${w}]))`),
    ]);
    const out = new Map<string, Row>();
    const rowOf = (m: Record<string, string>) => {
      const endpoint = m.network_peer_address ? `${m.network_peer_address}:${m.network_peer_port ?? ''}` : '';
      const key = [m[caller], m.server_address, m.weft_route_subset, endpoint].join('\u0000');
      let row = out.get(key);
      if (row === undefined) {
        row = {
          from: m[caller] || 'unknown',
          to: m.server_address ?? 'unknown',
          subset: m.weft_route_subset ?? '',
          endpoint,
          requests: 0,
          failures: {},
          buckets: new Map(),
        };
        out.set(key, row);
      }
      return row;
    };
    for (const s of counts) rowOf(s.metric).requests += Number(s.value[1]);
    for (const s of failures) {
      const row = rowOf(s.metric);
      const type = s.metric.error_type ?? 'error';
      row.failures[type] = (row.failures[type] ?? 0) + Number(s.value[1]);
    }
    for (const s of buckets) {
      const le = s.metric.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.metric.le);
      const row = rowOf(s.metric);
      row.buckets.set(le, (row.buckets.get(le) ?? 0) + Number(s.value[1]));
    }
    return [...out.values()].filter((r) => r.requests > 0);
  }

  async function reporters(windowS: number): Promise<number> {
    const r = await query(
      `count(group by (${caller}, instance) (last_over_time({__name__=~"${DURATIONS.split('|')
        .map((m) => `${m}_count`)
        .join('|')}"}[${windowS}s])))`,
    );
    return r.length ? Number(r[0]!.value[1]) : 0;
  }

  return {
    kind: 'prometheus',
    async graph(windowS): Promise<TrafficGraph> {
      const [all, count] = await Promise.all([rows(windowS), reporters(windowS)]);
      const edges = groupBy(all, (r) => `${r.from}\u0000${r.to}`);
      const inbound = groupBy(all, (r) => r.to);
      const outbound = groupBy(all, (r) => r.from);
      const services = [...new Set([...inbound.keys(), ...outbound.keys()])].sort();
      return {
        windowS,
        now: new Date().toISOString(),
        reporters: count,
        nodes: services.map((service) => ({
          service,
          inbound: metrics(inbound.get(service) ?? [], windowS),
          outbound: metrics(outbound.get(service) ?? [], windowS),
        })),
        edges: [...edges.values()]
          .map((g) => ({ from: g[0]!.from, to: g[0]!.to, ...metrics(g, windowS) }))
          .sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to)),
      };
    },
    async service(service, windowS): Promise<ServiceTraffic> {
      const esc = service.replace(/["\\]/g, '\\$&');
      const [toIt, fromIt, points] = await Promise.all([
        rows(windowS, `,server_address="${esc}"`),
        rows(windowS, `,${caller}="${esc}"`),
        series(windowS, `server_address="${esc}"`),
      ]);
      const edge = (g: Row[]): Edge => ({ from: g[0]!.from, to: g[0]!.to, ...metrics(g, windowS) });
      const outbound = [...groupBy(fromIt, (r) => r.to).values()].map(edge);
      const totals = new Map(outbound.map((e) => [e.to, e.requests]));
      return {
        service,
        windowS,
        now: new Date().toISOString(),
        inbound: [...groupBy(toIt, (r) => r.from).values()]
          .map(edge)
          .sort((a, b) => a.from.localeCompare(b.from)),
        outbound: outbound.sort((a, b) => a.to.localeCompare(b.to)),
        subsets: [...groupBy(fromIt, (r) => `${r.to}\u0000${r.subset}`).values()].map((g) => ({
          destination: g[0]!.to,
          subset: g[0]!.subset,
          ...metrics(g, windowS),
        })),
        endpoints: fromIt.map((r) => {
          const m = metrics([r], windowS);
          const total = totals.get(r.to) ?? 0;
          return {
            destination: r.to,
            subset: r.subset,
            endpoint: r.endpoint,
            ...m,
            share: total > 0 ? Math.round((m.requests / total) * 1e6) / 1e6 : 0,
          };
        }),
        destinations: outbound.map(({ from: _f, to, ...m }) => ({ destination: to, ...m })),
        series: points,
      };
    },
  };

  async function series(windowS: number, filter: string): Promise<ServiceTraffic['series']> {
    const stepS = Math.max(10, Math.ceil(windowS / 90));
    const end = Math.floor(Date.now() / 1000);
    const range = { start: String(end - windowS), end: String(end), step: String(stepS) };
    const names = (suffix: string) =>
      `{__name__=~"${DURATIONS.split('|')
        .map((m) => `${m}_${suffix}`)
        .join('|')}",${filter}`;
    const r = `${stepS}s`;
    const [rps, failed, p99] = await Promise.all([
      api<RangeSeries[]>('/api/v1/query_range', { ...range, query: `sum(rate(${names('count')}}[${r}]))` }),
      api<RangeSeries[]>('/api/v1/query_range', {
        ...range,
        query: `sum(rate(${names('count')},error_type!=""}[${r}]))`,
      }),
      api<RangeSeries[]>('/api/v1/query_range', {
        ...range,
        query: `histogram_quantile(0.99, sum by (le) (rate(${names('bucket')}}[${r}])))`,
      }),
    ]);
    const at = (s: RangeSeries[] | undefined) =>
      new Map((s?.[0]?.values ?? []).map(([t, v]) => [t, Number(v)]));
    const [rv, fv, pv] = [at(rps), at(failed), at(p99)];
    const points = [];
    for (let t = end - windowS; t <= end; t += stepS) {
      const total = rv.get(t) ?? 0;
      const p = pv.get(t);
      points.push({
        t: new Date(t * 1000).toISOString(),
        rps: round(total, 3),
        successRate: total > 0 ? round(1 - (fv.get(t) ?? 0) / total, 6) : null,
        p99Ms: p === undefined || !Number.isFinite(p) ? null : round(p * 1000, 3),
      });
    }
    return { stepS, points };
  }
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

function groupBy(rows: Row[], key: (r: Row) => string): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const r of rows) {
    const k = key(r);
    const g = out.get(k);
    if (g) g.push(r);
    else out.set(k, [r]);
  }
  return out;
}

/** The golden metrics of rows added up (counts from `increase` are rounded to whole requests). */
function metrics(rows: Row[], windowS: number): Metrics {
  let requests = 0;
  const failuresByClass: Record<string, number> = {};
  const buckets = new Map<number, number>();
  for (const r of rows) {
    requests += r.requests;
    for (const k in r.failures) failuresByClass[k] = (failuresByClass[k] ?? 0) + r.failures[k]!;
    for (const [le, n] of r.buckets) buckets.set(le, (buckets.get(le) ?? 0) + n);
  }
  for (const k in failuresByClass) failuresByClass[k] = Math.round(failuresByClass[k]!);
  const failures = Object.values(failuresByClass).reduce((a, b) => a + b, 0);
  const total = Math.round(requests);
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  return {
    requests: total,
    failures,
    failuresByClass,
    rps: round(requests / windowS, 3),
    successRate: total > 0 ? round(Math.max(0, total - failures) / total, 6) : null,
    p50Ms: histogramQuantile(sorted, 0.5),
    p95Ms: histogramQuantile(sorted, 0.95),
    p99Ms: histogramQuantile(sorted, 0.99),
  };
}

/**
 * The `q` quantile in ms of cumulative buckets `[upper bound in s, count]` (ascending), by linear
 * interpolation within the bucket, as PromQL's `histogram_quantile`; null without observations.
 */
export function histogramQuantile(buckets: readonly [number, number][], q: number): number | null {
  const total = buckets.at(-1)?.[1] ?? 0;
  if (!(total > 0)) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [le, count] of buckets) {
    if (count >= rank) {
      // The open-ended bucket answers with the highest finite bound, as Prometheus does.
      if (!Number.isFinite(le)) return round(lower * 1000, 3);
      const inBucket = count - below;
      const v = inBucket > 0 ? lower + ((le - lower) * (rank - below)) / inBucket : le;
      return round(v * 1000, 3);
    }
    lower = Number.isFinite(le) ? le : lower;
    below = count;
  }
  return round(lower * 1000, 3);
}
