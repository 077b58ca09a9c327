/**
 * Service, Filter and Stack. A service turns a call into a response; a module wraps the service
 * below it with one concern (retries, deadlines, balancing, …). A stack is a value: an ordered list
 * of modules, each with a role, a description and typed params with documented defaults. Users
 * insert, replace, remove and configure modules by role; `describe()` prints the stack with its
 * effective params (after Finagle's `Stack` and `StackRegistry`).
 */
import { type DestinationPolicy, mergePolicies } from '../config/policy.ts';
import { definedOnly } from '../util/defined.ts';
import type { Call } from './call.ts';
import type { StackEnv } from './env.ts';
import { checkOverride, checkParams, type ParamSpecs, readPolicy } from './params.ts';

/** Sends a call and resolves with its response. */
export type Service<Req = Call, Res = unknown> = (call: Req) => Promise<Res>;

/**
 * One layer of a stack. `P` is its params type; `params` holds the defaults (or code-set values).
 * `Svc` and `Env` are what a layer wraps and is built with: the client's {@link Service} and
 * {@link StackEnv} by default; the server stack has its own (see `ServerModule` in ../server).
 */
export interface Module<
  P extends object = object,
  Req = Call,
  Res = unknown,
  Svc = Service<Req, Res>,
  Env = StackEnv<Req, Res>,
> {
  /** The slot it fills (`retry`, `balance`, …): unique within a stack. */
  readonly role: string;
  /** One line on what it does, printed by `describe()`. */
  readonly description: string;
  /** Its params: the documented defaults, or what code set with `configure`. */
  readonly params: P;
  /**
   * The declaration of its params (type, range, default, doc, policy path; see params.ts). With it,
   * `configure` refuses unknown keys and bad values, the stack checks the effective params before
   * any module is made, and what a policy sets is read at the declared paths.
   */
  readonly spec?: ParamSpecs<P>;
  /** A rule across params (`backoffMaxMs ≥ backoffInitialMs`), run with the spec's check. Throws. */
  check?(params: P): void;
  /**
   * The overrides a destination policy (options in code, then the config service) gives it.
   * Defaults to reading the spec's policy paths.
   */
  fromPolicy?(policy: DestinationPolicy): Partial<P> | undefined;
  /** The call fields it reads that a module above it must set (see {@link CallField}). */
  readonly needs?: readonly CallField[];
  /** The call fields it sets for the modules below it. */
  readonly sets?: readonly CallField[];
  /**
   * Builds the service for this layer around `next`. `below` builds the modules under this one
   * again with `overrides` merged over the stack's policy (the terminal and the shared state stay
   * the same): what a module that sends some calls under other settings needs (the route module's
   * per-rule timeouts and retries). It checks the overridden stack first and throws as `build` does.
   */
  make(params: P, next: Svc, env: Env, below: (overrides: DestinationPolicy) => Svc): Svc;
}

/**
 * A field of the call that one module sets and another relies on: the stack refuses an edit that
 * leaves a module (or the protocol's transport, at the bottom) without what it needs.
 * `wire` is the attempt's outbound Weft headers (trace context, remaining deadline, attempt number).
 */
export type CallField =
  | 'parent'
  | 'otel'
  | 'deadline'
  | 'signal'
  | 'attempt'
  | 'canRetry'
  | 'attemptSignal'
  | 'wire'
  | 'endpoint'
  | (string & {});

/**
 * The params type of each built-in role, for a typed `configure` (augmentable: declare your own
 * module's role and params in this interface).
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging (client-stack.ts)
export interface ParamsByRole {}

/** `P` with every field optional, nested groups too (what `configure` takes). */
export type ParamsOverride<P> = {
  [K in keyof P]?: P[K] extends readonly unknown[] ? P[K] : P[K] extends object ? ParamsOverride<P[K]> : P[K];
};

/** Options of a {@link Stack}. */
export interface StackOptions {
  /** The call fields the bottom of the stack (the client's transport, the server's handler) needs. Defaults to none. */
  readonly bottomNeeds?: readonly CallField[];
  /** What the bottom is called in a refusal. Defaults to `the transport`. */
  readonly bottomName?: string;
}

