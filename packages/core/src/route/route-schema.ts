/**
 * The `Route` document: how the calls to one destination service are split among its subsets
 * (canary, blue/green), matched by header, path, method or gRPC method, mirrored, delayed or
 * aborted on purpose, and rewritten. Shaped after the Kubernetes Gateway API's `HTTPRoute` and
 * `GRPCRoute` (the matches, filters and weighted backends) and Istio's `VirtualService` +
 * `DestinationRule` subsets; unlike the Gateway API, rules are tried in the order written and the
 * first one that matches wins (as in Istio), so the order on the page is the order at run time.
 *
 * One schema (zod) gives the types and the validation used by the config service (a 400 naming the
 * field), the CLI and the clients (an invalid document received is skipped, the previous one stays).
 */
import { z } from 'zod';
import { RetryPolicy } from '../config/policy.ts';
import { ATTEMPT_PARAMS, DEADLINE_PARAMS } from '../deadline/deadline-params.ts';
import { policyField } from '../stack/params.ts';

/** A subset name: what `weft-route` overrides and backends refer to. */
const SUBSET_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Header names as HTTP/2 and gRPC metadata carry them: lowercase tokens. */
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]{1,256}$/;
/** Longest regular expression accepted: every call to the destination may run it. */
export const MAX_REGEX_LENGTH = 1024;
/** Longest header value or path a match compares with. */
const MAX_VALUE_LENGTH = 4096;

const SubsetName = z
  .string()
  .regex(SUBSET_NAME, 'must be lowercase letters, digits and "-", starting and ending alphanumeric');

const HeaderName = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.string().regex(HEADER_NAME, 'must be an HTTP header name (a token)'));

const HeaderValue = z
  .string()
  .max(MAX_VALUE_LENGTH)
  .refine((s) => !/[\r\n\0]/.test(s), 'must not contain CR, LF or NUL');

/** A pattern that compiles (JavaScript syntax; matched against the whole value). */
const Regex = z
  .string()
  .min(1)
  .max(MAX_REGEX_LENGTH)
  .superRefine((source, ctx) => {
    try {
      new RegExp(source);
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message: `not a valid regular expression: ${(error as Error).message}`,
      });
    }
  });

/** 0–100, fractions allowed (0.1 = one call in a thousand). */
const Percent = z.number().min(0, 'must be from 0 to 100').max(100, 'must be from 0 to 100');

const StringMatch = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('Exact'), name: HeaderName, value: HeaderValue }),
  z.strictObject({ type: z.literal('RegularExpression'), name: HeaderName, value: Regex }),
]);

/** `type` defaults to `Exact`, as in the Gateway API. */
const withExact = (v: unknown) =>
  typeof v === 'object' && v !== null && !('type' in v) ? { ...v, type: 'Exact' } : v;
const NamedValueMatch = z.preprocess(withExact, StringMatch);

/** Query parameter names are case-sensitive (the Gateway API's `HTTPQueryParamMatch`), unlike header names. */
const QueryName = z
  .string()
  .min(1)
  .max(256)
  .refine((s) => !/[&=#\s]/.test(s), 'must not contain "&", "=", "#" or whitespace');
const QueryMatch = z.preprocess(
  withExact,
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('Exact'), name: QueryName, value: HeaderValue }),
    z.strictObject({ type: z.literal('RegularExpression'), name: QueryName, value: Regex }),
  ]),
);
export type HeaderMatch = z.infer<typeof StringMatch>;

const PathMatch = z.preprocess(
  (v) => (typeof v === 'object' && v !== null && !('type' in v) ? { ...v, type: 'PathPrefix' } : v),
  z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('Exact'),
      value: z.string().max(MAX_VALUE_LENGTH).startsWith('/', 'must start with "/"'),
    }),
    z.strictObject({
      type: z.literal('PathPrefix'),
      value: z
        .string()
        .max(MAX_VALUE_LENGTH)
        .startsWith('/', 'must start with "/"')
        .refine((s) => !s.includes('?') && !s.includes('#'), 'must not contain "?" or "#"'),
    }),
    z.strictObject({ type: z.literal('RegularExpression'), value: Regex }),
  ]),
);
export type PathMatch = z.infer<typeof PathMatch>;

