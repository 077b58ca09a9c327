/**
 * Compiled authorization policies for one server, and the decision, after Istio: DENY policies
 * first (any match denies); then, if any ALLOW policy selects the server, a call that matches none
 * of them is denied; with no ALLOW policy, the call is allowed. A mesh-wide policy (`service: "*"`)
 * selects every server, so one ALLOW policy for `*` without rules is the mesh default deny.
 *
 * Policies are compiled once per change into plain matchers; deciding on a call reads the call's
 * fields and allocates nothing (a refusal is one of the objects made at compile time).
 */
import { ErrorCode } from '../errors/errors.ts';
import { ServerRejection } from '../server/rejection.ts';
import type {
  AuthorizationCondition,
  AuthorizationOperation,
  AuthorizationPolicySpec,
  AuthorizationRule,
  AuthorizationSource,
} from './authz-schema.ts';
import type { PeerIdentity } from './peer.ts';

/** What a decision reads of a call (a `ServerCall` has all of it). */
export interface AuthzCall {
  readonly method: string;
  readonly path: string;
  readonly peer: PeerIdentity | undefined;
  header(name: string): string | string[] | undefined;
}

/** Why a call was denied: `deny_policy` (a DENY policy matched) or `no_allow_match`. */
export type AuthzReason = 'deny_policy' | 'no_allow_match';

/** A refusal by policy: the `WeftError` thrown, with what it is counted and logged under. */
export class AuthzDenial extends ServerRejection {
  /** The DENY policy that matched, or the ALLOW policies (comma-separated) of which none did. */
  readonly policy: string;
  readonly authzReason: AuthzReason;

  constructor(policy: string, reason: AuthzReason) {
    super(
      ErrorCode.PermissionDenied,
      reason === 'deny_policy'
        ? `denied by AuthorizationPolicy ${policy}`
        : `no AuthorizationPolicy allows this call (${policy})`,
      { reason: 'permission_denied' },
    );
    this.policy = policy;
    this.authzReason = reason;
  }
}

type Test = (call: AuthzCall, grpc: boolean) => boolean;

const escapeRegExp = (s: string) => s.replace(/[.+?^${}()|[\]\\/]/g, '\\$&');

