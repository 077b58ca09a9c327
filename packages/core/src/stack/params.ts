/**
 * Params declared once. Each module describes each of its params a single time — type and range
 * (a zod schema), default, a one-line doc and where a destination policy sets it — and everything
 * else derives from that declaration: the module's defaults, the `DestinationPolicy` schema the
 * config service validates with, the configuration reference, what a module reads from a policy,
 * the check a stack runs before it builds, and `describe()`.
 *
 * A value the policy schema accepts is therefore one the module accepts, and the other way round;
 * rules across fields (`backoffMaxMs ≥ backoffInitialMs`) are a module's `check`, run on the
 * effective params.
 */
import { z } from 'zod';
import { invalidOption } from '../errors/errors.ts';

/** One param: its type and range, default, doc line and policy path. */
export interface ParamSpec<T = unknown> {
  /** Type and range of the value as a module runs with it. */
  readonly schema: z.ZodType<T>;
  /** The built-in default. */
  readonly default: T;
  /** One line: what it does and why this default. */
  readonly doc: string;
  /** The dotted path a destination policy sets it at (`retry.maxAttempts`); none: code only. */
  readonly policy: string | undefined;
  /** The params of a group (a retry budget), when this param is one. */
  readonly fields: ParamSpecs<T & object> | undefined;
}

/** The declaration of every param of a module whose params are `P`. */
export type ParamSpecs<P> = { readonly [K in keyof P]-?: ParamSpec<P[K]> };

// biome-ignore lint/suspicious/noExplicitAny: a spec table of heterogeneous params
type AnySpecs = Record<string, ParamSpec<any>>;

/** Declares a param. */
export function param<T>(schema: z.ZodType<T>, defaultValue: T, doc: string, policy?: string): ParamSpec<T> {
  return { schema, default: defaultValue, doc, policy, fields: undefined };
}

/** Declares a group of params (merged field by field over the code's values). */
export function paramGroup<P extends object>(
  fields: ParamSpecs<P>,
  doc: string,
  policy?: string,
): ParamSpec<P> {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, spec] of Object.entries(fields as AnySpecs)) shape[key] = spec.schema;
  return {
    schema: z.strictObject(shape) as unknown as z.ZodType<P>,
    default: defaultsOf(fields),
    doc,
    policy,
    fields: fields as ParamSpecs<P & object>,
  };
}

/** The defaults of a spec table. */
export function defaultsOf<P>(specs: ParamSpecs<P>): P {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(specs as AnySpecs)) out[key] = spec.default;
  return out as P;
}

/** The policy field of a param: its schema, optional, with its doc and default as description. */
type PolicyField<S> =
  S extends ParamSpec<infer T>
    ? T extends readonly unknown[]
      ? z.ZodOptional<z.ZodType<T>>
      : T extends object
        ? z.ZodOptional<z.ZodType<Partial<T>>>
        : z.ZodOptional<z.ZodType<T>>
    : never;

/** The fields a policy group has, one per param with a policy path (a group nests, all optional). */
export function policyFields<S extends AnySpecs>(specs: S): { [K in keyof S]: PolicyField<S[K]> } {
  const out: Record<string, z.ZodType> = {};
  for (const [key, spec] of Object.entries(specs)) {
    if (spec.policy === undefined) continue;
    out[key] = policyField(spec);
  }
  return out as { [K in keyof S]: PolicyField<S[K]> };
}

/** One param as a policy field. */
export function policyField<T>(spec: ParamSpec<T>): PolicyField<ParamSpec<T>> {
  const base = spec.fields ? z.strictObject(policyFields(spec.fields as AnySpecs)) : spec.schema;
  return base.optional().describe(describeDefault(spec)) as never;
}

/** The doc line with its default, as the configuration reference prints it. */
function describeDefault(spec: ParamSpec): string {
  if (spec.fields) return spec.doc;
  const value = typeof spec.default === 'string' ? `\`${spec.default}\`` : JSON.stringify(spec.default);
  return `${spec.doc} Defaults to ${value}.`;
}

