/**
 * The `Telemetry` document: where a service's OpenTelemetry SDK sends traces and metrics, how often
 * metrics go, which share of traces is sampled and which resource attributes are added. `name: mesh`
 * holds the mesh-wide settings; `name: <service>` overrides them for one service, field by field.
 * Libraries never read it: an application-level package (`@weft/otel`) starts the SDK and follows it.
 *
 * ```yaml
 * kind: Telemetry
 * name: mesh
 * spec:
 *   traces:  { endpoint: http://collector:4318/v1/traces, samplingRatio: 0.05 }
 *   metrics: { endpoint: http://collector:4318/v1/metrics, exportIntervalMs: 15000 }
 *   resourceAttributes: { deployment.environment.name: prod }
 * ```
 *
 * Every token holder of the config service can read documents, so a header value written here (an
 * API key) is readable by all of them. `{ fromEnv: NAME }` keeps the secret in the process's own
 * environment instead: the document names the variable, the process reads it when it builds the
 * exporter. Only variables named `WEFT_OTLP_…` can be named, so a document cannot make a process send
 * its config-service token or cloud credentials anywhere.
 */
import { z } from 'zod';

/** The name of the mesh-wide document. */
export const MESH_TELEMETRY = 'mesh';

/** The prefix every `fromEnv` variable must have. */
export const HEADER_ENV_PREFIX = 'WEFT_OTLP_';

/** Resource attributes the SDK sets from the process itself, which a document must not replace. */
export const RESERVED_RESOURCE_ATTRIBUTES: readonly string[] = ['service.name', 'service.instance.id'];

/** The OTLP transports over HTTP (gRPC is not offered: one fewer native dependency in applications). */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** Defaults applied by `@weft/otel` when neither document nor environment sets a field. */
export const TELEMETRY_DEFAULTS = {
  protocol: 'http/protobuf',
  exportIntervalMs: 60_000,
  samplingRatio: 1,
} as const satisfies { protocol: OtlpProtocol; exportIntervalMs: number; samplingRatio: number };

const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]{1,256}$/;

const HeaderName = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.string().regex(HEADER_NAME, 'must be an HTTP header name (a token)'));

const HeaderValue = z.union(
  [
    z
      .string()
      .max(8192)
      .refine((s) => !/[\r\n\0]/.test(s), 'must not contain CR, LF or NUL'),
    z.strictObject({
      fromEnv: z
        .string()
        .regex(
          new RegExp(`^${HEADER_ENV_PREFIX}[A-Z0-9_]{1,120}$`),
          `must name an environment variable starting with ${HEADER_ENV_PREFIX} (upper case, digits, _)`,
        ),
    }),
  ],
  { error: 'must be a string or { fromEnv: "WEFT_OTLP_…" }' },
);
/** A header's value: literal (readable by every token holder) or read from the process's environment. */
export type TelemetryHeaderValue = z.infer<typeof HeaderValue>;

const Endpoint = z
  .string()
  .max(2048)
  .refine((s) => URL.canParse(s) && /^https?:$/.test(new URL(s).protocol), 'must be an http(s) URL');

/** What both signals share: where to send and how. */
const exportFields = {
  /** The full URL of the signal's OTLP/HTTP endpoint (`…/v1/traces`, `…/v1/metrics`). */
  endpoint: Endpoint.optional(),
  /** Defaults to `http/protobuf`. */
  protocol: z.enum(OTLP_PROTOCOLS, { error: `must be one of ${OTLP_PROTOCOLS.join(', ')}` }).optional(),
  /** Headers of each export request (replaced whole, not merged, by a service's document). */
  headers: z.record(HeaderName, HeaderValue).optional(),
  /** False stops exporting this signal. Defaults to true when an endpoint is known. */
  enabled: z.boolean().optional(),
};

export const TelemetryTraces = z.strictObject({
  ...exportFields,
  /**
   * Share of root traces sampled, 0–1; a span with a parent follows its parent's decision (parent-
   * based, so a trace is never cut in half). Defaults to 1.
   */
  samplingRatio: z.number().min(0, 'must be from 0 to 1').max(1, 'must be from 0 to 1').optional(),
});

export const TelemetryMetrics = z.strictObject({
  ...exportFields,
  /** Milliseconds between two exports. Defaults to 60000. */
  exportIntervalMs: z
    .number()
    .int('must be an integer')
    .min(1000, 'must be from 1000 to 3600000')
    .max(3_600_000, 'must be from 1000 to 3600000')
    .optional(),
});

const AttributeKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9._/-]+$/, 'attribute keys are letters, digits and . _ / -')
  .refine((k) => !RESERVED_RESOURCE_ATTRIBUTES.includes(k), 'is set by the process itself');

export const TelemetrySpec = z.strictObject({
  traces: TelemetryTraces.optional(),
  metrics: TelemetryMetrics.optional(),
  /** Added to the resource of everything exported (merged key by key over the mesh's). */
  resourceAttributes: z
    .record(AttributeKey, z.union([z.string().max(4096), z.number(), z.boolean()]))
    .refine((r) => Object.keys(r).length <= 64, 'at most 64 attributes')
    .optional(),
});
export type TelemetrySpec = z.infer<typeof TelemetrySpec>;
export type TelemetryTraces = z.infer<typeof TelemetryTraces>;
export type TelemetryMetrics = z.infer<typeof TelemetryMetrics>;

/**
 * `spec` with every literal header value replaced by `"(redacted)"` (`fromEnv` names stay): for
 * `describe()` output, which admin endpoints serve to whoever can reach them.
 */
export function redactTelemetry(spec: TelemetrySpec): TelemetrySpec {
  const redact = <S extends { headers?: Record<string, TelemetryHeaderValue> | undefined }>(
    s: S | undefined,
  ) =>
    s?.headers === undefined
      ? s
      : {
          ...s,
          headers: Object.fromEntries(
            Object.entries(s.headers).map(([k, v]) => [k, typeof v === 'string' ? '(redacted)' : v]),
          ),
        };
  const out: TelemetrySpec = { ...spec };
  if (spec.traces) out.traces = redact(spec.traces);
  if (spec.metrics) out.metrics = redact(spec.metrics);
  return out;
}