/** An HTTP method (GET, POST, …; any token in upper case). */
const HttpMethod = z.string().regex(/^[A-Z][A-Z0-9_-]{0,31}$/, 'must be an HTTP method in upper case');

/** A gRPC method: `service` is the full name (`shop.catalog.v1.Catalog`); either may be left out. */
const GrpcMethod = z
  .strictObject({
    service: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, 'must be a fully qualified gRPC service name')
      .optional(),
    method: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a gRPC method name')
      .optional(),
  })
  .refine((m) => m.service !== undefined || m.method !== undefined, 'set service, method or both');

/**
 * One match: every condition given must hold. `method` is an HTTP method for HTTP calls and
 * `{ service, method }` for gRPC calls; a match of the other protocol's kind never matches.
 */
export const RouteMatch = z.strictObject({
  path: PathMatch.optional(),
  method: z
    .union([HttpMethod, GrpcMethod], {
      error: 'must be an HTTP method ("GET") or a gRPC method ({ service, method })',
    })
    .optional(),
  headers: z.array(NamedValueMatch).max(32).optional(),
  queryParams: z.array(QueryMatch).max(32).optional(),
});
export type RouteMatch = z.infer<typeof RouteMatch>;

export const RouteBackend = z.strictObject({
  subset: SubsetName,
  /** Relative weight; 0 sends nothing. Defaults to 1. */
  weight: z.number().int('must be an integer').min(0, 'must be ≥ 0').max(1_000_000).default(1),
});
export type RouteBackend = z.infer<typeof RouteBackend>;

const HeaderMap = z.record(HeaderName, HeaderValue);

/** Header edits, after the Gateway API's `RequestHeaderModifier`: set replaces, add appends, remove drops. */
export const HeaderEdits = z.strictObject({
  set: HeaderMap.optional(),
  add: HeaderMap.optional(),
  remove: z.array(HeaderName).max(64).optional(),
});
export type HeaderEdits = z.infer<typeof HeaderEdits>;

export const FaultSpec = z.strictObject({
  /** Waits `ms` before sending (never past the call's deadline). */
  delay: z
    .strictObject({ ms: z.number().int().min(0).max(3_600_000), percent: Percent.default(100) })
    .optional(),
  /**
   * Answers without sending: `status` for HTTP calls, `grpcStatus` for gRPC calls (a gRPC call with
   * only `status` gets the code the gRPC spec maps it to; an HTTP call with only `grpcStatus`, 503).
   */
  abort: z
    .strictObject({
      status: z.number().int().min(200).max(599).optional(),
      grpcStatus: z.number().int().min(1, 'must be a gRPC error code (1–16)').max(16).optional(),
      percent: Percent.default(100),
    })
    .refine((a) => a.status !== undefined || a.grpcStatus !== undefined, 'set status or grpcStatus')
    .optional(),
});
export type FaultSpec = z.infer<typeof FaultSpec>;

