/**
 * The service graph page: services as nodes, calls as edges labelled with rps, success rate and
 * p99, coloured by health, redrawn from `GET /v1/traffic` every poll.
 */
import { get, getOptional } from './api.ts';
import { fill, h, health, ms, pct, rps } from './dom.ts';
import { layeredLayout } from './layout.ts';
import type { TrafficGraph } from './types.ts';

const SVG = 'http://www.w3.org/2000/svg';
const svg = (tag: string, attrs: Record<string, string | number>, text?: string) => {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
};

export interface GraphPage {
  readonly element: HTMLElement;
  refresh(): Promise<void>;
}

export function graphPage(windowS: () => number): GraphPage {
  const status = h('p', { class: 'muted', 'data-test': 'graph-status' }, 'loading…');
  const canvas = h('div', { class: 'graph', 'data-test': 'graph' });
  const table = h('div', { class: 'edges' });
  const element = h('section', {}, h('h2', {}, 'Service graph'), status, canvas, table);

  async function refresh(): Promise<void> {
    const [traffic, services] = await Promise.all([
      getOptional<TrafficGraph>(`/v1/traffic?windowS=${windowS()}`),
      get<{ services: { name: string }[] }>('/v1/services'),
    ]);
    const ids = new Set<string>(services.services.map((s) => s.name));
    for (const n of traffic?.nodes ?? []) ids.add(n.service);
    for (const e of traffic?.edges ?? []) {
      ids.add(e.from);
      ids.add(e.to);
    }
    const edges = traffic?.edges ?? [];
    fill(
      status,
      traffic
        ? `${traffic.reporters} reporting processes · last ${traffic.windowS} s · ${new Date(traffic.now).toLocaleTimeString()}`
        : 'This config service has no traffic API yet: services from the registry only.',
    );
    const { nodes, width, height } = layeredLayout([...ids], edges);
    const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img' });
    const defs = svg('defs', {});
    for (const state of ['ok', 'warn', 'bad', 'idle']) {
      const marker = svg('marker', {
        id: `arrow-${state}`,
        viewBox: '0 0 10 10',
        refX: 10,
        refY: 5,
        markerWidth: 7,
        markerHeight: 7,
        orient: 'auto-start-reverse',
      });
      marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: `arrowhead ${state}` }));
      defs.append(marker);
    }
    root.append(defs);
    for (const e of edges) {
      const a = nodes.get(e.from);
      const b = nodes.get(e.to);
      if (!a || !b) continue;
      const state = health(e.successRate);
      const x1 = a.x + 70;
      const x2 = b.x - 70;
      const bend = Math.max(40, Math.abs(x2 - x1) / 2);
      const d =
        e.from === e.to
          ? `M${a.x + 40},${a.y - 22} C${a.x + 90},${a.y - 90} ${a.x - 90},${a.y - 90} ${a.x - 40},${a.y - 22}`
          : `M${x1},${a.y} C${x1 + bend},${a.y} ${x2 - bend},${b.y} ${x2},${b.y}`;
      const g = svg('g', {
        class: `edge ${state}`,
        'data-test': 'edge',
        'data-from': e.from,
        'data-to': e.to,
      });
      g.append(svg('path', { d, 'marker-end': `url(#arrow-${state})` }));
      const lx = (x1 + x2) / 2;
      const ly = (a.y + b.y) / 2 - 8;
      g.append(svg('text', { x: lx, y: ly, class: 'edge-label', 'text-anchor': 'middle' }, rps(e.rps)));
      g.append(
        svg(
          'text',
          { x: lx, y: ly + 14, class: 'edge-label sub', 'text-anchor': 'middle' },
          `${pct(e.successRate)} · p99 ${ms(e.p99Ms)}`,
        ),
      );
      root.append(g);
    }
    const inbound = new Map(traffic?.nodes.map((n) => [n.service, n.inbound]) ?? []);
    for (const node of nodes.values()) {
      const m = inbound.get(node.id);
      const state = m && m.requests > 0 ? health(m.successRate) : 'idle';
      const link = svg('a', { href: `#/service/${encodeURIComponent(node.id)}` });
      const g = svg('g', { class: `node ${state}`, 'data-test': 'node', 'data-service': node.id });
      g.append(svg('rect', { x: node.x - 70, y: node.y - 24, width: 140, height: 48, rx: 10 }));
      g.append(
        svg('text', { x: node.x, y: node.y - 3, 'text-anchor': 'middle', class: 'node-name' }, node.id),
      );
      g.append(
        svg(
          'text',
          { x: node.x, y: node.y + 14, 'text-anchor': 'middle', class: 'node-sub' },
          m && m.requests > 0 ? `in ${rps(m.rps)} · ${pct(m.successRate)}` : 'no inbound calls',
        ),
      );
      link.append(g);
      root.append(link);
    }
    fill(canvas, root);
    fill(
      table,
      edges.length
        ? h(
            'table',
            { 'data-test': 'edge-table' },
            h('tr', {}, ...['from', 'to', 'rps', 'success', 'p50', 'p95', 'p99'].map((c) => h('th', {}, c))),
            ...edges.map((e) =>
              h(
                'tr',
                { class: health(e.successRate) },
                h('td', {}, e.from),
                h('td', {}, h('a', { href: `#/service/${encodeURIComponent(e.to)}` }, e.to)),
                h('td', { class: 'num' }, rps(e.rps)),
                h('td', { class: 'num' }, pct(e.successRate, 2)),
                h('td', { class: 'num' }, ms(e.p50Ms)),
                h('td', { class: 'num' }, ms(e.p95Ms)),
                h('td', { class: 'num' }, ms(e.p99Ms)),
              ),
            ),
          )
        : null,
    );
  }
  return { element, refresh };
}
