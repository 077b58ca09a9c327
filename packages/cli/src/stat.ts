/**
 * `weft stat [service]` and `weft top`: the config service's golden metrics in the terminal, after
 * `linkerd viz stat` and `linkerd viz top`. `stat` prints one table per service (what it served),
 * or, for one service, its callers, its destinations, the subsets and the endpoints it called with
 * their share and health. `top` prints the busiest edges and endpoints and refreshes (`--once`
 * prints them once, for scripts). Both read `GET /v1/traffic…` over `--window` seconds.
 */
import type { Api } from './api.ts';
import { type Output, table, UsageError } from './commands.ts';

/** One set of golden metrics, as `GET /v1/traffic…` returns it. */
interface Metrics {
  requests: number;
  failures: number;
  rps: number;
  successRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}
type Edge = { from: string; to: string } & Metrics;
interface Graph {
  windowS: number;
  reporters: number;
  nodes: { service: string; inbound: Metrics; outbound: Metrics }[];
  edges: Edge[];
}
type EndpointRow = { destination: string; subset: string; endpoint: string; share: number } & Metrics & {
    state?: { healthy: boolean; ejected: boolean; latencyEstimateMs: number | null };
  };
interface ServiceView {
  service: string;
  inbound: Edge[];
  outbound: Edge[];
  subsets: ({ destination: string; subset: string } & Metrics)[];
  endpoints: EndpointRow[];
}

export const STAT_WINDOW = { min: 10, max: 900, default: 60 } as const;

/** Checks `--window` (seconds). */
export function windowSeconds(value: number): number {
  if (value < STAT_WINDOW.min || value > STAT_WINDOW.max)
    throw new UsageError(`--window: expected ${STAT_WINDOW.min} to ${STAT_WINDOW.max} seconds, got ${value}`);
  return value;
}

