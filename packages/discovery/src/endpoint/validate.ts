/**
 * Checks endpoint input from users and files. Each problem is reported with the path of the field
 * (`endpoints[3].port`) so that a bad file or option can be fixed without guessing.
 */
import type { Endpoint } from '@weft/core';
import { endpointKey } from '@weft/core';
import { hostIssue, normalizeHost, portIssue } from '@weft/core/config';

/** A field that failed validation: `field` is its path (`endpoints[3].port`). */
export class EndpointInputError extends Error {
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`${field} ${problem}`);
    this.name = 'EndpointInputError';
    this.field = field;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates one endpoint and returns a clean copy (only known fields). The address must be an IP
 * address or a host name (core's one host rule, `hostIssue`): no `host:port`, URL or control characters.
 */
export function validateEndpoint(value: unknown, field: string): Endpoint {
  if (!isRecord(value)) throw new EndpointInputError(field, `must be an object (got ${describe(value)})`);
  const { address, port, labels, weight } = value;
  const hostProblem = hostIssue(address);
  if (hostProblem) throw new EndpointInputError(`${field}.address`, hostProblem);
  const portProblem = portIssue(port);
  if (portProblem) throw new EndpointInputError(`${field}.port`, portProblem);
  const out: { address: string; port: number; labels?: Record<string, string>; weight?: number } = {
    address: normalizeHost(address as string),
    port: port as number,
  };
  if (labels !== undefined) {
    if (!isRecord(labels)) throw new EndpointInputError(`${field}.labels`, `must be an object of strings`);
    const clean: Record<string, string> = {};
    for (const [k, v] of Object.entries(labels)) {
      if (typeof v !== 'string') {
        throw new EndpointInputError(`${field}.labels.${k}`, `must be a string (got ${describe(v)})`);
      }
      clean[k] = v;
    }
    out.labels = clean;
  }
  if (weight !== undefined) {
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) {
      throw new EndpointInputError(
        `${field}.weight`,
        `must be a finite number > 0 (got ${describe(weight)})`,
      );
    }
    out.weight = weight;
  }
  return out;
}

/**
 * Validates a list of endpoints. Two entries with the same `address:port` are an error: a set has
 * one entry per endpoint, and silently picking one would hide a mistake.
 */
export function validateEndpoints(value: unknown, field: string): Endpoint[] {
  if (!Array.isArray(value)) throw new EndpointInputError(field, `must be an array (got ${describe(value)})`);
  const seen = new Map<string, number>();
  const out: Endpoint[] = [];
  for (let i = 0; i < value.length; i++) {
    const e = validateEndpoint(value[i], `${field}[${i}]`);
    const key = endpointKey(e);
    const first = seen.get(key);
    if (first !== undefined) {
      throw new EndpointInputError(`${field}[${i}]`, `duplicates ${field}[${first}] (${key})`);
    }
    seen.set(key, i);
    out.push(e);
  }
  return out;
}
