/**
 * Fault-injecting backends on 127.0.0.1 for the chaos suite: Express apps (HTTP) and grpc-js
 * servers behind a TCP fault proxy (gRPC). Each can be switched at run time to one fault:
 *
 * - `kill`: the listener closes and every connection is reset (RST), as a `kill -9` leaves them;
 * - `hang`: requests are accepted and never answered;
 * - `reset-before-head`: the connection is reset once a request arrives, before any response;
 * - `reset-after-head` (HTTP): a 200 head and part of the body, then a reset;
 * - `slow`: ten times the usual latency;
 * - `restart`: `kill`, then listening again on the same port after `restartMs`.
 *
 * Every non-idempotent request carries an `x-req-id`; a backend records each one it starts to
 * process, so a test can prove that no POST (or non-idempotent RPC) ran twice.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { type AddressInfo, connect, createServer, type Server as NetServer, type Socket } from 'node:net';
import {
  Server as GrpcServer,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import express from 'express';
import { testServiceDefinition } from '../helpers.ts';

export type Fault = 'kill' | 'hang' | 'reset-before-head' | 'reset-after-head' | 'slow' | 'restart';
export type Mode = 'ok' | 'hang' | 'reset-before-head' | 'reset-after-head' | 'slow';

export interface Backend {
  readonly port: number;
  readonly endpoint: string;
  /** Non-idempotent request ids this backend started to process (one entry per execution). */
  readonly executed: string[];
  mode: Mode;
  /** Applies a fault; `restart` resolves once it listens again. */
  inject(fault: Fault, restartMs: number): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Tracks a server's sockets so that a kill can reset them all. */
function track(server: NetServer | HttpServer, sockets: Set<Socket>): void {
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
}

function resetAll(sockets: Set<Socket>): void {
  for (const s of sockets) s.resetAndDestroy();
  sockets.clear();
}

async function listen(server: NetServer | HttpServer, port: number): Promise<number> {
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** An Express backend answering `GET|POST /work` after `latencyMs`. */
export async function httpBackend(latencyMs: number): Promise<Backend> {
  const executed: string[] = [];
  const sockets = new Set<Socket>();
  const app = express();
  let self: Backend;
  app.all('/work', (req, res) => {
    const mode = self.mode;
    if (mode === 'hang') return;
    if (mode === 'reset-before-head') return req.socket.resetAndDestroy();
    const id = req.get('x-req-id');
    if (id !== undefined) executed.push(id);
    if (mode === 'reset-after-head') {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial');
      setTimeout(() => req.socket.resetAndDestroy(), 1);
      return;
    }
    setTimeout(() => res.send('ok'), mode === 'slow' ? latencyMs * 10 : latencyMs);
  });
  let server = createHttpServer(app);
  track(server, sockets);
  const port = await listen(server, 0);
  const kill = () => {
    server.close();
    resetAll(sockets);
  };
  self = {
    port,
    endpoint: `127.0.0.1:${port}`,
    executed,
    mode: 'ok',
    async inject(fault, restartMs) {
      if (fault === 'kill' || fault === 'restart') {
        kill();
        if (fault === 'kill') return;
        await sleep(restartMs);
        server = createHttpServer(app);
        track(server, sockets);
        await listen(server, port);
        return;
      }
      self.mode = fault;
    },
    async close() {
      kill();
    },
  };
  return self;
}

/**
 * A grpc-js TestService backend (EmptyCall is idempotent, UnaryCall is not) behind a TCP proxy that
 * injects the connection faults (kill, restart, reset); the client connects to the proxy's port.
 */
export async function grpcBackend(latencyMs: number): Promise<Backend> {
  const executed: string[] = [];
  let self: Backend;
  const handler = (call: ServerUnaryCall<object, object>, cb: sendUnaryData<object>) => {
    const mode = self.mode;
    if (mode === 'hang') return;
    const id = call.metadata.get('x-req-id')[0];
    if (id !== undefined) executed.push(String(id));
    setTimeout(() => cb(null, {}), mode === 'slow' ? latencyMs * 10 : latencyMs);
  };
  const grpc = new GrpcServer();
  grpc.addService(testServiceDefinition, { emptyCall: handler, unaryCall: handler } as never);
  const target = await new Promise<number>((resolve, reject) =>
    grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  const sockets = new Set<Socket>();
  const makeProxy = () => {
    const server = createServer((client) => {
      const upstream = connect(target, '127.0.0.1');
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      client.on('data', (chunk) => {
        if (self.mode === 'reset-before-head') {
          client.resetAndDestroy();
          upstream.destroy();
        } else upstream.write(chunk);
      });
      upstream.on('data', (chunk) => client.write(chunk));
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        a.on('error', () => b.destroy());
        a.on('close', () => b.destroy());
      }
    });
    track(server, sockets);
    return server;
  };
  let proxy = makeProxy();
  const port = await listen(proxy, 0);
  const kill = () => {
    proxy.close();
    resetAll(sockets);
  };
  self = {
    port,
    endpoint: `127.0.0.1:${port}`,
    executed,
    mode: 'ok',
    async inject(fault, restartMs) {
      if (fault === 'kill' || fault === 'restart') {
        kill();
        if (fault === 'kill') return;
        await sleep(restartMs);
        proxy = makeProxy();
        await listen(proxy, port);
        return;
      }
      if (fault === 'reset-after-head') throw new Error('reset-after-head is an HTTP fault');
      self.mode = fault;
    },
    async close() {
      kill();
      grpc.forceShutdown();
    },
  };
  return self;
}
