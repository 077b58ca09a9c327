/**
 * Writes docs/configuration.md from the sources, so that the reference cannot drift from the code:
 *
 * - the DestinationPolicy document: type, range, meaning and default of each field from the zod
 *   schema (`z.toJSONSchema`), which takes them from each module's declared params (`*-params.ts`);
 * - the Route document: its fields, read from the zod schema's shapes, each checked to be described
 *   in docs/traffic.md (which holds their ranges, defaults and semantics);
 * - every options interface (clients, servers, config client, registration, config service): each
 *   property with its type and the "Defaults to …" sentence of its TSDoc, through the TypeScript
 *   compiler's type checker (so inherited options are listed too).
 *
 * Run with `npm run docs:config`; the output (formatted by Biome) is committed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  DestinationPolicy,
  PeerAuthenticationSpec,
  RolloutAnalysis,
  RolloutSpec,
  RolloutStep,
  RouteSpec,
  TelemetryMetrics,
  TelemetrySpec,
  TelemetryTraces,
  TrafficSwitchSpec,
} from '@weft/core/config';
import ts from 'typescript';
import { z } from 'zod';

const root = fileURLToPath(new URL('../../', import.meta.url));
const src = (path: string) => `${root}packages/${path}`;

// ---- TSDoc of the zod schema's properties, read from the source ----------------------------------

/** The TSDoc comment written right before a declaration, as one line. */
function leadingDoc(node: ts.Node): string {
  const text = node.getSourceFile().text;
  return (ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [])
    .map((r) => text.slice(r.pos, r.end))
    .filter((c) => c.startsWith('/**'))
    .map(cleanComment)
    .join(' ');
}

function cleanComment(comment: string): string {
  return comment
    .replace(/^\/\*\*|\*\/$/g, '')
    .split('\n')
    .map((l) => l.replace(/^\s*\* ?/, '').trim())
    .join(' ')
    .replace(/\{@link\s+([^}]+)\}/g, '`$1`')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Splits a doc into its meaning and its default ("Defaults to X."). */
function splitDefault(doc: string): { meaning: string; def: string } {
  const m = /Defaults to ([\s\S]*?)(?:\.(?:\s|$)|$)/.exec(doc);
  if (!m) return { meaning: doc, def: '' };
  const meaning = (doc.slice(0, m.index) + doc.slice(m.index + m[0].length)).trim();
  return { meaning, def: m[1]!.trim() };
}

// ---- the DestinationPolicy document ---------------------------------------------------------------

interface JsonSchema {
  type?: string;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  exclusiveMinimum?: number;
  description?: string;
}

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => `\`${v}\``).join(' \\| ');
  if (s.type === 'array') return `list of ${typeOf(s.items ?? {})}${s.maxItems ? ` (≤ ${s.maxItems})` : ''}`;
  const low = s.minimum ?? (s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : undefined);
  const range = low !== undefined || s.maximum !== undefined ? ` ${low ?? '…'}–${s.maximum ?? '…'}` : '';
  return `${s.type ?? 'any'}${range}`;
}

function policyRows(): string[] {
  // Each field's doc and default are declared once, with the module's param (`*-params.ts`), and
  // reach the schema as its description.
  const json = z.toJSONSchema(DestinationPolicy) as JsonSchema;
  const rows: string[] = [];
  const walk = (schema: JsonSchema, prefix: string) => {
    for (const [name, field] of Object.entries(schema.properties ?? {})) {
      const path = `${prefix}${name}`;
      if (field.type === 'object' && field.properties) {
        walk(field, `${path}.`);
        continue;
      }
      const { meaning, def } = splitDefault(field.description ?? '');
      // An empty string default (`hashHeader`) means "none".
      const shown = def === '``' ? 'none' : def || '—';
      rows.push(`| \`${path}\` | ${typeOf(field)} | ${shown} | ${cell(meaning)} |`);
    }
  };
  walk(json, '');
  return rows;
}

// ---- the Route document ------------------------------------------------------------------------------

