/**
 * The endpoint file format, in JSON or YAML:
 *
 * ```yaml
 * endpoints:
 *   - { address: 10.0.0.1, port: 8080, labels: { zone: eu-1a, version: v2 }, weight: 2 }
 * ```
 *
 * or, for one file shared by several services, `services: { <name>: { endpoints: [...] } }`, read
 * with the resolver's `service` option.
 */
import type { Endpoint } from '@weft/core';
import { parse as parseYaml } from 'yaml';
import { EndpointInputError, validateEndpoints } from '../endpoint/validate.ts';

export type FileFormat = 'json' | 'yaml';

/** What a file says about one service: its endpoints, or `negative` for an explicitly empty list. */
export type FileContent =
  | { readonly kind: 'bound'; readonly endpoints: Endpoint[] }
  | { readonly kind: 'negative' };

/** Picks the parser by extension: `.json` is strict JSON, anything else YAML (a superset of JSON). */
export function formatOf(path: string): FileFormat {
  return path.toLowerCase().endsWith('.json') ? 'json' : 'yaml';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses and validates a file's text. Throws an `Error` whose message names the problem and, for a
 * bad field, its path (`endpoints[3].port`).
 */
export function parseEndpointFile(
  text: string,
  format: FileFormat,
  service: string | undefined,
): FileContent {
  let doc: unknown;
  try {
    doc = format === 'json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(
      `invalid ${format === 'json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  if (!isRecord(doc)) {
    throw new Error(
      text.trim() === '' ? 'the file is empty' : 'the document must be an object with an "endpoints" list',
    );
  }
  let field = 'endpoints';
  let list = doc.endpoints;
  if (service !== undefined && doc.services !== undefined) {
    if (!isRecord(doc.services)) throw new Error('services must be an object keyed by service name');
    const entry = doc.services[service];
    if (!isRecord(entry)) throw new Error(`services.${service} is missing or not an object`);
    field = `services.${service}.endpoints`;
    list = entry.endpoints;
  }
  if (list === undefined) throw new Error(`${field} is missing`);
  try {
    const endpoints = validateEndpoints(list, field);
    return endpoints.length === 0 ? { kind: 'negative' } : { kind: 'bound', endpoints };
  } catch (err) {
    if (err instanceof EndpointInputError) throw new Error(err.message);
    throw err;
  }
}
