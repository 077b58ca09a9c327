/**
 * The HTTP destination: core's `Destination` with one undici Pool per endpoint, the HTTP transport
 * and classifier, and a close that lets requests in flight finish, then destroys what is left.
 */
import {
  type Clock,
  Destination,
  type PolicySource,
  type Random,
  type Resolver,
  type Stack,
} from '@weft/core';
import type { DestinationPolicy } from '@weft/core/config';
import type { Pool } from 'undici';
import type { HttpCall } from './call.ts';
import { DEFAULT_RETRY_STATUSES, httpClassifier } from './classifier.ts';
import type { HttpExchange } from './exchange.ts';
import { createPool, httpProtocol, retirePool, send, type TransportOptions } from './transport.ts';

export type HttpDestination = Destination<HttpCall, HttpExchange, Pool>;

export interface HttpDestinationOptions {
  name: string;
  resolver: Resolver;
  /** The policy set in code (validated). */
  policy: DestinationPolicy;
  stack: Stack<HttpCall, HttpExchange>;
  transport: TransportOptions;
  config?: PolicySource;
  /** The caller's zone for zone-aware balancing. */
  localZone?: string;
  /** What made it, for `describe()`: `createClient` or `createDispatcher`. */
  kind?: string;
  clock?: Clock;
  random?: Random;
}

export function createHttpDestination(options: HttpDestinationOptions): HttpDestination {
  return new Destination<HttpCall, HttpExchange, Pool>({
    ...options,
    terminal: send,
    protocol: httpProtocol,
    classifier: (policy) => httpClassifier(policy.retry?.retryOnStatuses ?? DEFAULT_RETRY_STATUSES),
    connect: (endpoint) => createPool(endpoint, options.transport),
    // A removed endpoint's pool closes once its requests in flight have finished.
    disconnect: (pool) => {
      pool
        .close()
        .catch(() => {})
        .finally(() => retirePool(pool));
    },
  });
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
