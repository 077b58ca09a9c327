/**
 * A `Route` document compiled for the hot path: regular expressions built once, header names
 * lower-cased, and an index by path, so that finding the first matching rule costs about the same
 * with one rule or a hundred when rules match on exact paths or path prefixes (the common case).
 *
 * Rules whose every match names an `Exact` or `PathPrefix` path are indexed: exact paths in a map,
 * prefixes in a map by prefix, looked up once per `/` boundary of the request's path. The others
 * (header-only, regular-expression paths) are candidates for every call. The candidates are then
 * tried in the order written, and the first whose conditions all hold wins, so the index changes the
 * cost, never the answer.
 */
import type { Call } from '../stack/call.ts';
import type { HeaderEdits, RouteMatch, RouteRule, RouteSpec } from './route-schema.ts';

/** How a protocol names its methods: HTTP verbs in `call.method`, or RPC paths (`/pkg.Service/Method`) in `call.path`. */
export type MethodKind = 'verb' | 'rpc';

/** Reads one request header (lower-case name) of a call: HTTP headers, gRPC metadata. */
export type HeaderReader<Req extends Call = Call> = (call: Req, name: string) => string | undefined;

/** A header read from `call.headers`. */
export const readCallHeader: HeaderReader = (call, name) => call.headers[name];

type ValueTest = (value: string) => boolean;

interface CompiledCondition {
  readonly name: string;
  readonly test: ValueTest;
}

interface CompiledMatch {
  /** Tests the path without its query; undefined when the match names no path. */
  readonly path: ValueTest | undefined;
  readonly verb: string | undefined;
  readonly rpcService: string | undefined;
  readonly rpcMethod: string | undefined;
  /** True when the match names a method of the other protocol's kind: it never matches. */
  readonly foreign: boolean;
  readonly headers: readonly CompiledCondition[];
  readonly query: readonly CompiledCondition[];
}

/** Header edits, ready to apply. */
export interface CompiledEdits {
  readonly set: readonly (readonly [string, string])[];
  readonly add: readonly (readonly [string, string])[];
  readonly remove: readonly string[];
}

/** One rule, compiled. The route module binds its backends to endpoint subsets. */
export interface CompiledRule {
  readonly index: number;
  /** Its `name`, or its index as text: the `weft.route.rule` attribute. */
  readonly label: string;
  readonly spec: RouteRule;
  readonly matches: readonly CompiledMatch[] | undefined;
  readonly requestEdits: CompiledEdits | undefined;
  readonly responseEdits: CompiledEdits | undefined;
}

export interface RouteTable {
  readonly spec: RouteSpec;
  readonly rules: readonly CompiledRule[];
  /** The first rule whose matches match `call`, or undefined (the call goes to the whole destination). */
  match<Req extends Call>(call: Req, header: HeaderReader<Req>): CompiledRule | undefined;
}

function exact(value: string): ValueTest {
  return (v) => v === value;
}

/** A regular expression matched against the whole value, as Envoy's and the Gateway API's. */
function whole(source: string): ValueTest {
  const re = new RegExp(`^(?:${source})$`);
  return (v) => re.test(v);
}

