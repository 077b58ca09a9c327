/**
 * The settings in force for one service, from the two `Telemetry` documents and the environment.
 * Each field is taken from the first that sets it: the service's own document, the mesh's
 * (`name: mesh`), the standard `OTEL_*` variables, the built-in default. Pure, so the precedence is
 * tested without an SDK; the SDK side (`start.ts`) applies what changed.
 */
import {
  HEADER_ENV_PREFIX,
  MESH_TELEMETRY,
  type OtlpProtocol,
  TELEMETRY_DEFAULTS,
  type TelemetryHeaderValue,
  type TelemetrySpec,
} from '@weft/core/config';

export type Signal = 'traces' | 'metrics';
export type AttributeValue = string | number | boolean;

/** Where one signal goes. */
export interface SignalExport {
  /** The full URL (`…/v1/traces`, `…/v1/metrics`). */
  readonly endpoint: string;
  readonly protocol: OtlpProtocol;
  /** Resolved header values (secrets read from the environment). Never printed by `describe()`. */
  readonly headers: Readonly<Record<string, string>>;
  /** Where the endpoint came from: a document (`Telemetry/<name>`) or `environment`. */
  readonly source: string;
}

export interface EffectiveTelemetry {
  /** Undefined: traces are sampled and recorded as configured but not exported. */
  readonly traces: SignalExport | undefined;
  /** Undefined: metrics are not collected for export (other readers, e.g. Prometheus, still read them). */
  readonly metrics: SignalExport | undefined;
  /** Share of root traces sampled (parent-based). */
  readonly samplingRatio: number;
  readonly exportIntervalMs: number;
  /** Added over the SDK's resource (`service.name` and the rest stay the process's). */
  readonly resourceAttributes: Readonly<Record<string, AttributeValue>>;
  /** What could not be honoured (a missing `fromEnv` variable, a bad `OTEL_*` value). */
  readonly problems: readonly string[];
}

export type Env = Readonly<Record<string, string | undefined>>;

const ENV_PROTOCOLS: readonly string[] = ['http/protobuf', 'http/json'];
const SIGNAL_ENV = { traces: 'TRACES', metrics: 'METRICS' } as const;

/** The first defined value. */
const first = <T>(...values: (T | undefined)[]): T | undefined => values.find((v) => v !== undefined);

function envEndpoint(signal: Signal, env: Env): string | undefined {
  const own = env[`OTEL_EXPORTER_OTLP_${SIGNAL_ENV[signal]}_ENDPOINT`]?.trim();
  if (own) return own;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? `${base.replace(/\/+$/, '')}/v1/${signal}` : undefined;
}

function envProtocol(signal: Signal, env: Env, problems: string[]): OtlpProtocol | undefined {
  const name = `OTEL_EXPORTER_OTLP_${SIGNAL_ENV[signal]}_PROTOCOL`;
  const [variable, value] = env[name]?.trim()
    ? [name, env[name]?.trim()]
    : ['OTEL_EXPORTER_OTLP_PROTOCOL', env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim()];
  if (!value) return undefined;
  if (ENV_PROTOCOLS.includes(value)) return value as OtlpProtocol;
  problems.push(`${variable}=${value}: only http/protobuf and http/json are supported; using the default`);
  return undefined;
}

function envNumber(name: string, env: Env, problems: string[], min: number, max: number): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (Number.isFinite(n) && n >= min && n <= max) return n;
  problems.push(`${name}=${raw}: must be a number from ${min} to ${max}; ignored`);
  return undefined;
}

/** The ratio `OTEL_TRACES_SAMPLER` (+ `_ARG`) asks for, when it names one of the ratio samplers. */
function envSamplingRatio(env: Env, problems: string[]): number | undefined {
  const sampler = env.OTEL_TRACES_SAMPLER?.trim();
  if (!sampler) return undefined;
  if (sampler === 'always_on' || sampler === 'parentbased_always_on') return 1;
  if (sampler === 'always_off' || sampler === 'parentbased_always_off') return 0;
  if (sampler === 'traceidratio' || sampler === 'parentbased_traceidratio')
    return envNumber('OTEL_TRACES_SAMPLER_ARG', env, problems, 0, 1) ?? 1;
  problems.push(`OTEL_TRACES_SAMPLER=${sampler}: not a ratio sampler; sampling every trace (parent-based)`);
  return undefined;
}

function resolveHeaders(
  headers: Readonly<Record<string, TelemetryHeaderValue>>,
  env: Env,
  where: string,
  problems: string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string') out[name] = value;
    else if (!value.fromEnv.startsWith(HEADER_ENV_PREFIX)) problems.push(`${where}.${name}: refused`);
    else {
      const secret = env[value.fromEnv];
      if (secret === undefined || secret === '')
        problems.push(`${where}.${name}: ${value.fromEnv} is not set in this process; header not sent`);
      else out[name] = secret;
    }
  }
  return out;
}

function resolveSignal(
  signal: Signal,
  docs: readonly (readonly [string, TelemetrySpec | undefined])[],
  env: Env,
  problems: string[],
): SignalExport | undefined {
  const field = <K extends 'endpoint' | 'protocol' | 'headers' | 'enabled'>(key: K) => {
    for (const [name, spec] of docs) {
      const value = spec?.[signal]?.[key];
      if (value !== undefined) return { value, source: `Telemetry/${name}` };
    }
    return undefined;
  };
  if (field('enabled')?.value === false) return undefined;
  const fromDoc = field('endpoint');
  const endpoint = fromDoc?.value ?? envEndpoint(signal, env);
  if (endpoint === undefined) return undefined;
  const headers = field('headers');
  return {
    endpoint,
    protocol:
      first(field('protocol')?.value, envProtocol(signal, env, problems)) ?? TELEMETRY_DEFAULTS.protocol,
    headers: headers
      ? resolveHeaders(headers.value, env, `${headers.source}: spec.${signal}.headers`, problems)
      : {},
    source: fromDoc?.source ?? 'environment',
  };
}

/**
 * The settings for `service`, whose own document is `own` and the mesh's `mesh` (either may be
 * missing). `headers` is one field (a service's replaces the mesh's whole: a set of credentials is
 * not mixed); `resourceAttributes` are merged key by key, the service's over the mesh's.
 */
export function resolveTelemetry(
  service: string,
  mesh: TelemetrySpec | undefined,
  own: TelemetrySpec | undefined,
  env: Env,
): EffectiveTelemetry {
  const problems: string[] = [];
  const ordered = [
    [service, own],
    [MESH_TELEMETRY, mesh],
  ] as const;
  return {
    traces: resolveSignal('traces', ordered, env, problems),
    metrics: resolveSignal('metrics', ordered, env, problems),
    samplingRatio:
      first(own?.traces?.samplingRatio, mesh?.traces?.samplingRatio, envSamplingRatio(env, problems)) ??
      TELEMETRY_DEFAULTS.samplingRatio,
    exportIntervalMs:
      first(
        own?.metrics?.exportIntervalMs,
        mesh?.metrics?.exportIntervalMs,
        envNumber('OTEL_METRIC_EXPORT_INTERVAL', env, problems, 1000, 3_600_000),
      ) ?? TELEMETRY_DEFAULTS.exportIntervalMs,
    resourceAttributes: { ...mesh?.resourceAttributes, ...own?.resourceAttributes },
    problems: [...new Set(problems)], // one bad OTEL_* variable may concern both signals
  };
}
