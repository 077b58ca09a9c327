/**
 * OpenTelemetry for a demo service. Weft itself depends only on `@opentelemetry/api` (a library must
 * not pick the SDK for its users); an application starts the SDK, as each demo service does here.
 *
 * - Traces: configured by the standard environment variables, which the launcher fills in when you
 *   leave them unset: `OTEL_TRACES_EXPORTER=console` (spans go to the service's log file), or `otlp`
 *   when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; 1% of traces sampled
 *   (`OTEL_TRACES_SAMPLER=parentbased_traceidratio`, `OTEL_TRACES_SAMPLER_ARG=0.01`).
 * - Metrics: a Prometheus endpoint, `GET /metrics` on a port of its own chosen by the OS (a gRPC
 *   service has no HTTP server to share), and OTLP as well when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { metrics, NodeSDK } from '@opentelemetry/sdk-node';

export interface Telemetry {
  /** Port of the Prometheus endpoint (`http://127.0.0.1:<port>/metrics`). */
  readonly metricsPort: number;
  /** Flushes and stops the SDK, closes the metrics endpoint. */
  shutdown(): Promise<void>;
}

export async function startTelemetry(serviceName: string, instance: string): Promise<Telemetry> {
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const readers: metrics.IMetricReader[] = [prometheus];
  if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT)
    readers.push(new metrics.PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter() }));
  process.env.OTEL_RESOURCE_ATTRIBUTES = [
    process.env.OTEL_RESOURCE_ATTRIBUTES,
    `service.instance.id=${instance}`,
  ]
    .filter(Boolean)
    .join(',');
  const sdk = new NodeSDK({ serviceName, metricReaders: readers, instrumentations: [] });
  sdk.start();

  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics')
      prometheus.getMetricsRequestHandler(req, res);
    else {
      res.statusCode = 404;
      res.end('try /metrics\n');
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    metricsPort: (server.address() as AddressInfo).port,
    async shutdown() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Flushes what is buffered, but an unreachable collector must not hold up the demo's exit.
      await Promise.race([
        sdk.shutdown().catch(() => {}),
        new Promise((resolve) => setTimeout(resolve, 1000).unref()),
      ]);
    },
  };
}