/** A module of any params type, as stored in a stack. */
export type AnyModule<Req = Call, Res = unknown, Svc = Service<Req, Res>, Env = StackEnv<Req, Res>> = Omit<
  // biome-ignore lint/suspicious/noExplicitAny: a stack holds modules of heterogeneous params types
  Module<any, Req, Res, Svc, Env>,
  'spec'
> & {
  readonly spec?: object;
};

/** The effective params of each module after the policy was applied, top to bottom. */
export interface StackDescription {
  readonly modules: readonly { role: string; description: string; params: object }[];
}

export class Stack<Req = Call, Res = unknown, Svc = Service<Req, Res>, Env = StackEnv<Req, Res>> {
  readonly modules: readonly AnyModule<Req, Res, Svc, Env>[];
  readonly options: StackOptions;

  /** Refuses two modules with one role, and a module placed where what it needs is not set. */
  constructor(modules: readonly AnyModule<Req, Res, Svc, Env>[], options: StackOptions = {}) {
    const roles = new Set<string>();
    for (const m of modules) {
      if (roles.has(m.role)) throw new TypeError(`stack has two modules with role ${m.role}`);
      roles.add(m.role);
    }
    checkContracts(modules, options.bottomNeeds ?? [], undefined, options.bottomName);
    this.modules = modules;
    this.options = options;
  }

  get roles(): string[] {
    return this.modules.map((m) => m.role);
  }

  has(role: string): boolean {
    return this.modules.some((m) => m.role === role);
  }

  /** A new stack with `module` right above the module with role `role`. */
  insertBefore(role: string, module: AnyModule<Req, Res, Svc, Env>): Stack<Req, Res, Svc, Env> {
    const i = this.#index(role);
    return this.#edit([...this.modules.slice(0, i), module, ...this.modules.slice(i)]);
  }

  /** A new stack with `module` right below the module with role `role`. */
  insertAfter(role: string, module: AnyModule<Req, Res, Svc, Env>): Stack<Req, Res, Svc, Env> {
    const i = this.#index(role) + 1;
    return this.#edit([...this.modules.slice(0, i), module, ...this.modules.slice(i)]);
  }

  /** A new stack with the module of role `role` replaced. */
  replace(role: string, module: AnyModule<Req, Res, Svc, Env>): Stack<Req, Res, Svc, Env> {
    const i = this.#index(role);
    return this.#edit([...this.modules.slice(0, i), module, ...this.modules.slice(i + 1)]);
  }

  /** A new stack without the module of role `role`. */
  remove(role: string): Stack<Req, Res, Svc, Env> {
    const i = this.#index(role);
    return this.#edit([...this.modules.slice(0, i), ...this.modules.slice(i + 1)]);
  }

  /**
   * A new stack whose module `role` has `params` merged over its current params (a group field by
   * field). Typed for the built-in roles; an unknown key or a value out of range is refused here,
   * naming the module and the key.
   */
  configure<R extends string>(
    role: R,
    params: R extends keyof ParamsByRole ? ParamsOverride<ParamsByRole[R]> : object,
  ): Stack<Req, Res, Svc, Env> {
    const m = this.modules[this.#index(role)]!;
    if (m.spec) checkOverride(role, m.spec as ParamSpecs<object>, params);
    return this.replace(role, { ...m, params: overlay(m.params, params) });
  }

  /** The params each module will run with under `policy`. */
  effective(policy: DestinationPolicy = {}): StackDescription {
    return {
      modules: this.modules.map((m) => ({
        role: m.role,
        description: m.description,
        params: overlay(m.params, policyOverrides(m, policy) ?? {}),
      })),
    };
  }

  /**
   * Checks every module's effective params under `policy` (its spec, then its own rule), before
   * anything is made: a policy one module refuses changes nothing, in no module and in no shared
   * state. Throws the first problem, naming the module and the param.
   */
  check(policy: DestinationPolicy = {}): StackDescription {
    const effective = this.effective(policy);
    effective.modules.forEach((d, i) => {
      const m = this.modules[i]!;
      if (m.spec) checkParams(m.role, m.spec as ParamSpecs<object>, d.params);
      m.check?.(d.params);
    });
    return effective;
  }

  /**
   * Builds the service: each module wraps the one below, the terminal at the bottom. The whole
   * stack is checked first ({@link check}).
   */
  build(terminal: Svc, env: Env, policy: DestinationPolicy = {}): Svc {
    return this.#buildFrom(0, terminal, env, policy, this.check(policy).modules);
  }

  /** Builds modules `from`… over `terminal` with their `effective` params under `policy`. */
  #buildFrom(
    from: number,
    terminal: Svc,
    env: Env,
    policy: DestinationPolicy,
    effective: StackDescription['modules'],
  ): Svc {
    let service = terminal;
    for (let i = this.modules.length - 1; i >= from; i--) {
      const below = (overrides: DestinationPolicy) => {
        const merged = mergePolicies(policy, overrides);
        return this.#buildFrom(i + 1, terminal, env, merged, this.check(merged).modules);
      };
      service = this.modules[i]!.make(effective[i]!.params, service, env, below);
    }
    return service;
  }

