/**
 * A small recording TracerProvider written against `@opentelemetry/api`: real span contexts (ids
 * from a seeded generator), parent links taken from the context, ended spans kept for assertions.
 * The SDK's own provider (`@opentelemetry/sdk-trace-base` 2.x) declares a peer range of
 * `@opentelemetry/api` below the 1.10 this workspace uses, so the tests carry their own.
 */
import {
  type Attributes,
  type AttributeValue,
  type Context,
  type Span,
  type SpanContext,
  SpanKind,
  type SpanOptions,
  type SpanStatus,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { seededRandom } from '@weft/core/testing';

export interface RecordedSpan {
  name: string;
  kind: SpanKind;
  context: SpanContext;
  parentSpanId: string | undefined;
  attributes: Attributes;
  status: SpanStatus;
  exceptions: unknown[];
  ended: boolean;
}

export class RecordingTracerProvider implements TracerProvider {
  readonly spans: RecordedSpan[] = [];
  readonly #random = seededRandom(77);

  hex(bytes: number): string {
    let s = '';
    for (let i = 0; i < bytes; i++)
      s += Math.floor(this.#random() * 256)
        .toString(16)
        .padStart(2, '0');
    return s;
  }

  getTracer(): Tracer {
    const provider = this;
    const startSpan = (name: string, options: SpanOptions = {}, ctx?: Context): Span => {
      const parent = ctx ? trace.getSpanContext(ctx) : undefined;
      const valid = parent !== undefined && trace.isSpanContextValid(parent);
      const record: RecordedSpan = {
        name,
        kind: options.kind ?? SpanKind.INTERNAL,
        context: {
          traceId: valid ? parent.traceId : provider.hex(16),
          spanId: provider.hex(8),
          traceFlags: TraceFlags.SAMPLED,
        },
        parentSpanId: valid ? parent.spanId : undefined,
        attributes: { ...(options.attributes ?? {}) },
        status: { code: SpanStatusCode.UNSET },
        exceptions: [],
        ended: false,
      };
      const span: Span = {
        spanContext: () => record.context,
        setAttribute(key: string, value: AttributeValue) {
          record.attributes[key] = value;
          return span;
        },
        setAttributes(attributes: Attributes) {
          Object.assign(record.attributes, attributes);
          return span;
        },
        addEvent: () => span,
        addLink: () => span,
        addLinks: () => span,
        setStatus(status: SpanStatus) {
          record.status = status;
          return span;
        },
        updateName(n: string) {
          record.name = n;
          return span;
        },
        end() {
          if (record.ended) return;
          record.ended = true;
          provider.spans.push(record);
        },
        isRecording: () => !record.ended,
        recordException(exception: unknown) {
          record.exceptions.push(exception);
        },
      };
      return span;
    };
    return {
      startSpan,
      startActiveSpan: ((name: string, ...rest: unknown[]) => {
        const fn = rest.at(-1) as (span: Span) => unknown;
        return fn(startSpan(name));
      }) as Tracer['startActiveSpan'],
    };
  }
}