/** `*` matches any run of characters; `any` is what `*` stands for in the pattern language. */
function glob(pattern: string, any = '.*', tail = ''): (value: string) => boolean {
  if (pattern === '*') return () => true;
  if (!pattern.includes('*')) {
    if (tail === '') return (value) => value === pattern;
  }
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join(any)}${tail}$`);
  return (value) => re.test(value);
}

const anyOf = (tests: ((value: string) => boolean)[]) => (value: string) => {
  for (const t of tests) if (t(value)) return true;
  return false;
};

function compileSource(s: AuthorizationSource, trustDomain: string): Test {
  const services = s.services && anyOf(s.services.map((p) => glob(p)));
  const principals = s.principals && anyOf(s.principals.map((p) => glob(p)));
  return (call) => {
    const peer = call.peer;
    if (peer === undefined) return false;
    if (services !== undefined && !(peer.trustDomain === trustDomain && services(peer.service))) return false;
    return principals === undefined || principals(peer.spiffeId);
  };
}

/** An HTTP path matches without its query; a percent-encoded path is decoded first. */
function compilePath(pattern: string): (path: string) => boolean {
  const bare = glob(pattern, '[^?]*', '(?:\\?.*)?');
  return (path) => {
    if (!path.includes('%')) return bare(path);
    const q = path.indexOf('?');
    let decoded: string;
    try {
      decoded = decodeURIComponent(q < 0 ? path : path.slice(0, q));
    } catch {
      return false;
    }
    return bare(decoded);
  };
}

function compileOperation(o: AuthorizationOperation): Test {
  if (o.grpcMethods !== undefined) {
    const methods = anyOf(o.grpcMethods.map((p) => glob(`/${p}`)));
    return (call, grpc) => grpc && methods(call.path);
  }
  const methods = o.methods && anyOf(o.methods.map((m) => glob(m)));
  const paths = o.paths && anyOf(o.paths.map(compilePath));
  return (call, grpc) =>
    !grpc && (methods === undefined || methods(call.method)) && (paths === undefined || paths(call.path));
}

function compileCondition(c: AuthorizationCondition): Test {
  const values = anyOf(c.values.map((v) => glob(v)));
  const name = c.header;
  return (call) => {
    const v = call.header(name);
    if (v === undefined) return false;
    if (typeof v === 'string') return values(v);
    for (const one of v) if (values(one)) return true;
    return false;
  };
}

/** Any of `parts` (absent: anything matches). */
function some(parts: Test[] | undefined): Test | undefined {
  if (parts === undefined) return undefined;
  return (call, grpc) => {
    for (const p of parts) if (p(call, grpc)) return true;
    return false;
  };
}

function compileRule(rule: AuthorizationRule, trustDomain: string): Test {
  const from = some(rule.from?.map((s) => compileSource(s, trustDomain)));
  const to = some(rule.to?.map(compileOperation));
  // `when`: every condition must hold (Istio ANDs them).
  const when = rule.when?.map(compileCondition);
  return (call, grpc) => {
    if (from !== undefined && !from(call, grpc)) return false;
    if (to !== undefined && !to(call, grpc)) return false;
    if (when !== undefined) for (const w of when) if (!w(call, grpc)) return false;
    return true;
  };
}

interface CompiledPolicy {
  readonly name: string;
  readonly rules: readonly Test[];
  readonly denial: AuthzDenial;
}

function matches(p: CompiledPolicy, call: AuthzCall, grpc: boolean): boolean {
  for (const r of p.rules) if (r(call, grpc)) return true;
  return false;
}

/** The policies that apply to one server, compiled. */
export class CompiledAuthorization {
  /** The specs compiled, in name order (to tell whether a change concerns this server). */
  readonly sources: readonly AuthorizationPolicySpec[];
  readonly #deny: readonly CompiledPolicy[];
  readonly #allow: readonly CompiledPolicy[];
  readonly #noAllowMatch: AuthzDenial | undefined;

  constructor(selected: readonly (readonly [string, AuthorizationPolicySpec])[], trustDomain: string) {
    this.sources = selected.map(([, spec]) => spec);
    const compile = ([name, spec]: readonly [string, AuthorizationPolicySpec]): CompiledPolicy => ({
      name,
      rules: spec.rules.map((r) => compileRule(r, trustDomain)),
      denial: new AuthzDenial(name, 'deny_policy'),
    });
    this.#deny = selected.filter(([, s]) => s.action === 'DENY').map(compile);
    this.#allow = selected.filter(([, s]) => s.action === 'ALLOW').map(compile);
    this.#noAllowMatch =
      this.#allow.length === 0
        ? undefined
        : new AuthzDenial(this.#allow.map((p) => p.name).join(','), 'no_allow_match');
  }

  /** True when no policy selects the server (every call is allowed without looking). */
  get empty(): boolean {
    return this.#deny.length === 0 && this.#allow.length === 0;
  }

  /** The refusal for `call`, or undefined when it is allowed. */
  decide(call: AuthzCall, grpc: boolean): AuthzDenial | undefined {
    for (const p of this.#deny) if (matches(p, call, grpc)) return p.denial;
    if (this.#noAllowMatch === undefined) return undefined;
    for (const p of this.#allow) if (matches(p, call, grpc)) return undefined;
    return this.#noAllowMatch;
  }
}

/** The policies of `all` (by document name) that select `service`: its own and the mesh-wide ones. */
export function selectPolicies(
  all: ReadonlyMap<string, AuthorizationPolicySpec>,
  service: string,
): [string, AuthorizationPolicySpec][] {
  const out: [string, AuthorizationPolicySpec][] = [];
  for (const [name, spec] of all)
    if (spec.service === service || spec.service === '*') out.push([name, spec]);
  return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