export const RouteRule = z.strictObject({
  /** Named in telemetry and `describe()` instead of the rule's index. */
  name: SubsetName.optional(),
  /** Any of these matches; none given matches every call. */
  matches: z.array(RouteMatch).max(64).optional(),
  /** Where matched calls go. Defaults to the whole destination (every endpoint). */
  backends: z.array(RouteBackend).min(1).max(64).optional(),
  /** Overrides the destination policy's `timeoutMs` for these calls. */
  timeoutMs: policyField(DEADLINE_PARAMS.timeoutMs),
  /** Overrides the destination policy's `perTryTimeoutMs` for these calls. */
  perTryTimeoutMs: policyField(ATTEMPT_PARAMS.perTryTimeoutMs),
  /** Overrides the destination policy's `retry` (except its budget, which stays the destination's). */
  retry: RetryPolicy.omit({ budget: true }).optional(),
  /** Keeps one key on one backend (consistent hashing): "10% of users", not 10% of requests. */
  hashOn: z.strictObject({ header: HeaderName }).optional(),
  /** Sends a copy of `percent` of the calls to `subset`, fire-and-forget. */
  mirror: z.strictObject({ subset: SubsetName, percent: Percent.default(100) }).optional(),
  fault: FaultSpec.optional(),
  /** Honours `weft-fault-delay-ms` and `weft-fault-abort` request headers (for tests). Defaults to false. */
  allowHeaderFaults: z.boolean().optional(),
  requestHeaders: HeaderEdits.optional(),
  responseHeaders: HeaderEdits.optional(),
  /** Replaces the matched path prefix (or the whole path) before sending. HTTP only. */
  rewrite: z
    .strictObject({
      pathPrefix: z.string().max(MAX_VALUE_LENGTH).startsWith('/', 'must start with "/"').optional(),
      fullPath: z.string().max(MAX_VALUE_LENGTH).startsWith('/', 'must start with "/"').optional(),
    })
    .refine(
      (r) => !(r.pathPrefix !== undefined && r.fullPath !== undefined),
      'set pathPrefix or fullPath, not both',
    )
    .optional(),
});
export type RouteRule = z.infer<typeof RouteRule>;

/**
 * A subset: a label selector over the registered instances' labels (every label must equal). Keys
 * follow the registry's rule for label keys, so a selector never names a label no instance can have.
 */
const Selector = z.record(
  z
    .string()
    .min(1)
    .max(63)
    .regex(/^[A-Za-z0-9._/-]+$/, 'label keys are letters, digits and . _ / -'),
  z.string().max(253),
);

export const RouteSpec = z
  .strictObject({
    subsets: z.record(SubsetName, Selector).optional(),
    /** Honours the travelling `weft-route: <service>=<subset>` override for this service. Defaults to false. */
    overrides: z.boolean().optional(),
    rules: z.array(RouteRule).max(1000).default([]),
    /** Copies in flight to mirror subsets at once; over it copies are dropped and counted. Defaults to 100. */
    mirrorMaxInflight: z.number().int().min(1).max(100_000).optional(),
  })
  .superRefine((spec, ctx) => {
    const defined = new Set(Object.keys(spec.subsets ?? {}));
    const undefinedSubset = (path: (string | number)[], subset: string) =>
      ctx.addIssue({
        code: 'custom',
        path,
        message: `subset "${subset}" is not defined in spec.subsets${defined.size ? ` (defined: ${[...defined].join(', ')})` : ''}`,
      });
    const names = new Set<string>();
    spec.rules.forEach((rule, i) => {
      rule.backends?.forEach((b, j) => {
        if (!defined.has(b.subset)) undefinedSubset(['rules', i, 'backends', j, 'subset'], b.subset);
      });
      if (rule.mirror && !defined.has(rule.mirror.subset))
        undefinedSubset(['rules', i, 'mirror', 'subset'], rule.mirror.subset);
      if (rule.name !== undefined) {
        if (names.has(rule.name))
          ctx.addIssue({
            code: 'custom',
            path: ['rules', i, 'name'],
            message: `two rules are named "${rule.name}"`,
          });
        names.add(rule.name);
      }
      if (rule.rewrite?.pathPrefix !== undefined) {
        const prefixed = rule.matches?.every((m) => m.path?.type === 'PathPrefix');
        if (!prefixed)
          ctx.addIssue({
            code: 'custom',
            path: ['rules', i, 'rewrite', 'pathPrefix'],
            message: 'needs every match of the rule to have a PathPrefix path',
          });
      }
    });
  });
export type RouteSpec = z.infer<typeof RouteSpec>;
/** What users write (weights and percents may be left to their defaults). */
export type RouteSpecInput = z.input<typeof RouteSpec>;
