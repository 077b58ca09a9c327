/**
 * What an endpoint's address may be, for resolvers and transports: the one host rule of
 * `config/names.ts` (an IPv4 address, an IPv6 address, or a DNS host name; never a URL, a
 * `host:port`, spaces or CR/LF), with IPv6 bare, as an `Endpoint` holds it. Refused before it
 * reaches a connection pool, with a sentence saying why.
 */
import { hostIssue, portIssue } from '../config/names.ts';

/** Why `address` cannot be an endpoint's address, or `undefined` when it can. */
export function addressProblem(address: unknown): string | undefined {
  if (typeof address === 'string' && address.startsWith('['))
    return 'must be a bare IPv6 address, without brackets';
  return hostIssue(address);
}

/** Why `port` cannot be an endpoint's port, or `undefined` when it can. */
export const portProblem: (port: unknown) => string | undefined = portIssue;

/** True when `endpoint` has an address and a port that a connection can be made to. */
export function isUsableEndpoint(endpoint: { address: unknown; port: unknown }): boolean {
  return addressProblem(endpoint.address) === undefined && portProblem(endpoint.port) === undefined;
}
