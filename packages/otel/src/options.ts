/**
 * The options of {@link startTelemetry}, checked when it is called: an unknown key or a bad value is
 * a `WEFT_INVALID_OPTION` naming it.
 */

import type { IMetricReader } from '@opentelemetry/sdk-metrics';
import type { NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { KeySet } from '@weft/core';
import type { TelemetrySpec } from '@weft/core/config';
import type { AttributeValue, EffectiveTelemetry, Env } from './settings.ts';

/** What `startTelemetry` reads the documents from: a `ConfigClient` (`createConfigClient`) has it all. */
export interface TelemetrySource {
  /** The validated `Telemetry` of `name` (`mesh` or a service). */
  telemetry(name: string): TelemetrySpec | undefined;
  /** Called after each change; returns an unsubscribe. */
  subscribe(listener: (event: { revision: number }) => void): () => void;
  readonly revision: number;
}

export interface StartTelemetryOptions {
  /** The service's name in the mesh: the resource's `service.name` and the name of its own `Telemetry` document. Required. */
  service: string;
  /**
   * Where the `Telemetry` documents come from (a `ConfigClient`). Defaults to none: the standard
   * `OTEL_*` variables and the defaults only, as without a config service.
   */
  config?: TelemetrySource;
  /** The resource's `service.instance.id`. Defaults to a random UUID. */
  instanceId?: string;
  /** Resource attributes in code; the documents' `resourceAttributes` are laid over them. Defaults to none. */
  resourceAttributes?: Readonly<Record<string, AttributeValue>>;
  /** More metric readers (a Prometheus exporter, …), which the documents do not steer. Defaults to none. */
  metricReaders?: readonly IMetricReader[];
  /** More span processors, which the documents do not steer. Defaults to none. */
  spanProcessors?: readonly SpanProcessor[];
  /** Instrumentations for the SDK. Defaults to none: Weft's own spans and metrics need none. */
  instrumentations?: NodeSDKConfiguration['instrumentations'];
  /** How long an ended span waits in the batch before it is exported, in ms (1–60000). Defaults to 5000, the SDK's. */
  spanExportDelayMs?: number;
  /** Longest wait for one export, in ms (100–60000). Defaults to 10000. */
  exportTimeoutMs?: number;
  /**
   * Where the `OTEL_*` variables and the headers' `fromEnv` variables are read. Defaults to
   * `process.env`. (The SDK itself still reads `process.env` for what this package does not set:
   * `OTEL_RESOURCE_ATTRIBUTES`, propagators.)
   */
  env?: Env;
  /** Called with the settings after each change is applied (and once at start). Defaults to none. */
  onChange?: (settings: EffectiveTelemetry) => void;
}

export const START_TELEMETRY_DEFAULTS = {
  spanExportDelayMs: 5000,
  exportTimeoutMs: 10_000,
} as const;

export const START_TELEMETRY_KEYS = {
  service: true,
  config: true,
  instanceId: true,
  resourceAttributes: true,
  metricReaders: true,
  spanProcessors: true,
  instrumentations: true,
  spanExportDelayMs: true,
  exportTimeoutMs: true,
  env: true,
  onChange: true,
} as const satisfies KeySet<StartTelemetryOptions>;
