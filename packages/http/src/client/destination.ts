/**
 * The HTTP destination: core's `Destination` over the HTTP binding (one undici Pool per endpoint),
 * built by core's `createDestination` for `createClient` and `createDispatcher` alike, and a close
 * that lets requests in flight finish, then destroys what is left.
 */
import { ClientMtls, createDestination, type Destination, type PeerAuthenticationSource } from '@weft/core';
import type { Pool } from 'undici';
import { httpBinding } from './binding.ts';
import type { HttpCall } from './call.ts';
import type { HttpExchange } from './exchange.ts';
import type { ClientOptions } from './options.ts';
import { retirePool } from './transport.ts';

export type HttpDestination = Destination<HttpCall, HttpExchange, Pool>;

/** The destination `name` of a client made by `kind` (`createClient`, `createDispatcher`). */
export function createHttpDestination(
  name: string,
  options: Omit<ClientOptions, 'service'>,
  kind: string,
): HttpDestination {
  // Without the `mtls` option the plan still refuses plaintext to a STRICT destination.
  const config = options.config?.peerAuthentication
    ? (options.config as PeerAuthenticationSource)
    : undefined;
  const mtls = options.mtls || config ? new ClientMtls(name, options.mtls, config) : undefined;
  return createDestination(httpBinding(options, mtls), name, options, { kind, customize: options.stack });
}

/** How long closing a destination lets requests in flight finish, in ms. */
export const CLOSE_TIMEOUT_MS = 5_000;

/**
 * Closes a destination: requests in flight finish first. A response whose body nobody reads would
 * hold its pool open forever, so after `timeoutMs` what is left is destroyed.
 */
export async function closeHttpDestination(
  destination: HttpDestination,
  timeoutMs = CLOSE_TIMEOUT_MS,
): Promise<void> {
  const pools = destination.close();
  const graceful = Promise.allSettled(pools.map((p) => p.close()));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  if ((await Promise.race([graceful, late])) === 'late')
    await Promise.allSettled(pools.map((p) => p.destroy()));
  clearTimeout(timer);
  for (const p of pools) retirePool(p);
}
