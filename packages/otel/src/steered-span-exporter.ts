/**
 * The span exporter the SDK's batch processor is given once, delegating to the OTLP exporter of the
 * current settings. A change of endpoint, protocol or headers swaps the target: spans still in the
 * batch go to the new one, exports in flight finish on the old one (then it is shut down). With no
 * target (nothing to export to), spans are dropped here, after sampling, as the SDK's no-op would.
 */
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { ResourceOverlay } from './resource-overlay.ts';
import { Retiring } from './retiring.ts';

export class SteeredSpanExporter implements SpanExporter {
  #target: SpanExporter | undefined;
  readonly #overlay: ResourceOverlay;
  readonly #retiring = new Retiring();

  constructor(overlay: ResourceOverlay) {
    this.#overlay = overlay;
  }

  get target(): SpanExporter | undefined {
    return this.#target;
  }

  setTarget(next: SpanExporter | undefined): void {
    const previous = this.#target;
    this.#target = next;
    if (previous) this.#retiring.retire(previous);
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const target = this.#target;
    if (target === undefined) {
      done({ code: ExportResultCode.SUCCESS });
      return;
    }
    target.export(this.#withResource(spans), done);
  }

  /** Each span seen through an object whose only own property is the resource with the overlay. */
  #withResource(spans: ReadableSpan[]): ReadableSpan[] {
    if (Object.keys(this.#overlay.attributes).length === 0) return spans;
    return spans.map((span) => {
      const resource = this.#overlay.apply(span.resource);
      return Object.create(span, { resource: { value: resource, enumerable: true } }) as ReadableSpan;
    });
  }

  async forceFlush(): Promise<void> {
    await this.#target?.forceFlush?.();
  }

  async shutdown(): Promise<void> {
    const target = this.#target;
    this.#target = undefined;
    if (target) this.#retiring.retire(target);
    await this.#retiring.settled();
  }
}
