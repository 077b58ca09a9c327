/**
 * The config service's own Prometheus metrics at `GET /metrics` (any valid token: a scrape config
 * gives it as `authorization`): requests and their latency by route, the store's revision, open
 * watch streams, and the traffic window (reporters, series, reports, refused rows).
 *
 * Made with the OpenTelemetry SDK and its Prometheus exporter, on a meter provider of its own: the
 * packages are already the mesh's (the libraries speak `@opentelemetry/api`, the examples export
 * with this exporter), the names follow the same conventions as the data plane's, and nothing is
 * registered globally, so an application embedding the service keeps its own provider.
 */
import { type Attributes, ValueType } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/store.ts';
import type { TrafficWindow } from '../traffic/window.ts';

export interface MetricsSources {
  store: Store;
  window: TrafficWindow;
  watchStreams: () => number;
}

/** Request-duration buckets in seconds (the semantic conventions' recommendation). */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

export function metricsRoutes(app: FastifyInstance, sources: MetricsSources): { shutdown(): Promise<void> } {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  const meter = provider.getMeter('@weft/control-plane');
  const duration = meter.createHistogram('http.server.request.duration', {
    unit: 's',
    description: 'Duration of the config service’s HTTP requests (watch streams: until the stream ends).',
    advice: { explicitBucketBoundaries: BUCKETS },
  });
  let revision = 0;
  const gauges = {
    revision: meter.createObservableGauge('weft.config.store.revision', {
      description: 'The store’s global revision.',
      valueType: ValueType.INT,
    }),
    streams: meter.createObservableGauge('weft.config.watch.streams', {
      description: 'Watch streams open on this replica.',
      valueType: ValueType.INT,
    }),
    reporters: meter.createObservableGauge('weft.config.traffic.reporters', {
      description: 'Processes that sent a traffic report within the window (15 min).',
      valueType: ValueType.INT,
    }),
    series: meter.createObservableGauge('weft.config.traffic.series', {
      description: 'Series held by the traffic window (caller × destination × subset × endpoint).',
      valueType: ValueType.INT,
    }),
    reports: meter.createObservableCounter('weft.config.traffic.reports', {
      description: 'Traffic reports accepted.',
      valueType: ValueType.INT,
    }),
    refused: meter.createObservableCounter('weft.config.traffic.rows_refused', {
      description: 'Report rows refused because the window held its most series.',
      valueType: ValueType.INT,
    }),
  };
  meter.addBatchObservableCallback((result) => {
    const { window } = sources;
    const stats = window.stats;
    result.observe(gauges.revision, revision);
    result.observe(gauges.streams, sources.watchStreams());
    result.observe(gauges.reporters, window.reportersSince(window.now() - 15 * 60_000));
    result.observe(gauges.series, stats.series);
    result.observe(gauges.reports, stats.reportsAccepted);
    result.observe(gauges.refused, stats.rowsRefused);
  }, Object.values(gauges));

  const started = new WeakMap<object, number>();
  app.addHook('onRequest', async (req) => {
    started.set(req, performance.now());
  });
  app.addHook('onResponse', async (req, reply) => {
    const t0 = started.get(req);
    if (t0 === undefined) return;
    const attributes: Attributes = {
      'http.request.method': req.method,
      'http.route': req.routeOptions.url ?? 'unmatched',
      'http.response.status_code': reply.statusCode,
    };
    duration.record((performance.now() - t0) / 1000, attributes);
  });

  const serializer = new PrometheusSerializer();
  app.get('/metrics', async (_req, reply) => {
    revision = await sources.store.revision();
    const { resourceMetrics, errors } = await exporter.collect();
    if (errors.length) app.log.warn({ errors }, 'metrics collection had errors');
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return serializer.serialize(resourceMetrics);
  });
  return { shutdown: () => provider.shutdown() };
}
