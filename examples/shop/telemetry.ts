/**
 * OpenTelemetry for a demo service. Weft's libraries depend only on `@opentelemetry/api` (a library
 * must not pick the SDK for its users); each demo service starts the SDK with `@weft/otel`, which
 * follows the config service's `Telemetry` documents: the launcher writes `Telemetry/mesh` (1% of
 * traces sampled, metrics every 10 s, and OTLP endpoints when `OTEL_EXPORTER_OTLP_ENDPOINT` is set),
 * and `weft apply` of another one re-points every service within seconds, without a restart.
 *
 * - Traces: OTLP to where the documents say; with no endpoint anywhere, the console exporter
 *   (`OTEL_TRACES_EXPORTER=console`, the launcher's default) writes the sampled spans into the
 *   service's log file.
 * - Metrics: a Prometheus endpoint, `GET /metrics` on a port of its own chosen by the OS (a gRPC
 *   service has no HTTP server to share), and OTLP as well when the documents name an endpoint.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { ConsoleSpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { createConfigClient } from '@weft/core/config';
import { startTelemetry as startSdk } from '@weft/otel';

export interface Telemetry {
  /** Port of the Prometheus endpoint (`http://127.0.0.1:<port>/metrics`). */
  readonly metricsPort: number;
  /** Flushes and stops the SDK, closes the metrics endpoint. */
  shutdown(): Promise<void>;
}

/** `Telemetry/mesh` as the launcher writes it: `endpoint` is the OTLP/HTTP collector, if any. */
export function meshTelemetry(endpoint: string | undefined): Record<string, unknown> {
  const base = endpoint?.replace(/\/+$/, '');
  return {
    traces: { samplingRatio: 0.01, ...(base ? { endpoint: `${base}/v1/traces` } : {}) },
    metrics: { exportIntervalMs: 10_000, ...(base ? { endpoint: `${base}/v1/metrics` } : {}) },
    resourceAttributes: { 'deployment.environment.name': 'demo' },
  };
}

export async function startTelemetry(serviceName: string, instance: string): Promise<Telemetry> {
  // Its own config-service client (WEFT_CONTROL_PLANE, WEFT_TOKEN), watching no other service's
  // instances: a process that has one already (the frontend) could pass that one instead.
  const config = createConfigClient({ services: [serviceName] });
  await config.ready();
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const sdk = startSdk({
    service: serviceName,
    config,
    instanceId: instance,
    metricReaders: [prometheus],
    spanProcessors:
      process.env.OTEL_TRACES_EXPORTER === 'console'
        ? [new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() })]
        : [],
  });

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
      await config.close();
    },
  };
}
