/**
 * What each way of putting Weft into grpc-js costs on a unary call, on loopback:
 *
 *   direct        plain grpc-js client on one `host:port` (the floor)
 *   resolver      plain grpc-js client on `weft:///bench`: Weft discovery, grpc-js round_robin policy
 *   lb-policy     the same with a prototype P2C peak-EWMA grpc-js LB policy (./p2c-policy.ts): the
 *                 per-call cost of the LB-policy route
 *   weft          `createGrpcClient`: the interceptor running the full Weft stack over
 *                 per-endpoint channels
 *   weft+server   the same against servers with Weft's server interceptor
 *
 * Two servers, empty messages. Latency: sequential calls (p50/p99 in µs); throughput: calls/s with
 * 64 in flight; medians of interleaved rounds. Run: node_modules/.bin/node --conditions=weft-source packages/grpc/bench/unary-overhead.ts
 *
 * `weft` against plain grpc-js on four endpoints is also scenario `grpc-overhead` of `npm run bench`
 * (throughput, client CPU per call, paced latency); this script is for the routes the bench leaves
 * out: resolver only, LB policy, and the server interceptor.
 */
import { credentials, Server, ServerCredentials, type ServerOptions } from '@grpc/grpc-js';
import { StaticResolver } from '@weft/core';
import { createGrpcClient, grpcServerRuntime, registerWeftResolver } from '../src/index.ts';
import { type TestClient, TestServiceClient } from '../test/helpers.ts';
import { P2C_POLICY, registerP2cPolicy } from './p2c-policy.ts';

const SEQUENTIAL = Number(process.env.CALLS ?? 4000);
const THROUGHPUT_MS = Number(process.env.DURATION_MS ?? 3000);
const CONCURRENCY = 64;
const ROUNDS = Number(process.env.ROUNDS ?? 3);

async function server(options: ServerOptions): Promise<{ port: number; close(): void }> {
  const s = new Server(options);
  s.addService(TestServiceClient.service, {
    emptyCall: (_c: unknown, cb: (e: null, r: object) => void) => cb(null, {}),
  });
  const port = await new Promise<number>((resolve, reject) =>
    s.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { port, close: () => s.forceShutdown() };
}

const call = (client: TestClient) =>
  new Promise<void>((resolve, reject) =>
    client.emptyCall({}, (err: Error | null) => (err ? reject(err) : resolve())),
  );

async function measure(client: TestClient) {
  const samples = new Float64Array(SEQUENTIAL);
  for (let i = 0; i < SEQUENTIAL; i++) {
    const t = performance.now();
    await call(client);
    samples[i] = performance.now() - t;
  }
  samples.sort();
  const q = (p: number) =>
    Math.round(samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]! * 1000);
  let done = 0;
  const until = performance.now() + THROUGHPUT_MS;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        await call(client);
        done++;
      }
    }),
  );
  return { p50: q(0.5), p99: q(0.99), rps: Math.round(done / (THROUGHPUT_MS / 1000)) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const plain = [await server({}), await server({})];
const runtime = grpcServerRuntime({ concurrency: false });
const weftServers = [
  await server({ interceptors: [runtime.interceptor] }),
  await server({ interceptors: [runtime.interceptor] }),
];
const endpoints = plain.map((s) => `127.0.0.1:${s.port}`);
registerP2cPolicy();
registerWeftResolver({
  resolve: () => new StaticResolver(plain.map((s) => ({ address: '127.0.0.1', port: s.port }))),
});

console.log(
  `node ${process.version}, ${SEQUENTIAL} sequential calls, ${CONCURRENCY} in flight for ${THROUGHPUT_MS} ms, median of ${ROUNDS} rounds`,
);
const clients: [string, TestClient][] = [
  ['direct', new TestServiceClient(endpoints[0]!, credentials.createInsecure())],
  ['resolver', new TestServiceClient('weft:///bench', credentials.createInsecure())],
  [
    'lb-policy',
    new TestServiceClient('weft:///bench', credentials.createInsecure(), {
      'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ [P2C_POLICY]: {} }] }),
    }),
  ],
  ['weft', createGrpcClient(TestServiceClient, 'bench', { endpoints })],
  [
    'weft+server',
    createGrpcClient(TestServiceClient, 'bench-server', {
      endpoints: weftServers.map((s) => `127.0.0.1:${s.port}`),
    }),
  ],
];
// Warm every client first (JIT, connections), then measure in interleaved rounds; report medians.
for (const [, client] of clients) for (let i = 0; i < 2000; i++) await call(client);
const results = new Map<string, { p50: number; p99: number; rps: number }[]>();
for (let round = 0; round < ROUNDS; round++)
  for (const [name, client] of clients) {
    const r = await measure(client);
    results.set(name, [...(results.get(name) ?? []), r]);
  }
for (const [name, rs] of results) {
  const p50 = median(rs.map((r) => r.p50));
  const p99 = median(rs.map((r) => r.p99));
  const rps = median(rs.map((r) => r.rps));
  console.log(
    `${name.padEnd(12)} p50 ${String(p50).padStart(5)} µs  p99 ${String(p99).padStart(6)} µs  ${String(rps).padStart(6)} calls/s`,
  );
}
for (const [, client] of clients) client.close();
for (const s of [...plain, ...weftServers]) s.close();