/** The Route's fields by level, from the schema; each must be described in traffic.md. */
function routeFields(): string[] {
  const rule = RouteSpec.shape.rules.unwrap().element;
  const match = rule.shape.matches.unwrap().element;
  const levels = [
    ['`spec`', Object.keys(RouteSpec.shape)],
    ['a rule', Object.keys(rule.shape)],
    ['a match', Object.keys(match.shape)],
  ] as const;
  const traffic = readFileSync(fileURLToPath(new URL('../traffic.md', import.meta.url)), 'utf8');
  const missing = levels.flatMap(([, keys]) => keys.filter((k) => !traffic.includes(`| \`${k}\``)));
  if (missing.length) throw new Error(`docs/traffic.md has no row for: ${missing.join(', ')}`);
  return levels.map(([level, keys]) => `- ${level}: ${keys.map((k) => `\`${k}\``).join(', ')}`);
}

/** A document's fields, from its schema; each must have a row in security.md. */
function securityFields(schema: { shape: object }): string {
  const keys = Object.keys(schema.shape);
  const security = readFileSync(fileURLToPath(new URL('../security.md', import.meta.url)), 'utf8');
  const missing = keys.filter((k) => !security.includes(`| \`${k}\``));
  if (missing.length) throw new Error(`docs/security.md has no row for: ${missing.join(', ')}`);
  return `- \`spec\`: ${keys.map((k) => `\`${k}\``).join(', ')}`;
}

/** The Telemetry document's fields, from the schema; each must be described in control-room.md. */
function telemetryFields(): string[] {
  const levels = [
    ['`spec`', Object.keys(TelemetrySpec.shape)],
    ['`spec.traces`', Object.keys(TelemetryTraces.shape)],
    ['`spec.metrics`', Object.keys(TelemetryMetrics.shape)],
  ] as const;
  const room = readFileSync(fileURLToPath(new URL('../control-room.md', import.meta.url)), 'utf8');
  const missing = [...new Set(levels.flatMap(([, keys]) => keys))].filter(
    (k) => !room.includes(`| \`${k}\``),
  );
  if (missing.length) throw new Error(`docs/control-room.md has no row for: ${missing.join(', ')}`);
  return levels.map(([level, keys]) => `- ${level}: ${keys.map((k) => `\`${k}\``).join(', ')}`);
}

/** The Rollout's fields by level, from the schema; each must be described in progressive-delivery.md. */
function rolloutFields(): string[] {
  const levels = [
    ['`spec`', 'spec.', Object.keys(RolloutSpec.shape)],
    ['a step', 'spec.steps[].', Object.keys(RolloutStep.shape)],
    ['`spec.analysis`', 'spec.analysis.', Object.keys(RolloutAnalysis.shape)],
  ] as const;
  const page = readFileSync(fileURLToPath(new URL('../progressive-delivery.md', import.meta.url)), 'utf8');
  const missing = levels.flatMap(([, prefix, keys]) =>
    keys.map((k) => `${prefix}${k}`).filter((k) => !page.includes(`| \`${k}`)),
  );
  if (missing.length) throw new Error(`docs/progressive-delivery.md has no row for: ${missing.join(', ')}`);
  return levels.map(([level, , keys]) => `- ${level}: ${keys.map((k) => `\`${k}\``).join(', ')}`);
}

// ---- options interfaces, through the type checker -----------------------------------------------

function optionTables(
  entries: readonly { title: string; file: string; name: string; intro: string }[],
): string[] {
  const program = ts.createProgram(
    entries.map((e) => src(e.file)),
    {
      noEmit: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2023,
      allowImportingTsExtensions: true,
      customConditions: ['weft-source'],
      strict: true,
      skipLibCheck: true,
      types: ['node'],
    },
  );
  const checker = program.getTypeChecker();
  const out: string[] = [];
  for (const entry of entries) {
    const source = program.getSourceFile(src(entry.file));
    let found: ts.InterfaceDeclaration | undefined;
    source?.forEachChild((n) => {
      if (ts.isInterfaceDeclaration(n) && n.name.text === entry.name) found = n;
    });
    if (!found) throw new Error(`${entry.name} not found in ${entry.file}`);
    const type = checker.getTypeAtLocation(found);
    out.push(`### ${entry.title}`, '', `\`${entry.name}\` in \`packages/${entry.file}\`. ${entry.intro}`, '');
    out.push('| option | type | default | meaning |', '|---|---|---|---|');
    for (const prop of checker.getPropertiesOfType(type)) {
      const decl = prop.declarations?.[0];
      const doc = decl ? leadingDoc(decl) : '';
      const { meaning, def } = splitDefault(doc);
      // The type as written (`RetryPolicy | false`), not the checker's expansion of it.
      const typeText =
        decl && ts.isPropertySignature(decl) && decl.type
          ? decl.type.getText().replace(/\s+/g, ' ')
          : decl
            ? checker.typeToString(checker.getTypeOfSymbolAtLocation(prop, decl))
            : '';
      out.push(
        `| \`${prop.name}\` | \`${cell(typeText.replace(/ \| undefined$/, ''))}\` | ${cell(def) || '—'} | ${cell(meaning)} |`,
      );
    }
    out.push('');
  }
  return out;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

// ---- the document ----------------------------------------------------------------------------------

