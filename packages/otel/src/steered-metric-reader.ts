/**
 * A periodic metric reader whose interval and exporter change while it runs (the SDK's
 * `PeriodicExportingMetricReader` fixes both, and a meter provider cannot drop a reader). Data is
 * cumulative, so a change of destination loses nothing: the new one gets the running totals from
 * its first export. No target: the reader does not even collect.
 */
import { diag } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { MetricReader, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ResourceOverlay } from './resource-overlay.ts';
import { Retiring } from './retiring.ts';

export interface SteeredMetricReaderOptions {
  intervalMs: number;
  /** Longest wait for one collection and export. */
  timeoutMs: number;
  overlay: ResourceOverlay;
}

export class SteeredMetricReader extends MetricReader {
  #target: PushMetricExporter | undefined;
  #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #overlay: ResourceOverlay;
  readonly #retiring = new Retiring();
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> | undefined;
  #started = false;

  constructor(options: SteeredMetricReaderOptions) {
    super();
    this.#intervalMs = options.intervalMs;
    this.#timeoutMs = options.timeoutMs;
    this.#overlay = options.overlay;
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  get target(): PushMetricExporter | undefined {
    return this.#target;
  }

  setTarget(next: PushMetricExporter | undefined): void {
    const previous = this.#target;
    this.#target = next;
    if (previous) this.#retiring.retire(previous);
    this.#schedule();
  }

  /** The next export is `ms` from now, then every `ms`. */
  setIntervalMs(ms: number): void {
    if (ms === this.#intervalMs) return;
    this.#intervalMs = ms;
    this.#schedule();
  }

  protected override onInitialized(): void {
    this.#started = true;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (!this.#started || this.#target === undefined) return;
    this.#timer = setInterval(() => void this.#exportOnce(), this.#intervalMs);
    this.#timer.unref();
  }

  /** One collection and export; a tick while one is running is skipped, not queued. */
  #exportOnce(): Promise<void> {
    if (this.#running) return this.#running;
    this.#running = this.#collectAndSend().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #collectAndSend(): Promise<void> {
    const target = this.#target;
    if (target === undefined) return;
    try {
      const { resourceMetrics, errors } = await this.collect({ timeoutMillis: this.#timeoutMs });
      if (errors.length) diag.error('weft/otel: metric collection errors', ...errors);
      if (resourceMetrics.scopeMetrics.length === 0) return;
      const batch: ResourceMetrics = {
        ...resourceMetrics,
        resource: this.#overlay.apply(resourceMetrics.resource),
      };
      const result = await new Promise<{ code: ExportResultCode; error?: Error }>((resolve) =>
        target.export(batch, resolve),
      );
      if (result.code !== ExportResultCode.SUCCESS)
        diag.error(`weft/otel: metrics export failed: ${result.error?.message ?? 'unknown error'}`);
    } catch (error) {
      diag.error('weft/otel: metrics export threw', error);
    }
  }

  protected override async onForceFlush(): Promise<void> {
    await this.#exportOnce();
    await this.#target?.forceFlush();
  }

  protected override async onShutdown(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#started = false;
    await this.#exportOnce();
    const target = this.#target;
    this.#target = undefined;
    if (target) this.#retiring.retire(target);
    await this.#retiring.settled();
  }
}