/** The prefix without its trailing `/` (`/items/` → `/items`); `/` stays `/`. */
export function normalPrefix(value: string): string {
  let p = value;
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

/** Gateway API `PathPrefix`: whole segments (`/items` matches `/items`, `/items/1`, not `/itemsx`). */
function prefixTest(value: string): ValueTest {
  const p = normalPrefix(value);
  if (p === '/') return () => true;
  return (v) => v.startsWith(p) && (v.length === p.length || v.charCodeAt(p.length) === 47);
}

function compileMatch(m: RouteMatch, kind: MethodKind): CompiledMatch {
  let path: ValueTest | undefined;
  if (m.path) {
    if (m.path.type === 'Exact') path = exact(m.path.value);
    else if (m.path.type === 'PathPrefix') path = prefixTest(m.path.value);
    else path = whole(m.path.value);
  }
  const method = m.method;
  const verb = typeof method === 'string' ? method : undefined;
  const rpc = typeof method === 'object' ? method : undefined;
  const foreign = (verb !== undefined && kind === 'rpc') || (rpc !== undefined && kind === 'verb');
  const conditions = (list: RouteMatch['headers']) =>
    (list ?? []).map((c) => ({ name: c.name, test: c.type === 'Exact' ? exact(c.value) : whole(c.value) }));
  return {
    path,
    verb,
    rpcService: rpc?.service,
    rpcMethod: rpc?.method,
    foreign,
    headers: conditions(m.headers),
    query: conditions(m.queryParams),
  };
}

function compileEdits(edits: HeaderEdits | undefined): CompiledEdits | undefined {
  if (!edits) return undefined;
  const set = Object.entries(edits.set ?? {});
  const add = Object.entries(edits.add ?? {});
  const remove = edits.remove ?? [];
  return set.length || add.length || remove.length ? { set, add, remove } : undefined;
}

/** The value of query parameter `name` in `path` (after `?`), decoded; undefined when absent. */
export function queryParam(path: string, queryStart: number, name: string): string | undefined {
  if (queryStart < 0) return undefined;
  let i = queryStart + 1;
  const end = path.indexOf('#', i) < 0 ? path.length : path.indexOf('#', i);
  while (i < end) {
    let amp = path.indexOf('&', i);
    if (amp < 0 || amp > end) amp = end;
    const eq = path.indexOf('=', i);
    const keyEnd = eq >= 0 && eq < amp ? eq : amp;
    if (keyEnd - i === name.length && path.startsWith(name, i)) {
      const raw = keyEnd === amp ? '' : path.slice(keyEnd + 1, amp);
      if (raw.indexOf('%') < 0 && raw.indexOf('+') < 0) return raw;
      try {
        return decodeURIComponent(raw.replaceAll('+', ' '));
      } catch {
        return raw;
      }
    }
    i = amp + 1;
  }
  return undefined;
}

function matches<Req extends Call>(
  m: CompiledMatch,
  call: Req,
  path: string,
  queryStart: number,
  kind: MethodKind,
  header: HeaderReader<Req>,
): boolean {
  if (m.foreign) return false;
  if (m.path !== undefined && !m.path(path)) return false;
  if (m.verb !== undefined && call.method !== m.verb) return false;
  if (kind === 'rpc' && (m.rpcService !== undefined || m.rpcMethod !== undefined)) {
    // `/pkg.Service/Method`
    const slash = call.path.lastIndexOf('/');
    if (m.rpcService !== undefined) {
      if (slash !== m.rpcService.length + 1 || !call.path.startsWith(m.rpcService, 1)) return false;
    }
    if (m.rpcMethod !== undefined) {
      if (
        call.path.length - slash - 1 !== m.rpcMethod.length ||
        !call.path.startsWith(m.rpcMethod, slash + 1)
      )
        return false;
    }
  }
  for (const h of m.headers) {
    const v = header(call, h.name);
    if (v === undefined || !h.test(v)) return false;
  }
  for (const q of m.query) {
    const v = queryParam(call.path, queryStart, q.name);
    if (v === undefined || !q.test(v)) return false;
  }
  return true;
}

/**
 * FNV-1a over `text[0..end)`, the key of the path index: computed as the request's path is walked,
 * so finding candidates allocates nothing. Two paths may share a key; that only adds a candidate,
 * which its rule's own test then refuses — the index changes the cost, never the answer.
 */
function pathKey(text: string, end = text.length): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Adds `rule` to the list under `key`, keeping each list in rule order without duplicates. */
function index(map: Map<number, number[]>, key: number, rule: number): void {
  const list = map.get(key);
  if (!list) map.set(key, [rule]);
  else if (list[list.length - 1] !== rule) list.push(rule);
}

const ROOT_KEY = pathKey('/');

/** Compiles a validated spec for a protocol whose methods are of `kind`. */
export function compileRoute(spec: RouteSpec, kind: MethodKind): RouteTable {
  const rules: CompiledRule[] = spec.rules.map((rule, i) => ({
    index: i,
    label: rule.name ?? String(i),
    spec: rule,
    matches: rule.matches?.length ? rule.matches.map((m) => compileMatch(m, kind)) : undefined,
    requestEdits: compileEdits(rule.requestHeaders),
    responseEdits: compileEdits(rule.responseHeaders),
  }));
  const exactPaths = new Map<number, number[]>();
  const prefixes = new Map<number, number[]>();
  const always: number[] = [];
  for (const rule of rules) {
    const list = rule.spec.matches;
    const indexable =
      list !== undefined &&
      list.length > 0 &&
      list.every((m) => m.path !== undefined && m.path.type !== 'RegularExpression');
    if (!indexable) {
      always.push(rule.index);
      continue;
    }
    for (const m of list) {
      if (m.path!.type === 'Exact') index(exactPaths, pathKey(m.path!.value), rule.index);
      else index(prefixes, pathKey(normalPrefix(m.path!.value)), rule.index);
    }
  }
  // Every rule is a candidate: no index to consult.
  const linear = always.length === rules.length;
  // Reused across calls: the candidates of the call being matched (JavaScript runs one at a time).
  const scratch: number[] = [];

  const tryRule = <Req extends Call>(
    rule: CompiledRule,
    call: Req,
    path: string,
    q: number,
    header: HeaderReader<Req>,
  ) => {
    const ms = rule.matches;
    if (ms === undefined) return true;
    for (let i = 0; i < ms.length; i++) if (matches(ms[i]!, call, path, q, kind, header)) return true;
    return false;
  };

  const collect = (list: readonly number[] | undefined) => {
    if (list) for (let i = 0; i < list.length; i++) scratch.push(list[i]!);
  };

  return {
    spec,
    rules,
    match<Req extends Call>(call: Req, header: HeaderReader<Req>): CompiledRule | undefined {
      const full = call.path;
      const q = full.indexOf('?');
      // The path without its query; sliced only when a rule reads the path (a regex, an exact value).
      const path = q < 0 ? full : full.slice(0, q);
      if (linear) {
        for (let i = 0; i < rules.length; i++) if (tryRule(rules[i]!, call, path, q, header)) return rules[i];
        return undefined;
      }
      scratch.length = 0;
      collect(always);
      // One walk over the path: the key of each prefix ending before a `/`, and of the whole path.
      const end = path.length;
      const root = prefixes.get(ROOT_KEY);
      if (root !== undefined) collect(root);
      let h = 0x811c9dc5;
      for (let i = 0; i < end; i++) {
        const c = path.charCodeAt(i);
        if (c === 47 && i > 0 && prefixes.size > 0) collect(prefixes.get(h >>> 0));
        h = Math.imul(h ^ c, 0x01000193);
      }
      const whole = h >>> 0;
      collect(exactPaths.get(whole));
      if (end > 1 && path.charCodeAt(end - 1) !== 47 && prefixes.size > 0) collect(prefixes.get(whole));
      // Few candidates: an insertion sort, then the first that matches in rule order.
      for (let i = 1; i < scratch.length; i++) {
        const v = scratch[i]!;
        let j = i - 1;
        while (j >= 0 && scratch[j]! > v) {
          scratch[j + 1] = scratch[j]!;
          j--;
        }
        scratch[j + 1] = v;
      }
      let previous = -1;
      for (let i = 0; i < scratch.length; i++) {
        const r = scratch[i]!;
        if (r === previous) continue;
        previous = r;
        if (tryRule(rules[r]!, call, path, q, header)) return rules[r];
      }
      return undefined;
    },
  };
}

/**
 * The subset the travelling override pins for `service` (`weft-route: catalog=v2,users=v3`), or
 * undefined. Whitespace around entries is ignored; the first entry for a service wins.
 */
export function overrideFor(value: string | undefined, service: string): string | undefined {
  if (value === undefined) return undefined;
  let i = 0;
  while (i < value.length) {
    let comma = value.indexOf(',', i);
    if (comma < 0) comma = value.length;
    const entry = value.slice(i, comma).trim();
    const eq = entry.indexOf('=');
    if (eq > 0 && entry.slice(0, eq).trim() === service) return entry.slice(eq + 1).trim();
    i = comma + 1;
  }
  return undefined;
}

/** Longest `weft-route` value accepted from the wire. */
export const MAX_ROUTE_OVERRIDE_LENGTH = 1024;
const OVERRIDE = /^\s*[a-z0-9.-]+\s*=\s*[a-z0-9-]+\s*(?:,\s*[a-z0-9.-]+\s*=\s*[a-z0-9-]+\s*)*$/;

/** True when `value` is a well-formed `weft-route` override (`service=subset`, comma-separated). */
export function isRouteOverride(value: string): boolean {
  return value.length <= MAX_ROUTE_OVERRIDE_LENGTH && OVERRIDE.test(value);
}
