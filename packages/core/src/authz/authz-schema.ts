/**
 * The `AuthorizationPolicy` document: who may call a server, shaped after Istio's
 * `AuthorizationPolicy`. A policy selects one server by service name (`"*"`: every server of the
 * mesh), has an action (`ALLOW` or `DENY`) and rules; a rule matches when all of its `from`, `to`
 * and `when` parts match (a part left out matches anything), and each part matches when any of its
 * entries does. Within an entry the fields are ANDed and each field's values ORed.
 *
 * One schema (zod) gives the types and the validation used by the config service (a 400 naming the
 * field), the CLI and the servers (an invalid document received is skipped, the previous one stays).
 */
import { z } from 'zod';
import { serviceNameIssue } from '../config/names.ts';

/** Header names as HTTP/2 and gRPC metadata carry them: lowercase tokens. */
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]{1,256}$/;
/** Longest pattern (path, header value, principal) a rule may hold. */
const MAX_PATTERN_LENGTH = 1024;
/** Most entries in one list of a policy: every call to the server may compare with them. */
const MAX_ENTRIES = 256;

/** `spiffe://<trust-domain>/service/<service>`, the only identity Weft issues and reads. */
export const SPIFFE_SERVICE_ID = /^spiffe:\/\/([a-z0-9._-]{1,255})\/service\/([a-z0-9.-]{1,253})$/;

const list = <T extends z.ZodType>(item: T) => z.array(item).min(1).max(MAX_ENTRIES);

const Pattern = z
  .string()
  .min(1)
  .max(MAX_PATTERN_LENGTH)
  .refine((s) => !/[\r\n\0]/.test(s), 'must not contain CR, LF or NUL');

const ServiceName = z.string().superRefine((name, ctx) => {
  if (name === '*') return;
  const issue = serviceNameIssue(name);
  if (issue) ctx.addIssue({ code: 'custom', message: `${issue} (or "*": any authenticated caller)` });
});

const Principal = Pattern.refine(
  (p) => p === '*' || SPIFFE_SERVICE_ID.test(p.replace(/\*/g, 'x')),
  'must be a SPIFFE ID spiffe://<trust-domain>/service/<service> ("*" wildcards allowed)',
);

const Method = z
  .string()
  .regex(/^(?:[A-Z]{1,32}|\*)$/, 'must be an HTTP method in upper case (GET, POST, …) or "*"');

const HttpPath = Pattern.refine((p) => p.startsWith('/') || p.startsWith('*'), 'must start with "/" or "*"');

const GrpcMethod = Pattern.refine(
  (p) => p === '*' || /^[A-Za-z0-9_.*]+\/[A-Za-z0-9_*]+$/.test(p),
  'must be pkg.Service/Method ("*" wildcards allowed, such as shop.inventory.v1.Inventory/*)',
);

/** A caller: by its service name, or by its full SPIFFE ID. Both need a verified certificate. */
export const AuthorizationSource = z
  .strictObject({
    /** Service names (`"*"`: any authenticated caller of the server's trust domain). */
    services: list(ServiceName).optional(),
    /** SPIFFE IDs (`*` wildcards allowed). */
    principals: list(Principal).optional(),
  })
  .refine((s) => s.services !== undefined || s.principals !== undefined, 'needs services or principals');

/** What is called: HTTP methods and paths, or gRPC methods. */
export const AuthorizationOperation = z
  .strictObject({
    /** HTTP methods; an entry with `methods` or `paths` matches HTTP calls only. */
    methods: list(Method).optional(),
    /** HTTP paths, without the query; `*` matches any characters (`/items/*`). */
    paths: list(HttpPath).optional(),
    /** gRPC methods `pkg.Service/Method`; `*` matches any characters. Matches gRPC calls only. */
    grpcMethods: list(GrpcMethod).optional(),
  })
  .refine(
    (o) => o.methods !== undefined || o.paths !== undefined || o.grpcMethods !== undefined,
    'needs methods, paths or grpcMethods',
  )
  .refine(
    (o) => o.grpcMethods === undefined || (o.methods === undefined && o.paths === undefined),
    'grpcMethods cannot be combined with methods or paths (an entry is for HTTP or for gRPC)',
  );

/** A condition on an inbound header (HTTP) or metadata value (gRPC). */
export const AuthorizationCondition = z.strictObject({
  header: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.string().regex(HEADER_NAME, 'must be an HTTP header name (a token)')),
  /** Accepted values; `*` matches any characters. */
  values: list(Pattern),
});

export const AuthorizationRule = z.strictObject({
  from: list(AuthorizationSource).optional(),
  to: list(AuthorizationOperation).optional(),
  when: list(AuthorizationCondition).optional(),
});

export const AuthorizationPolicySpec = z.strictObject({
  /** The server the policy protects, by service name; `"*"` selects every server of the mesh. */
  service: ServiceName,
  action: z.enum(['ALLOW', 'DENY']),
  /**
   * Rules; the policy matches a call when any rule does. Empty or left out: matches nothing (an
   * ALLOW policy without rules therefore denies everything it selects — the mesh default deny).
   */
  rules: z.array(AuthorizationRule).max(MAX_ENTRIES).default([]),
});

export type AuthorizationSource = z.infer<typeof AuthorizationSource>;
export type AuthorizationOperation = z.infer<typeof AuthorizationOperation>;
export type AuthorizationCondition = z.infer<typeof AuthorizationCondition>;
export type AuthorizationRule = z.infer<typeof AuthorizationRule>;
export type AuthorizationPolicySpec = z.infer<typeof AuthorizationPolicySpec>;