const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(2)}%`);
const rps = (v: number) => v.toFixed(1);
export const ms = (v: number | null) =>
  v === null
    ? '-'
    : v >= 1000
      ? `${(v / 1000).toFixed(2)}s`
      : v >= 10
        ? `${Math.round(v)}ms`
        : `${v.toFixed(1)}ms`;
const golden = (m: Metrics) => [pct(m.successRate), rps(m.rps), ms(m.p50Ms), ms(m.p95Ms), ms(m.p99Ms)];
const GOLDEN = ['SUCCESS', 'RPS', 'P50', 'P95', 'P99'];
const health = (e: EndpointRow) => (e.state === undefined ? '-' : e.state.ejected ? 'ejected' : 'healthy');

async function read<T>(request: Api, path: string, windowS: number): Promise<T> {
  return (await request('GET', `${path}?windowS=${windowS}`)).body as T;
}

function statMesh(graph: Graph): string {
  const rows = [['SERVICE', ...GOLDEN, 'CALLS OUT RPS']];
  for (const n of graph.nodes) rows.push([n.service, ...golden(n.inbound), rps(n.outbound.rps)]);
  const footer = `${graph.reporters} reporting process(es), last ${graph.windowS}s`;
  return graph.nodes.length === 0
    ? `no traffic in the last ${graph.windowS}s`
    : `${table(rows)}\n\n${footer}`;
}

function statService(view: ServiceView, windowS: number): string {
  const parts: string[] = [];
  if (view.inbound.length) {
    const rows = [['FROM', ...GOLDEN]];
    for (const e of view.inbound) rows.push([e.from, ...golden(e)]);
    parts.push(`calls to ${view.service}:\n${table(rows)}`);
  }
  if (view.outbound.length) {
    const rows = [['TO', ...GOLDEN]];
    for (const e of view.outbound) rows.push([e.to, ...golden(e)]);
    parts.push(`calls from ${view.service}:\n${table(rows)}`);
  }
  if (view.subsets.some((s) => s.subset !== '')) {
    const rows = [['DESTINATION', 'SUBSET', ...GOLDEN]];
    for (const s of view.subsets) rows.push([s.destination, s.subset || '-', ...golden(s)]);
    parts.push(`by subset:\n${table(rows)}`);
  }
  if (view.endpoints.length) parts.push(`by endpoint:\n${endpointTable(view.endpoints)}`);
  return parts.length ? parts.join('\n\n') : `no traffic to or from ${view.service} in the last ${windowS}s`;
}

function endpointTable(endpoints: readonly EndpointRow[]): string {
  const rows = [['DESTINATION', 'SUBSET', 'ENDPOINT', 'SHARE', 'HEALTH', 'ESTIMATE', ...GOLDEN]];
  for (const e of endpoints)
    rows.push([
      e.destination,
      e.subset || '-',
      e.endpoint,
      `${Math.round(e.share * 100)}%`,
      health(e),
      ms(e.state?.latencyEstimateMs ?? null),
      ...golden(e),
    ]);
  return table(rows);
}

export async function stat(
  request: Api,
  o: Output,
  service: string | undefined,
  windowS: number,
): Promise<void> {
  if (service === undefined) {
    const graph = await read<Graph>(request, '/v1/traffic', windowS);
    o.write(o.json ? JSON.stringify(graph, null, 2) : statMesh(graph));
    return;
  }
  const view = await read<ServiceView>(
    request,
    `/v1/traffic/services/${encodeURIComponent(service)}`,
    windowS,
  );
  o.write(o.json ? JSON.stringify(view, null, 2) : statService(view, windowS));
}

export interface TopOptions {
  windowS: number;
  /** Rows per table. */
  limit: number;
  /** Print once and return. */
  once: boolean;
  /** Seconds between refreshes. */
  intervalS: number;
  /** Resolves when the view should stop refreshing (Ctrl-C). */
  stopped?: Promise<void>;
}

/** One frame of `weft top`: the busiest edges, then the busiest endpoints of their callers. */
async function topFrame(request: Api, options: TopOptions): Promise<{ text: string; json: unknown }> {
  const graph = await read<Graph>(request, '/v1/traffic', options.windowS);
  const edges = [...graph.edges].sort((a, b) => b.rps - a.rps).slice(0, options.limit);
  const callers = [...new Set(edges.map((e) => e.from))];
  const views = await Promise.all(
    callers.map((c) =>
      read<ServiceView>(request, `/v1/traffic/services/${encodeURIComponent(c)}`, options.windowS),
    ),
  );
  const endpoints = views
    .flatMap((v) => v.endpoints.map((e) => ({ ...e, from: v.service })))
    .sort((a, b) => b.rps - a.rps)
    .slice(0, options.limit);
  const edgeRows = [['FROM', 'TO', ...GOLDEN]];
  for (const e of edges) edgeRows.push([e.from, e.to, ...golden(e)]);
  const epRows = [['FROM', 'DESTINATION', 'ENDPOINT', 'HEALTH', ...GOLDEN]];
  for (const e of endpoints) epRows.push([e.from, e.destination, e.endpoint, health(e), ...golden(e)]);
  const text =
    edges.length === 0
      ? `no traffic in the last ${graph.windowS}s`
      : `busiest edges (last ${graph.windowS}s, ${graph.reporters} reporting):\n${table(edgeRows)}\n\nbusiest endpoints:\n${table(epRows)}`;
  return { text, json: { windowS: graph.windowS, edges, endpoints } };
}

export async function top(request: Api, o: Output, options: TopOptions): Promise<void> {
  if (options.limit < 1) throw new UsageError('--limit: expected at least 1');
  if (options.intervalS < 1) throw new UsageError('--interval: expected at least 1 second');
  let stop = false;
  void options.stopped?.then(() => {
    stop = true;
  });
  for (;;) {
    const frame = await topFrame(request, options);
    if (options.once) {
      o.write(o.json ? JSON.stringify(frame.json, null, 2) : frame.text);
      return;
    }
    // Clear the screen and redraw from the top left.
    o.write(o.json ? JSON.stringify(frame.json) : `\u001b[2J\u001b[H${frame.text}`);
    const waited = await Promise.race([
      new Promise<'tick'>((r) => setTimeout(() => r('tick'), options.intervalS * 1000)),
      (options.stopped ?? new Promise<never>(() => {})).then(() => 'stop' as const),
    ]);
    if (stop || waited === 'stop') return;
  }
}
