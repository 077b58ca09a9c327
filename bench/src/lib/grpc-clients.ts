/**
 * The gRPC clients under comparison, each as a request function for the load generators: the same
 * generated-style client and the same unary call in both, only where the channels come from differs.
 */
import { credentials } from '@grpc/grpc-js';
import { createGrpcClient, type GrpcClientOptions } from '@weft/grpc';
import type { BenchClient } from './clients.ts';
import { PING_REQUEST, type PingClient, PingClientCtor } from './grpc-service.ts';
import type { RequestFn } from './load.ts';

/** One unary call; a failure rejects, so the load generator counts it and keeps its message. */
function ping(client: PingClient): Promise<boolean> {
  return new Promise((resolve, reject) => {
    client.ping(PING_REQUEST, (error) => (error ? reject(error) : resolve(true)));
  });
}

/**
 * Plain grpc-js: one client (one channel, one HTTP/2 connection) per endpoint, calls round robin
 * over them — what a user writes without a mesh.
 */
export function plainGrpcClient(endpoints: readonly string[], name = 'plain grpc-js client'): BenchClient {
  const clients = endpoints.map((e) => new PingClientCtor(e, credentials.createInsecure()));
  let next = 0;
  const fn: RequestFn = () => {
    const i = next;
    next = i + 1 === clients.length ? 0 : i + 1;
    return ping(clients[i]!);
  };
  return {
    name,
    fn,
    async close() {
      for (const c of clients) c.close();
    },
  };
}

/**
 * `createGrpcClient` over the same endpoints (static endpoints): the full default Weft stack, one
 * channel per endpoint.
 */
export function weftGrpcClient(
  endpoints: readonly string[],
  options: Omit<GrpcClientOptions, 'endpoints'> = {},
  name = 'Weft createGrpcClient (full default stack)',
): BenchClient {
  const client = createGrpcClient(PingClientCtor, 'bench-grpc', { endpoints, ...options });
  return {
    name,
    fn: () => ping(client),
    async close() {
      client.close();
    },
  };
}
