/**
 * The clients under comparison, each as a request function for the load generators. Every variant
 * reads the whole response body, so they all do the same work per request.
 */
import { type ClientOptions, createClient, createDispatcher } from '@weft/http';
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
  endpoints: readonly string[],
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
