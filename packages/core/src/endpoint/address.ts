/**
 * What an endpoint's address may be: an IPv4 address, an IPv6 address (bare, without brackets or a
 * zone), or a DNS host name. Everything else — `host:port` in the address field, a URL, spaces,
 * CR/LF, a name whose last label is a number (a URL parser reads it as a malformed IPv4 address) —
 * is refused before it reaches a connection pool, with a sentence saying why.
 */
import { isIP } from 'node:net';

/** Host names: dot-separated labels of letters, digits, `-` and `_`, optionally a final dot. */
const HOST =
  /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;
/** A last label a URL parser takes for a number (decimal or hex), making the name an IPv4 address. */
const NUMERIC_LAST_LABEL = /(?:^|\.)(?:\d+|0x[0-9a-f]*)\.?$/i;

/** Why `address` cannot be an endpoint's address, or `undefined` when it can. */
export function addressProblem(address: unknown): string | undefined {
  if (typeof address !== 'string' || address === '') return 'must be a non-empty host name or IP address';
  if (address.length > 253) return 'must be at most 253 characters';
  const ip = isIP(address);
  if (ip === 4) return undefined;
  if (ip === 6) return address.includes('%') ? 'must not carry an IPv6 zone (%…)' : undefined;
  if (address.includes(':'))
    return 'must not contain ":" unless it is an IPv6 address (the port is a field of its own; no URL)';
  if (!HOST.test(address)) return 'must be an IP address or a host name (letters, digits, "-", "_", ".")';
  if (NUMERIC_LAST_LABEL.test(address)) return 'is neither an IPv4 address nor a host name';
  return undefined;
}

/** Why `port` cannot be an endpoint's port, or `undefined` when it can. */
export function portProblem(port: unknown): string | undefined {
  return typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535
    ? undefined
    : 'must be an integer in 1..65535';
}

/** True when `endpoint` has an address and a port that a connection can be made to. */
export function isUsableEndpoint(endpoint: { address: unknown; port: unknown }): boolean {
  return addressProblem(endpoint.address) === undefined && portProblem(endpoint.port) === undefined;
}
