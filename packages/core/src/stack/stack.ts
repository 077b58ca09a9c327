/**
 * Service, Filter and Stack. A service turns a call into a response; a module wraps the service
 * below it with one concern (retries, deadlines, balancing, …). A stack is a value: an ordered list
 * of modules, each with a role, a description and typed params with documented defaults. Users
 * insert, replace, remove and configure modules by role; `describe()` prints the stack with its
 * effective params (after Finagle's `Stack` and `StackRegistry`).
 */
import type { DestinationPolicy } from '../config/policy.ts';
import { definedOnly } from '../util/defined.ts';
import type { Call } from './call.ts';
import type { StackEnv } from './env.ts';

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
  /** The overrides a destination policy (options in code, then the config service) gives it. */
  fromPolicy?(policy: DestinationPolicy): Partial<P> | undefined;
  /** Builds the service for this layer around `next`. */
  make(params: P, next: Svc, env: Env): Svc;
  /**
   * Roles that must sit above this module (it reads what they set on the call). Optional; checked
   * where a stack is checked whole (the server stack, before it is built).
   */
  readonly requires?: readonly string[];
}

/** A module of any params type, as stored in a stack. */
export type AnyModule<Req = Call, Res = unknown, Svc = Service<Req, Res>, Env = StackEnv<Req, Res>> =
  // biome-ignore lint/suspicious/noExplicitAny: a stack holds modules of heterogeneous params types
  Module<any, Req, Res, Svc, Env>;

/** The effective params of each module after the policy was applied, top to bottom. */
export interface StackDescription {
  readonly modules: readonly { role: string; description: string; params: object }[];
}

export class Stack<Req = Call, Res = unknown, Svc = Service<Req, Res>, Env = StackEnv<Req, Res>> {
  readonly modules: readonly AnyModule<Req, Res, Svc, Env>[];

  constructor(modules: readonly AnyModule<Req, Res, Svc, Env>[]) {
    const roles = new Set<string>();
    for (const m of modules) {
      if (roles.has(m.role)) throw new TypeError(`stack has two modules with role ${m.role}`);
      roles.add(m.role);
    }
    this.modules = modules;
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
    return new Stack([...this.modules.slice(0, i), module, ...this.modules.slice(i)]);
  }

  /** A new stack with `module` right below the module with role `role`. */
  insertAfter(role: string, module: AnyModule<Req, Res, Svc, Env>): Stack<Req, Res, Svc, Env> {
    const i = this.#index(role) + 1;
    return new Stack([...this.modules.slice(0, i), module, ...this.modules.slice(i)]);
  }

  /** A new stack with the module of role `role` replaced. */
  replace(role: string, module: AnyModule<Req, Res, Svc, Env>): Stack<Req, Res, Svc, Env> {
    const i = this.#index(role);
    return new Stack([...this.modules.slice(0, i), module, ...this.modules.slice(i + 1)]);
  }

  /** A new stack without the module of role `role`. */
  remove(role: string): Stack<Req, Res, Svc, Env> {
    const i = this.#index(role);
    return new Stack([...this.modules.slice(0, i), ...this.modules.slice(i + 1)]);
  }

  /** A new stack whose module `role` has `params` merged over its current params. */
  configure(role: string, params: object): Stack<Req, Res, Svc, Env> {
    const m = this.modules[this.#index(role)]!;
    return this.replace(role, { ...m, params: overlay(m.params, params) });
  }

  /** The params each module will run with under `policy`. */
  effective(policy: DestinationPolicy = {}): StackDescription {
    return {
      modules: this.modules.map((m) => ({
        role: m.role,
        description: m.description,
        params: overlay(m.params, m.fromPolicy?.(policy) ?? {}),
      })),
    };
  }

  /** Builds the service: each module wraps the one below, the terminal at the bottom. */
  build(terminal: Svc, env: Env, policy: DestinationPolicy = {}): Svc {
    const effective = this.effective(policy).modules;
    let service = terminal;
    for (let i = this.modules.length - 1; i >= 0; i--) {
      service = this.modules[i]!.make(effective[i]!.params, service, env);
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

  #index(role: string): number {
    const i = this.modules.findIndex((m) => m.role === role);
    if (i < 0) throw new TypeError(`stack has no module with role ${role} (roles: ${this.roles.join(', ')})`);
    return i;
  }
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
