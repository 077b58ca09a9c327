/**
 * Role `route` (between `telemetry` and `deadline`): matches the destination's `Route` document and
 * sends the call down the stack built for the rule it matched — the rule's timeouts and retries
 * merged over the destination policy (`below`). On the call it leaves what the modules below use:
 * the rule and its backends (`balance` picks a subset by weight per attempt, so a retry re-picks
 * within the rule), the subset a travelling `weft-route` override pins, the consistent-hashing key.
 * It applies the rule's request header edits and path rewrite, sends the mirror copy, and edits the
 * response headers on the way back.
 *
 * A destination without a Route gets `next` itself: no code runs per call. A call no rule matches
 * goes to the whole destination, as without a Route.
 */
import { hash32 } from '../balancer/hash.ts';
import type { DestinationPolicy } from '../config/policy.ts';
import { Header } from '../context/wire.ts';
import type { Call } from '../stack/call.ts';
import type { StackEnv } from '../stack/env.ts';
import type { Module, Service } from '../stack/stack.ts';
import { MIRROR_DEFAULT_MAX_INFLIGHT, MirrorGate } from './mirror.ts';
import type { RouteRule, RouteSpec } from './route-schema.ts';
import {
  type CompiledEdits,
  type CompiledRule,
  normalPrefix,
  overrideFor,
  readCallHeader,
} from './route-table.ts';
import type { OutcomeAttributes, RoutedBackend, RoutedRule } from './routed.ts';

/** A rule as this module runs it. */
interface BoundRule<Req extends Call, Res> {
  readonly routed: RoutedRule;
  readonly service: Service<Req, Res>;
  readonly hashHeader: string | undefined;
  readonly rewrite: ((path: string) => string) | undefined;
  readonly mirror: { readonly backend: RoutedBackend; readonly percent: number } | undefined;
  /** Applies the response edits and returns the response (one function per rule, not per call). */
  readonly editResponse: ((response: Res) => Res) | undefined;
}

function attributesOf(destination: string, rule: string, subset: string | undefined): OutcomeAttributes {
  const base: Record<string, string> = { 'server.address': destination, 'weft.route.rule': rule };
  if (subset !== undefined) base['weft.route.subset'] = subset;
  return {
    success: { ...base, outcome: 'success' },
    failure: { ...base, outcome: 'failure' },
    cancelled: { ...base, outcome: 'cancelled' },
  };
}

/** The destination-policy overrides a rule sets, or undefined when it sets none. */
export function ruleOverrides(rule: RouteRule): DestinationPolicy | undefined {
  const over: DestinationPolicy = {};
  if (rule.timeoutMs !== undefined) over.timeoutMs = rule.timeoutMs;
  if (rule.perTryTimeoutMs !== undefined) over.perTryTimeoutMs = rule.perTryTimeoutMs;
  if (rule.retry !== undefined) over.retry = rule.retry;
  return Object.keys(over).length ? over : undefined;
}

/** Edits `call.headers`: set replaces, add appends (`, `), remove drops. */
export function editCallHeaders(call: Call, edits: CompiledEdits): void {
  editRecordHeaders(call.headers, edits);
}

/** Edits a header record (lower-case names): set replaces, add appends (`, `), remove drops. */
export function editRecordHeaders(headers: Record<string, string>, edits: CompiledEdits): void {
  for (const name of edits.remove) delete headers[name];
  for (const [name, value] of edits.set) headers[name] = value;
  for (const [name, value] of edits.add) {
    const previous = headers[name];
    headers[name] = previous === undefined ? value : `${previous}, ${value}`;
  }
}

/** The path rewrite of a rule: the matched prefix replaced (`rewrite.pathPrefix`), or the whole path (`fullPath`). */
function rewriter(rule: CompiledRule): ((path: string) => string) | undefined {
  const rewrite = rule.spec.rewrite;
  if (!rewrite) return undefined;
  const full = rewrite.fullPath;
  if (full !== undefined)
    return (path) => {
      const q = path.indexOf('?');
      return q < 0 ? full : full + path.slice(q);
    };
  const to = rewrite.pathPrefix;
  if (to === undefined) return undefined;
  // The prefixes of the rule's matches, longest first: the one that matched is replaced.
  const prefixes = (rule.spec.matches ?? [])
    .map((m) => normalPrefix(m.path!.value))
    .sort((a, b) => b.length - a.length);
  return (path) => {
    for (const p of prefixes) {
      if (p === '/' || (path.startsWith(p) && (path.length === p.length || '/?'.includes(path[p.length]!)))) {
        const rest = p === '/' ? path : path.slice(p.length);
        if (to === '/' || to.endsWith('/')) return (to + rest).replace(/\/\/+/, '/') || '/';
        return to + rest;
      }
    }
    return path;
  };
}