/**
 * What a policy sets for a module, read at the declared paths (a group is read whole, partial,
 * and merged field by field by the stack).
 */
export function readPolicy<P>(specs: ParamSpecs<P>, policy: object): Partial<P> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const [key, spec] of Object.entries(specs as AnySpecs)) {
    if (spec.policy === undefined) continue;
    const value = at(policy, spec.policy);
    if (value === undefined) continue;
    out ??= {};
    out[key] = value;
  }
  return out as Partial<P> | undefined;
}

function at(value: unknown, path: string): unknown {
  let v = value;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/**
 * Checks a module's effective params against its declaration: every value in type and range, no
 * unknown key. The error names the role and the param by its policy path when it has one.
 */
export function checkParams<P>(role: string, specs: ParamSpecs<P>, params: object): void {
  for (const key of Object.keys(params)) {
    if (!(key in (specs as object)))
      throw invalidOption(`${role}.${key}`, `is not a param of module ${role} (${knownList(specs)})`);
  }
  for (const [key, spec] of Object.entries(specs as AnySpecs)) {
    const value = (params as Record<string, unknown>)[key];
    const result = spec.schema.safeParse(value);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      const where = [spec.policy ?? `${role}.${key}`, ...issue.path.map(String)].join('.');
      const fieldSpec =
        issue.path.length && spec.fields ? (spec.fields as AnySpecs)[String(issue.path[0])] : spec;
      throw invalidOption(where, allowed(fieldSpec?.schema, issue.message));
    }
  }
}

/**
 * Checks a partial override (`Stack.configure`): known keys only, nested groups too, each value
 * in type and range. The error names the unknown key and lists the known ones.
 */
export function checkOverride<P>(role: string, specs: ParamSpecs<P>, override: object, prefix = ''): void {
  for (const [key, value] of Object.entries(override)) {
    const spec = (specs as AnySpecs)[key];
    if (spec === undefined)
      throw invalidOption(
        `${role}.${prefix}${key}`,
        `is not a param of module ${role} (${knownList(specs)})`,
      );
    if (value === undefined) continue;
    if (spec.fields && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      checkOverride(role, spec.fields, value, `${prefix}${key}.`);
      continue;
    }
    const result = spec.schema.safeParse(value);
    if (!result.success)
      throw invalidOption(
        spec.policy ?? `${role}.${prefix}${key}`,
        allowed(spec.schema, result.error.issues[0]!.message),
      );
  }
}

/** What a param allows, in words (`must be an integer within 1–10`), from its schema. */
function allowed(schema: z.ZodType | undefined, fallback: string): string {
  if (schema === undefined) return fallback;
  const json = z.toJSONSchema(schema) as {
    type?: string;
    enum?: unknown[];
    minimum?: number;
    maximum?: number;
    exclusiveMinimum?: number;
  };
  if (json.enum) return `must be one of ${json.enum.join(', ')}`;
  if (json.type === 'boolean') return 'must be true or false';
  if (json.type === 'integer' || json.type === 'number') {
    const what = json.type === 'integer' ? 'an integer' : 'a number';
    if (json.exclusiveMinimum !== undefined)
      return `must be ${what} > ${json.exclusiveMinimum}${json.maximum !== undefined ? ` and ≤ ${json.maximum}` : ''}`;
    if (json.minimum !== undefined && json.maximum !== undefined)
      return `must be ${what} within ${json.minimum}–${json.maximum}`;
    if (json.minimum !== undefined) return `must be ${what} ≥ ${json.minimum}`;
    return `must be ${what}`;
  }
  return fallback;
}

function knownList(specs: object): string {
  const keys = Object.keys(specs);
  return keys.length ? `its params: ${keys.join(', ')}` : 'it has no params';
}
