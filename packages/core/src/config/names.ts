/**
 * The one rule for names and hosts, shared by the config service (registry and documents), the
 * resolvers and the clients, so that a name one side accepts is never refused by the other.
 *
 * Service and document names are DNS names in the sense of RFC 1123: dot-separated labels of 1–63
 * lowercase letters, digits and `-`, each starting and ending with a letter or digit, 253
 * characters at most. So `a..b`, `.a`, `a-.b` and `A` are refused. Hosts (registered addresses,
 * resolver answers) are an IPv4 address, an IPv6 address (bare or in brackets) or a DNS host name
 * (any case, `_` allowed); never a URL, a `host:port`, whitespace or control characters.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { invalidOption } from '../errors/errors.ts';

/** Longest service, document or host name. */
export const MAX_NAME_LENGTH = 253;

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// Host labels also take `_`: not RFC 1123, but common in container names (`shop_web_1`), and
// resolvers and URL parsers accept it.
const HOST_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

const show = (value: unknown): string => {
  if (typeof value !== 'string') return value === null ? 'null' : typeof value;
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
};

/** What is wrong with a dot-separated name: its length, an empty label, a long label or a bad one. */
function labelsProblem(
  name: string,
  label: RegExp,
): 'empty' | 'long' | 'dots' | 'label-long' | 'label' | undefined {
  if (name.length === 0) return 'empty';
  if (name.length > MAX_NAME_LENGTH) return 'long';
  for (const part of name.split('.')) {
    if (part === '') return 'dots';
    if (part.length > 63) return 'label-long';
    if (!label.test(part)) return 'label';
  }
  return undefined;
}

/**
 * Why `name` is not a valid service or document name, or undefined when it is. Lowercase letters,
 * digits, `-` and `.`; labels start and end alphanumeric; no empty label.
 */
export function serviceNameIssue(name: unknown): string | undefined {
  if (typeof name !== 'string') return `must be a string (got ${show(name)})`;
  switch (labelsProblem(name, LABEL)) {
    case undefined:
      return undefined;
    case 'empty':
      return 'must not be empty';
    case 'long':
      return `must be at most ${MAX_NAME_LENGTH} characters`;
    case 'dots':
      return `must not have an empty label ("..", or a leading or trailing ".") (got ${show(name)})`;
    case 'label-long':
      return `must not have a label longer than 63 characters (got ${show(name)})`;
    default:
      return `must be lowercase letters, digits, "-" or ".", each label starting and ending with a letter or digit (got ${show(name)})`;
  }
}

/** Returns `name` when it is a valid service name; throws `WEFT_INVALID_OPTION` naming `field`. */
export function validateServiceName(name: unknown, field = 'service'): string {
  const issue = serviceNameIssue(name);
  if (issue) throw invalidOption(field, issue);
  return name as string;
}

/** Why `host` is not an IPv4 address, IPv6 address (bare or bracketed) or DNS host name. */
export function hostIssue(host: unknown): string | undefined {
  if (typeof host !== 'string') return `must be a string (got ${show(host)})`;
  if (host.startsWith('[') && host.endsWith(']'))
    return isIPv6(host.slice(1, -1))
      ? undefined
      : `must be an IPv6 address inside brackets (got ${show(host)})`;
  if (isIPv4(host)) return undefined;
  if (isIPv6(host)) return host.includes('%') ? `must not carry an IPv6 zone (got ${show(host)})` : undefined;
  if (/^[0-9.]+$/.test(host)) return `is not a valid IPv4 address (got ${show(host)})`;
  // A last label a URL parser reads as a number (decimal or hex) makes the whole name an IPv4
  // address to it (`10.0.0.256`, `host.0x1`): such a name could never be dialled as written.
  if (/(?:^|\.)(?:\d+|0x[0-9a-f]*)\.?$/i.test(host))
    return `is neither an IPv4 address nor a host name (got ${show(host)})`;
  if (labelsProblem(host.endsWith('.') ? host.slice(0, -1) : host, HOST_LABEL) !== undefined)
    return `must be an IPv4 address, an IPv6 address or a host name, without scheme, port, path or spaces (got ${show(host)})`;
  return undefined;
}

/** The host as it is stored and dialled: brackets of an IPv6 address removed. */
export function normalizeHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Why `port` is not an integer in 1..65535, or undefined. */
export function portIssue(port: unknown): string | undefined {
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535
    ? undefined
    : `must be an integer in 1..65535 (got ${typeof port === 'number' ? port : show(port)})`;
}

/** Returns the normalized host when valid; throws `WEFT_INVALID_OPTION` naming `field`. */
export function validateHost(host: unknown, field = 'address'): string {
  const issue = hostIssue(host);
  if (issue) throw invalidOption(field, issue);
  return normalizeHost(host as string);
}
