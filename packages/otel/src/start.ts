/**
 * `startTelemetry`: starts the OpenTelemetry SDK for one service and keeps it following the
 * `Telemetry` documents. The SDK is built once with pieces that can be re-pointed (a sampler, a span
 * exporter and a metric reader that delegate), so a document change applies to the running process:
 * no restart, no provider rebuilt, no span or data point dropped on the way.
 */
import { randomUUID } from 'node:crypto';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace';
import { checkKnownKeys, ErrorCode, invalidOption, validateServiceName, WeftError } from '@weft/core';
import { MESH_TELEMETRY, type TelemetrySpec } from '@weft/core/config';
import { exporterKey, metricExporter, spanExporter } from './exporters.ts';
import { START_TELEMETRY_DEFAULTS, START_TELEMETRY_KEYS, type StartTelemetryOptions } from './options.ts';
import { ResourceOverlay } from './resource-overlay.ts';
import { type EffectiveTelemetry, resolveTelemetry, type SignalExport } from './settings.ts';
import { SteeredMetricReader } from './steered-metric-reader.ts';
import { SteeredSampler } from './steered-sampler.ts';
import { SteeredSpanExporter } from './steered-span-exporter.ts';

export interface Telemetry {
  /** The settings in force. */
  readonly settings: EffectiveTelemetry;
  /** For an admin endpoint: the settings with header names only (never their values), and where each endpoint came from. */
  describe(): Record<string, unknown>;
  /** Exports what is buffered now. */
  forceFlush(): Promise<void>;
  /** Stops following the documents, flushes, shuts the SDK down and unregisters it from the API. */
  shutdown(): Promise<void>;
}

/** One SDK per process: the API has one global provider of each kind. */
let running = false;

function ms(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max)
    throw invalidOption(name, `must be an integer from ${min} to ${max}`);
  return v;
}

const describeSignal = (s: SignalExport | undefined) =>
  s && { endpoint: s.endpoint, protocol: s.protocol, headers: Object.keys(s.headers), source: s.source };

export function startTelemetry(options: StartTelemetryOptions): Telemetry {
  checkKnownKeys('startTelemetry', options, START_TELEMETRY_KEYS);
  const service = validateServiceName(options.service);
  const config = options.config;
  if (
    config !== undefined &&
    (typeof config.telemetry !== 'function' || typeof config.subscribe !== 'function')
  )
    throw invalidOption('config', 'must be a ConfigClient (createConfigClient): telemetry and subscribe');
  const d = START_TELEMETRY_DEFAULTS;
  const exportTimeoutMs = ms('exportTimeoutMs', options.exportTimeoutMs, d.exportTimeoutMs, 100, 60_000);
  const spanExportDelayMs = ms(
    'spanExportDelayMs',
    options.spanExportDelayMs,
    d.spanExportDelayMs,
    1,
    60_000,
  );
  const env = options.env ?? process.env;
  if (running)
    throw new WeftError(
      ErrorCode.InvalidOption,
      'startTelemetry: the SDK is already started in this process; shut it down first',
    );

  let mesh: TelemetrySpec | undefined = config?.telemetry(MESH_TELEMETRY);
  let own: TelemetrySpec | undefined = config?.telemetry(service);
  let settings = resolveTelemetry(service, mesh, own, env);

  const overlay = new ResourceOverlay();
  overlay.set(settings.resourceAttributes);
  const sampler = new SteeredSampler(settings.samplingRatio);
  const spans = new SteeredSpanExporter(overlay);
  const reader = new SteeredMetricReader({
    intervalMs: settings.exportIntervalMs,
    timeoutMs: exportTimeoutMs,
    overlay,
  });
  const targets = { traces: '', metrics: '' };
  const applyExporters = () => {
    const traceKey = exporterKey(settings.traces);
    if (traceKey !== targets.traces) {
      targets.traces = traceKey;
      spans.setTarget(settings.traces && spanExporter(settings.traces, exportTimeoutMs));
    }
    const metricKey = exporterKey(settings.metrics);
    if (metricKey !== targets.metrics) {
      targets.metrics = metricKey;
      reader.setTarget(settings.metrics && metricExporter(settings.metrics, exportTimeoutMs));
    }
  };
  applyExporters();

  const batch = new BatchSpanProcessor({
    exporter: spans,
    scheduledDelayMillis: spanExportDelayMs,
    exportTimeoutMillis: exportTimeoutMs,
  });
  const sdk = new NodeSDK({
    serviceName: service,
    resource: resourceFromAttributes({
      ...options.resourceAttributes,
      'service.instance.id': options.instanceId ?? randomUUID(),
    }),
    sampler,
    spanProcessors: [batch, ...(options.spanProcessors ?? [])],
    metricReaders: [reader, ...(options.metricReaders ?? [])],
    // Logs are not steered by the documents: none rather than the SDK's default of OTLP to localhost.
    logRecordProcessors: [],
    instrumentations: options.instrumentations ?? [],
  });
  sdk.start();
  running = true;

  const announce = () => {
    try {
      options.onChange?.(settings);
    } catch {} // a faulty listener must not stop the SDK from following the documents
  };
  const onRevision = () => {
    const nextMesh = config?.telemetry(MESH_TELEMETRY);
    const nextOwn = config?.telemetry(service);
    // The client keeps a document's spec object until it changes: most revisions are about others.
    if (nextMesh === mesh && nextOwn === own) return;
    mesh = nextMesh;
    own = nextOwn;
    settings = resolveTelemetry(service, mesh, own, env);
    sampler.setRatio(settings.samplingRatio);
    reader.setIntervalMs(settings.exportIntervalMs);
    if (JSON.stringify(settings.resourceAttributes) !== JSON.stringify(overlay.attributes))
      overlay.set(settings.resourceAttributes);
    applyExporters();
    announce();
  };
  const unsubscribe = config?.subscribe(onRevision);
  announce();

  let stopping: Promise<void> | undefined;
  return {
    get settings() {
      return settings;
    },
    describe: () => ({
      service,
      revision: config?.revision,
      traces: describeSignal(settings.traces) ?? 'not exported',
      metrics: describeSignal(settings.metrics) ?? 'not exported',
      samplingRatio: settings.samplingRatio,
      exportIntervalMs: settings.exportIntervalMs,
      resourceAttributes: settings.resourceAttributes,
      problems: settings.problems,
    }),
    async forceFlush() {
      await Promise.all([batch.forceFlush(), reader.forceFlush()]);
    },
    shutdown() {
      stopping ??= (async () => {
        unsubscribe?.();
        try {
          await sdk.shutdown();
        } finally {
          trace.disable();
          metrics.disable();
          propagation.disable();
          context.disable();
          running = false;
        }
      })();
      return stopping;
    },
  };
}
