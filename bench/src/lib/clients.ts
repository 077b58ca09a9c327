/**
 * The clients under comparison, each as a request function for the load generators. Every variant
 * reads the whole response body, so they all do the same work per request.
 */
import { type ClientOptions, createClient, createDispatcher } from '@weft/http';
import {
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleAll,
  retry,
  TimeoutStrategy,
  timeout,
  wrap,
} from 'cockatiel';
import { Pool, request, fetch as undiciFetch } from 'undici';
import type { RequestFn } from './load.ts';

export interface BenchClient {
  readonly name: string;
  readonly fn: RequestFn;
  close(): Promise<void>;
}

/** Connections per endpoint, the same for every variant (Weft's default). */
export const CONNECTIONS = 16;

/** Raw `undici.request`, round robin over one Pool per endpoint: what a user writes without a mesh. */
export function rawRequest(
  endpoints: readonly string[],
  connections = CONNECTIONS,
  name = 'raw undici.request',
): BenchClient {
  const pools = endpoints.map((e) => new Pool(`http://${e}`, { connections, keepAliveTimeout: 60_000 }));
  const urls = endpoints.map((e) => `http://${e}/`);
  let next = 0;
  return {
    name,
    async fn() {
      const i = next;
      next = i + 1 === pools.length ? 0 : i + 1;
      const res = await request(urls[i]!, { dispatcher: pools[i]! });
      await res.body.text();
      return res.statusCode < 500;
    },
    async close() {
      await Promise.all(pools.map((p) => p.close()));
    },
  };
}

/**
 * `undici.request` wrapped in cockatiel 4, round robin over one Pool per endpoint: what users
 * hand-roll today instead of a mesh. Settings: cockatiel's documented defaults where it has them
 * (`ExponentialBackoff()`: 128 ms initial, 30 s max, decorrelated jitter); where it has none
 * (`retry` defaults to unbounded attempts, `circuitBreaker` and `timeout` have required settings),
 * the values of its README's example — 3 attempts, a `ConsecutiveBreaker(5)`, half-open after 10 s —
 * and Weft's own default total timeout, 15 s, cooperative (the signal goes to undici, so a timed-out
 * request is cancelled, not left running). One breaker for all endpoints, like Weft's per
 * destination. The body is read inside the policy, so the timeout covers it, and a 5xx is thrown so
 * the breaker and the retry see it.
 */
export function cockatielWrapped(endpoints: readonly string[]): BenchClient {
  const pools = endpoints.map(
    (e) => new Pool(`http://${e}`, { connections: CONNECTIONS, keepAliveTimeout: 60_000 }),
  );
  const urls = endpoints.map((e) => `http://${e}/`);
  const policy = wrap(
    retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
    circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
    timeout(15_000, TimeoutStrategy.Cooperative),
  );
  let next = 0;
  return {
    name: 'undici.request wrapped in cockatiel',
    fn: () =>
      policy.execute(async ({ signal }) => {
        const i = next;
        next = i + 1 === pools.length ? 0 : i + 1;
        const res = await request(urls[i]!, { dispatcher: pools[i]!, signal });
        await res.body.text();
        if (res.statusCode >= 500) throw new Error(`status ${res.statusCode}`);
        return true;
      }),
    async close() {
      await Promise.all(pools.map((p) => p.close()));
    },
  };
}

/** Raw undici `fetch` over the same pools: the reference for the fetch-shaped Weft client. */
export function rawFetch(endpoints: readonly string[]): BenchClient {
  const pools = endpoints.map(
    (e) => new Pool(`http://${e}`, { connections: CONNECTIONS, keepAliveTimeout: 60_000 }),
  );
  const urls = endpoints.map((e) => `http://${e}/`);
  let next = 0;
  return {
    name: 'raw undici fetch',
    async fn() {
      const i = next;
      next = i + 1 === pools.length ? 0 : i + 1;
      const res = await undiciFetch(urls[i]!, { dispatcher: pools[i]! });
      await res.text();
      return res.status < 500;
    },
    async close() {
      await Promise.all(pools.map((p) => p.close()));
    },
  };
}

/** `undici.request` through the Weft dispatcher (full default stack): same call shape as raw. */
export function weftDispatcher(
  endpoints: NonNullable<ClientOptions['endpoints']>,
  options: Omit<ClientOptions, 'service' | 'endpoints'> = {},
  name = 'Weft dispatcher + undici.request',
): BenchClient {
  const dispatcher = createDispatcher({
    services: { bench: { endpoints, keepAliveTimeoutMs: 60_000, ...options } },
    fallback: false,
  });
  return {
    name,
    async fn() {
      const res = await request('http://bench/', { dispatcher });
      await res.body.text();
      return res.statusCode < 500;
    },
    close: () => dispatcher.close(),
  };
}

/** `createClient(...).fetch` (full default stack), a standard Response per call. */
export function weftClient(
  endpoints: readonly string[],
  options: Omit<ClientOptions, 'service' | 'endpoints'> = {},
  name = 'Weft createClient().fetch',
): BenchClient {
  const client = createClient({ service: 'bench', endpoints, keepAliveTimeoutMs: 60_000, ...options });
  return {
    name,
    async fn() {
      const res = await client.fetch('/');
      await res.text();
      return res.status < 500;
    },
    close: () => client.close(),
  };
}
