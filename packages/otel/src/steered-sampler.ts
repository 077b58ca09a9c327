/**
 * A parent-based ratio sampler whose ratio can change while spans are being started. The SDK holds
 * one sampler for its whole life, so this one delegates to a `ParentBasedSampler` that is replaced
 * whole on a change: the hot path pays one extra call, never a lock or a lookup.
 */
import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  type SamplingResult,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace';

const rootSampler = (ratio: number): Sampler =>
  ratio >= 1
    ? new AlwaysOnSampler()
    : ratio <= 0
      ? new AlwaysOffSampler()
      : new TraceIdRatioBasedSampler(ratio);

export class SteeredSampler implements Sampler {
  #ratio: number;
  #delegate: Sampler;

  constructor(ratio: number) {
    this.#ratio = ratio;
    this.#delegate = new ParentBasedSampler({ root: rootSampler(ratio) });
  }

  get ratio(): number {
    return this.#ratio;
  }

  /** Root spans started from now on are sampled with `ratio`; children keep following their parent. */
  setRatio(ratio: number): void {
    if (ratio === this.#ratio) return;
    this.#ratio = ratio;
    this.#delegate = new ParentBasedSampler({ root: rootSampler(ratio) });
  }

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    return this.#delegate.shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `WeftSteeredSampler{ratio=${this.#ratio}}`;
  }
}