  /** A readable listing: one line per module, top to bottom, with its effective params. */
  describe(policy: DestinationPolicy = {}): string {
    return this.effective(policy)
      .modules.map(
        (m, i) =>
          `${String(i + 1).padStart(2)}. ${m.role.padEnd(10)} ${m.description}  ${JSON.stringify(m.params)}`,
      )
      .join('\n');
  }

  #edit(modules: readonly AnyModule<Req, Res, Svc, Env>[]): Stack<Req, Res, Svc, Env> {
    checkContracts(modules, this.options.bottomNeeds ?? [], this.modules, this.options.bottomName);
    return new Stack(modules, this.options);
  }

  #index(role: string): number {
    const i = this.modules.findIndex((m) => m.role === role);
    if (i < 0) throw new TypeError(`stack has no module with role ${role} (roles: ${this.roles.join(', ')})`);
    return i;
  }
}

// biome-ignore lint/suspicious/noExplicitAny: only the declarations are read
function policyOverrides(m: AnyModule<any, any, any, any>, policy: DestinationPolicy): object | undefined {
  if (m.fromPolicy) return m.fromPolicy(policy);
  return m.spec ? readPolicy(m.spec as ParamSpecs<object>, policy) : undefined;
}

/**
 * Every field a module needs is set by a module above it; the bottom's (the client's transport,
 * the server's handler) by any module. Stacks check themselves when made and edited; exported for
 * a stack built by a user function, which is checked again where it is used.
 * The error names the module that needs the field and the one that sets it (where it is, or that
 * the edit removed it).
 */
// biome-ignore lint/suspicious/noExplicitAny: only the declarations are read
type Declared = AnyModule<any, any, any, any>;

export function checkContracts(
  modules: readonly Declared[],
  bottomNeeds: readonly CallField[],
  previous: readonly Declared[] | undefined,
  bottomName = 'the transport',
): void {
  const setter = (list: readonly Declared[], field: CallField) => list.find((m) => m.sets?.includes(field));
  const refuse = (who: string, field: CallField, below: readonly Declared[]) => {
    const late = setter(below, field);
    const gone = previous && setter(previous, field);
    const why = late
      ? `module ${late.role}, which sets it, is below it`
      : gone
        ? `module ${gone.role} set it, and this edit takes it away`
        : 'no module sets it';
    throw new StackContractError(`stack refused: ${who} needs call.${field}, but ${why}`);
  };
  modules.forEach((m, i) => {
    for (const field of m.needs ?? []) {
      if (!setter(modules.slice(0, i), field)) refuse(`module ${m.role}`, field, modules.slice(i + 1));
    }
  });
  for (const field of bottomNeeds) if (!setter(modules, field)) refuse(bottomName, field, []);
}

/** A stack (or an edit) that leaves a module without what it needs. */
export class StackContractError extends TypeError {
  override readonly name = 'StackContractError';
}

/**
 * `over` laid on `base`: undefined fields are skipped, and a nested object (a retry budget) merges
 * field by field, so a partial override never erases a value set in code.
 */
function overlay(base: object, over: object): object {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(definedOnly(over))) {
    const prev = out[key];
    out[key] = isPlainObject(value) && isPlainObject(prev) ? { ...prev, ...definedOnly(value) } : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}
