/**
 * The page of one service, as a destination and as a caller: golden-metric charts over the window,
 * its endpoints (from the registry, with the health, ejection, latency estimate and share of calls
 * its callers last reported), the calls it makes, its effective policy, its Route with the split
 * sliders and its kill switch, and its Rollout when it has one. Traffic parts are redrawn every poll; documents when written.
 */
import { get, getOptional } from './api.ts';
import { goldenCharts } from './charts.ts';
import { fill, h, health, ms, pct, rps } from './dom.ts';
import { policySection } from './policy.ts';
import { rolloutSection } from './rollout.ts';
import { routeSection } from './route.ts';
import { switchSection } from './switch.ts';
import type { EndpointTraffic, Instance, Metrics, ServiceTraffic } from './types.ts';

const metricCells = (m: Metrics) => [
  h('td', { class: 'num' }, rps(m.rps)),
  h('td', { class: `num ${health(m.successRate)}` }, pct(m.successRate, 2)),
  h('td', { class: 'num' }, ms(m.p99Ms)),
];
const metricHeads = ['rps', 'success', 'p99'].map((c) => h('th', {}, c));

export interface ServicePage {
  readonly element: HTMLElement;
  refresh(): Promise<void>;
}

export function servicePage(service: string, canWrite: boolean, windowS: () => number): ServicePage {
  const enc = encodeURIComponent(service);
  const notice = h('p', { class: 'muted' });
  const charts = goldenCharts();
  const endpoints = h('div', { 'data-test': 'endpoints' });
  const calls = h('div', { 'data-test': 'calls' });
  const written = () => {
    for (const el of element.querySelectorAll('[data-test="route"]'))
      el.dispatchEvent(new Event('route:reload'));
  };
  const rollout = rolloutSection(service, canWrite, () => written());
  const element = h(
    'section',
    { 'data-test': 'service-page', 'data-service': service },
    h('h2', {}, h('a', { href: '#/' }, 'graph'), ' › ', service),
    notice,
    rollout.element,
    h('section', { class: 'card' }, h('h3', {}, `Calls to ${service}`), charts.element),
    h('section', { class: 'card' }, h('h3', {}, 'Endpoints'), endpoints),
    h('section', { class: 'card' }, h('h3', {}, `Calls ${service} makes`), calls),
    h(
      'div',
      { class: 'columns' },
      routeSection(service, canWrite, written),
      h('div', {}, policySection(service), switchSection(service, canWrite, written)),
    ),
  );

  async function refresh(): Promise<void> {
    const w = windowS();
    const [own, registry] = await Promise.all([
      getOptional<ServiceTraffic>(`/v1/traffic/services/${enc}?windowS=${w}`),
      get<{ instances: Instance[] }>(`/v1/services/${enc}/endpoints`),
      rollout.refresh(),
    ]);
    fill(notice, own ? '' : 'This config service has no traffic API yet: registry and documents only.');
    if (own) charts.update(own.series);
    // How the callers' clients see this service's endpoints: from each caller's own report.
    const callers = [...new Set((own?.inbound ?? []).map((e) => e.from))];
    const views = await Promise.all(
      callers.map((c) =>
        getOptional<ServiceTraffic>(`/v1/traffic/services/${encodeURIComponent(c)}?windowS=${w}`),
      ),
    );
    const seen = new Map<string, EndpointTraffic[]>();
    for (const v of views)
      for (const e of v?.endpoints ?? [])
        if (e.destination === service)
          (seen.get(e.endpoint) ?? seen.set(e.endpoint, []).get(e.endpoint)!).push(e);
    const total = [...seen.values()].flat().reduce((a, e) => a + e.requests, 0);
    const ids = new Set([...registry.instances.map((i) => i.id), ...seen.keys()]);
    fill(
      endpoints,
      h(
        'table',
        {},
        h(
          'tr',
          {},
          ...[
            'endpoint',
            'subset',
            'labels',
            'registered',
            'share',
            'healthy',
            'ejected',
            'latency est.',
          ].map((c) => h('th', {}, c)),
          ...metricHeads,
        ),
        ...[...ids].sort().map((id) => {
          const inst = registry.instances.find((i) => i.id === id);
          const reports = seen.get(id) ?? [];
          const m = merge(reports);
          const state = reports.find((r) => r.state)?.state;
          const ejected = reports.some((r) => r.state?.ejected);
          const unhealthy = reports.some((r) => r.state && !r.state.healthy);
          return h(
            'tr',
            { 'data-test': 'endpoint', 'data-endpoint': id },
            h('td', { class: 'mono' }, id),
            h('td', {}, [...new Set(reports.map((r) => r.subset || '–'))].join(', ') || '–'),
            h(
              'td',
              { class: 'muted' },
              inst
                ? Object.entries(inst.labels)
                    .map(([k, v]) => `${k}=${v}`)
                    .join(' ')
                : '',
            ),
            h('td', {}, inst ? 'yes' : 'no (gone)'),
            h('td', { class: 'num' }, total ? pct(m.requests / total) : '–'),
            h('td', { class: unhealthy ? 'bad' : 'ok' }, state ? (unhealthy ? 'no' : 'yes') : '–'),
            h('td', { class: ejected ? 'bad' : '' }, state ? (ejected ? 'ejected' : 'no') : '–'),
            h('td', { class: 'num' }, ms(state?.latencyEstimateMs)),
            ...metricCells(m),
          );
        }),
      ),
    );
    const subsets = own?.subsets ?? [];
    fill(
      calls,
      subsets.length
        ? h(
            'table',
            {},
            h('tr', {}, h('th', {}, 'destination'), h('th', {}, 'subset'), ...metricHeads),
            ...subsets.map((s) =>
              h(
                'tr',
                {},
                h(
                  'td',
                  {},
                  h('a', { href: `#/service/${encodeURIComponent(s.destination)}` }, s.destination),
                ),
                h('td', {}, s.subset || '(no Route)'),
                ...metricCells(s),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'none in the window'),
    );
  }
  return { element, refresh };
}

/** Sums several callers' reports of one endpoint (rates add; latencies: the worst caller's). */
function merge(reports: readonly EndpointTraffic[]): Metrics {
  const requests = reports.reduce((a, r) => a + r.requests, 0);
  const failures = reports.reduce((a, r) => a + r.failures, 0);
  const worst = (k: 'p50Ms' | 'p95Ms' | 'p99Ms') =>
    reports.reduce<number | null>((a, r) => (r[k] === null ? a : Math.max(a ?? 0, r[k]!)), null);
  return {
    requests,
    failures,
    failuresByClass: {},
    rps: reports.reduce((a, r) => a + r.rps, 0),
    successRate: requests ? (requests - failures) / requests : null,
    p50Ms: worst('p50Ms'),
    p95Ms: worst('p95Ms'),
    p99Ms: worst('p99Ms'),
  };
}