export function routeModule<Req extends Call = Call, Res = unknown>(): Module<object, Req, Res> {
  return {
    role: 'route',
    description: 'match the Route: rule, subset by weight or override, mirror, header edits',
    params: {},
    spec: {},
    needs: ['parent'],
    sets: ['route'],
    make(_params, next, env, below) {
      const table = env.route;
      if (table === undefined) return next;
      return routeService(table.spec, table.rules, next, env, below);
    },
  };
}

function routeService<Req extends Call, Res>(
  spec: RouteSpec,
  rules: readonly CompiledRule[],
  next: Service<Req, Res>,
  env: StackEnv<Req, Res>,
  below: (overrides: DestinationPolicy) => Service<Req, Res>,
): Service<Req, Res> {
  const { binding, endpoints, destination, random, instruments } = env;
  const table = env.route!;
  const header = (binding.requestHeader ?? readCallHeader) as (call: Req, name: string) => string | undefined;
  const editRequest = binding.editRequestHeaders ?? editCallHeaders;
  const selectors = spec.subsets ?? {};
  const gate = env.shared('route-mirror', () => new MirrorGate());
  gate.limit = spec.mirrorMaxInflight ?? MIRROR_DEFAULT_MAX_INFLIGHT;
  gate.instruments = instruments;
  gate.destination = destination;
  gate.binding = binding as never;

  const bound: BoundRule<Req, Res>[] = rules.map((rule) => {
    const backendOf = (subset: string, weight: number): RoutedBackend => ({
      subset,
      weight,
      pool: endpoints.subset(selectors[subset] ?? {}),
      attributes: attributesOf(destination, rule.label, subset),
    });
    const subsets = new Map<string, RoutedBackend>();
    for (const name of Object.keys(selectors)) subsets.set(name, backendOf(name, 1));
    const backends = rule.spec.backends?.map((b) => backendOf(b.subset, b.weight));
    const overrides = ruleOverrides(rule.spec);
    const edits = rule.responseEdits;
    const editResponseHeaders = binding.editResponseHeaders;
    const mirror = rule.spec.mirror;
    return {
      routed: { rule, backends, attributes: attributesOf(destination, rule.label, undefined), subsets },
      service: overrides ? below(overrides) : next,
      hashHeader: rule.spec.hashOn?.header,
      rewrite: binding.rewritesPaths ? rewriter(rule) : undefined,
      mirror:
        mirror && binding.mirror
          ? { backend: subsets.get(mirror.subset)!, percent: mirror.percent }
          : undefined,
      editResponse:
        edits && editResponseHeaders
          ? (response: Res) => {
              editResponseHeaders(response, edits);
              return response;
            }
          : undefined,
    };
  });
  const overrides = spec.overrides === true;

  return (call) => {
    const matched = table.match(call, header);
    if (matched === undefined) return next(call);
    const rule = bound[matched.index]!;
    const routed = rule.routed;
    call.route = routed;
    if (overrides) {
      const subset = overrideFor(header(call, Header.route) ?? call.parent?.route, destination);
      if (subset !== undefined) call.routePin = routed.subsets.get(subset);
    }
    if (rule.hashHeader !== undefined) {
      const key = header(call, rule.hashHeader);
      if (key !== undefined) call.hash = hash32(key);
    }
    const edits = matched.requestEdits;
    if (edits !== undefined) editRequest(call, edits);
    if (rule.rewrite !== undefined) call.path = rule.rewrite(call.path);
    // The copy is made before the primary is sent (its attempt writes its own headers into the call),
    // and sent after it, so that the primary never waits on it.
    const copy =
      rule.mirror !== undefined && roll(rule.mirror.percent, random)
        ? gate.copy(call, routed, rule.mirror.backend)
        : undefined;
    const pending = rule.service(call);
    if (copy !== undefined) gate.send(rule.service, copy);
    return rule.editResponse === undefined ? pending : pending.then(rule.editResponse);
  };
}

/** True with probability `percent`/100 (fractions allowed). */
export function roll(percent: number, random: () => number): boolean {
  return percent >= 100 || (percent > 0 && random() * 100 < percent);
}