const OPTIONS = [
  {
    title: 'HTTP client: `createClient(options)`',
    file: 'http/src/client/options.ts',
    name: 'ClientOptions',
    intro: 'The policy fields here are the "options in code" layer; see [client.md](client.md).',
  },
  {
    title: 'HTTP dispatcher: `createDispatcher(options)`',
    file: 'http/src/client/dispatcher.ts',
    name: 'DispatcherOptions',
    intro: 'Routes `http://<service>/…` of plain `fetch` through Weft.',
  },
  {
    title: 'gRPC client: `createGrpcClient(Ctor, service, options)`',
    file: 'grpc/src/client/options.ts',
    name: 'GrpcClientOptions',
    intro: 'Also the options of `weftClientOptions`.',
  },
  {
    title: 'HTTP server: Express middleware and Fastify plugin',
    file: 'http/src/server/options.ts',
    name: 'ServerOptions',
    intro: 'The same for `@weft/http/express` and `@weft/http/fastify`; see [server.md](server.md).',
  },
  {
    title: 'gRPC server: `createGrpcServer(options)`',
    file: 'grpc/src/server/server.ts',
    name: 'CreateGrpcServerOptions',
    intro: '',
  },
  {
    title: 'Config-service client: `createConfigClient(options)`',
    file: 'core/src/config/client.ts',
    name: 'ConfigClientOptions',
    intro: 'See [control-plane.md](control-plane.md#the-client-and-its-cache).',
  },
  {
    title: 'Registration: `registerInstance(options)`',
    file: 'discovery/src/registry/register.ts',
    name: 'RegisterInstanceOptions',
    intro: '',
  },
  {
    title: 'Registry resolver: `registryResolver(options)`',
    file: 'discovery/src/registry/resolver.ts',
    name: 'RegistryResolverOptions',
    intro:
      'Other resolvers (static, DNS, file, Kubernetes, health checks) are in [discovery.md](discovery.md).',
  },
  {
    title: 'Identity: `createIdentity(options)`',
    file: 'discovery/src/identity/identity.ts',
    name: 'IdentityOptions',
    intro: 'See [security.md](security.md#identity-of-a-process).',
  },
  {
    title: 'Config service: `startControlPlane(options)`',
    file: 'control-plane/src/server/run.ts',
    name: 'ControlPlaneOptions',
    intro:
      'What `weft control-plane` runs; its command-line flags are in [control-plane.md](control-plane.md#running-it).',
  },
  {
    title: 'Telemetry SDK: `startTelemetry(options)`',
    file: 'otel/src/options.ts',
    name: 'StartTelemetryOptions',
    intro:
      'Starts the OpenTelemetry SDK for a service and follows its `Telemetry` documents; see [control-room.md](control-room.md#telemetry-from-the-config-service).',
  },
] as const;

