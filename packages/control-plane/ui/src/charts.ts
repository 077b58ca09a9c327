/**
 * Golden-metric charts over the traffic window with uPlot (a ~50 KB canvas chart library with no
 * dependencies): requests per second, success rate and p99 latency of the service as destination.
 */
import uPlot from 'uplot';
import { h } from './dom.ts';
import type { ServiceTraffic } from './types.ts';

type Series = ServiceTraffic['series'];

/** `15:04:05` for a time in seconds: one line, unlike uPlot's default date-and-time ticks. */
const clock = (s: number) => new Date(s * 1000).toTimeString().slice(0, 8);

const CHARTS = [
  { key: 'rps', label: 'requests/s', stroke: '#3b82f6', fmt: (v: number) => v.toFixed(1) },
  { key: 'successRate', label: 'success rate %', stroke: '#16a34a', fmt: (v: number) => v.toFixed(1) },
  { key: 'p99Ms', label: 'p99 ms', stroke: '#d97706', fmt: (v: number) => v.toFixed(1) },
] as const;

export interface Charts {
  readonly element: HTMLElement;
  update(series: Series): void;
}

export function goldenCharts(): Charts {
  const element = h('div', { class: 'charts', 'data-test': 'charts' });
  const plots = new Map<string, uPlot>();
  function data(series: Series, key: (typeof CHARTS)[number]['key']): uPlot.AlignedData {
    const xs = series.points.map((p) => Date.parse(p.t) / 1000);
    const ys = series.points.map((p) => {
      const v = p[key];
      if (v === null) return null;
      return key === 'successRate' ? v * 100 : v;
    });
    return [xs, ys];
  }
  return {
    element,
    update(series) {
      for (const chart of CHARTS) {
        const d = data(series, chart.key);
        const existing = plots.get(chart.key);
        if (existing) {
          existing.setData(d);
          continue;
        }
        const holder = h('div', { class: 'chart' });
        element.append(holder);
        const plot = new uPlot(
          {
            title: chart.label,
            width: 360,
            height: 180,
            legend: { show: false },
            cursor: { drag: { x: false, y: false } },
            scales: { x: { time: true }, y: chart.key === 'successRate' ? { range: [0, 100] } : {} },
            axes: [
              { values: (_u, ticks) => ticks.map(clock), space: 80 },
              { values: (_u, ticks) => ticks.map((t) => chart.fmt(t)), size: 60 },
            ],
            series: [{}, { label: chart.label, stroke: chart.stroke, width: 2, spanGaps: false }],
          },
          d,
          holder,
        );
        plots.set(chart.key, plot);
      }
    },
  };
}
