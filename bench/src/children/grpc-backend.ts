/**
 * A gRPC backend process: one plain grpc-js server per endpoint, each on 127.0.0.1 port 0, serving
 * the bench's unary `Ping` (a 16-byte answer at once). argv[2] is JSON `{ endpoints: number }`.
 * Prints `{ ports }` when listening.
 */
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { BENCH_SERVICE, PING_RESPONSE } from '../lib/grpc-service.ts';

const config = JSON.parse(process.argv[2] ?? '{"endpoints":1}') as { endpoints: number };
const servers: Server[] = [];

const ping = (_call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): void => {
  callback(null, PING_RESPONSE);
};

function listen(): Promise<number> {
  const server = new Server();
  server.addService(BENCH_SERVICE, { ping });
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(port),
    );
  });
}

const ports = await Promise.all(Array.from({ length: config.endpoints }, listen));
process.stdout.write(`${JSON.stringify({ ports })}\n`);
// The parent closing our stdin (or dying) ends us.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => {
  for (const s of servers) s.forceShutdown();
  process.exit(0);
});