const lines = [
  '<!-- Generated by docs/tools/config-reference.ts (`npm run docs:config`) from the sources. Do not edit by hand. -->',
  '',
  '# Configuration reference',
  '',
  'Every setting of Weft, with its default. Settings of a destination (how a client calls one service)',
  'come in three layers, each overriding the one before it, field by field:',
  '',
  '1. built-in defaults (the "default" column below);',
  '2. options in code (`createClient({ timeoutMs: 2000 })`);',
  '3. the config service: a `DestinationPolicy` document named after the destination.',
  '',
  "How a destination's calls are split among its instances' subsets, matched, mirrored and faulted is",
  'a `Route` document (below), from the config service or in code (the `route` option).',
  '',
  'The value in force, and where each part came from, is shown by `client.describe()` and by the',
  "server's admin endpoint (`adminPath`). Options are validated when a client is built and documents when",
  'they are written, against the same schema; an error names the field and the allowed range.',
  '',
  '## The DestinationPolicy document',
  '',
  '```yaml',
  'kind: DestinationPolicy',
  'name: catalog          # the destination service',
  'spec:                  # every field optional',
  '  timeoutMs: 1000',
  '  retry: { budget: { percent: 20 } }',
  '```',
  '',
  "Fields of `spec`. Each is a module's param, declared once beside the module (`packages/core/src/*/…-params.ts`: type, range, default and doc); `packages/core/src/config/policy.ts` assembles the schema the config service validates with:",
  '',
  '| field | type and range | default | meaning |',
  '|---|---|---|---|',
  ...policyRows(),
  '',
  'The same fields are the client options `balancer`, `timeoutMs`, `perTryTimeoutMs`, `retry`,',
  '`circuitBreaker` and `outlierDetection` (`false` turns a module off, the same as `enabled: false`).',
  '',
  '## The Route document',
  '',
  '```yaml',
  'kind: Route',
  'name: catalog          # the destination service',
  'spec:',
  '  subsets: { v1: { version: v1 }, v2: { version: v2 } }',
  '  rules:',
  '    - matches: [{ headers: [{ name: x-canary, value: "yes" }] }]',
  '      backends: [{ subset: v2 }]',
  '    - backends: [{ subset: v1, weight: 90 }, { subset: v2, weight: 10 }]',
  '```',
  '',
  'Its fields, read from the schema (`RouteSpec` in `packages/core/src/route/route-schema.ts`); each one',
  'with its type, range, default and meaning is in [traffic.md](traffic.md#the-document-field-by-field),',
  'with the semantics (first match wins, empty subsets skipped, mirroring, faults, the travelling override):',
  '',
  ...routeFields(),
  '',
  '## The TrafficSwitch document',
  '',
  '```yaml',
  'kind: TrafficSwitch',
  'name: mesh             # every call between services; or a service name: the calls to that service',
  'spec: { stopped: true, reason: "incident 4711" }',
  '```',
  '',
  'The kill switch. Its fields, read from the schema (`TrafficSwitchSpec` in',
  '`packages/core/src/traffic/switch-schema.ts`), are described in [security.md](security.md#kill-switch):',
  '',
  securityFields(TrafficSwitchSpec),
  '',
  '## The PeerAuthentication document',
  '',
  '```yaml',
  'kind: PeerAuthentication',
  'name: mesh             # the mesh-wide default; or a service name, which overrides it',
  'spec: { mode: STRICT } # or PERMISSIVE (the default without any document)',
  '```',
  '',
  'Whether servers accept plaintext beside mTLS, and whether clients may send it. Its fields, read from the',
  'schema (`PeerAuthenticationSpec` in `packages/core/src/mtls/peer-authentication-schema.ts`), are described',
  'in [security.md](security.md#modes-permissive-and-strict-after-istios-peerauthentication):',
  '',
  securityFields(PeerAuthenticationSpec),
  '',
  '## The Telemetry document',
  '',
  '```yaml',
  'kind: Telemetry',
  'name: mesh             # every service; or a service name, overriding mesh field by field',
  'spec:',
  '  traces: { endpoint: http://collector:4318/v1/traces, samplingRatio: 0.05 }',
  '  metrics: { endpoint: http://collector:4318/v1/metrics, exportIntervalMs: 15000 }',
  '```',
  '',
  "Where each service's OpenTelemetry SDK exports, how often and how much it samples; followed live by",
  '`startTelemetry` of `@weft/otel` (below). Its fields, read from the schema (`TelemetrySpec` in',
  '`packages/core/src/telemetry/telemetry-schema.ts`), with their defaults (the `OTEL_*` variables, then',
  'built-in ones) and the handling of secrets in headers, are described in',
  '[control-room.md](control-room.md#telemetry-from-the-config-service):',
  '',
  ...telemetryFields(),
  '',
  '## The Rollout document',
  '',
  '```yaml',
  'kind: Rollout',
  'name: catalog          # the destination service; its Route defines the subsets',
  'spec:',
  '  stable: v1',
  '  canary: v2',
  '  steps: [{ weight: 5, pauseS: 60 }, { weight: 50, pauseS: 120 }, { weight: 100 }]',
  '  analysis: { intervalS: 30, minRequests: 100, successRate: { minPercent: 99 }, failureLimit: 2 }',
  '```',
  '',
  'A canary the config service advances or rolls back by itself. Its fields, read from the schema',
  '(`RolloutSpec` in `packages/core/src/rollout/rollout-schema.ts`), each with its default and meaning,',
  'are in [progressive-delivery.md](progressive-delivery.md#the-document-field-by-field), with the semantics:',
  '',
  ...rolloutFields(),
  '',
  '## Options in code',
  '',
  ...optionTables(OPTIONS),
  '## Environment variables',
  '',
  '| variable | read by | meaning |',
  '|---|---|---|',
  '| `WEFT_CONTROL_PLANE` | config client, registration, registry resolver, CLI | config service URL(s), comma-separated |',
  '| `WEFT_TOKEN` | the same | bearer token |',
  '| `WEFT_ADMIN_TOKEN` | `weft control-plane` | an admin token chosen by the operator instead of a generated one |',
  '| `WEFT_ZONE` | HTTP client | the default of `localZone` |',
  '| `WEFT_OTLP_…` | `startTelemetry` (`@weft/otel`) | values of `Telemetry` headers written as `{ fromEnv: WEFT_OTLP_… }`: secrets kept out of the config service |',
  '| `OTEL_EXPORTER_OTLP_*`, `OTEL_METRIC_EXPORT_INTERVAL`, `OTEL_TRACES_SAMPLER`, `_ARG` | `startTelemetry` | the fallback for a field no `Telemetry` document sets |',
  '',
];
const out = fileURLToPath(new URL('../configuration.md', import.meta.url));
writeFileSync(out, lines.join('\n'));
// The repository's formatter aligns the tables, so that `biome check` passes on the output.
execFileSync(`${root}node_modules/.bin/biome`, ['format', '--write', out], { stdio: 'ignore' });
process.stdout.write(`wrote ${out}\n`);
