/**
 * Mixed chains on real servers: HTTP → gRPC → HTTP with one deadline and one trace end to end, and
 * gRPC → gRPC with the retry marker. An Express app with Weft's middleware calls a Weft gRPC server
 * through `createGrpcClient`; its handler calls another Express app through `@weft/http`. Nobody
 * passes a deadline or a trace by hand: each hop inherits them from the request it handles.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  Metadata,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  status as Status,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { currentContext, Header } from '@weft/core';
import { createClient, type WeftClient } from '@weft/http';
import { weft } from '@weft/http/express';
import express, { type Request, type Response } from 'express';
import { createGrpcClient, createGrpcServer, type WeftGrpcServer } from '../src/index.ts';
import { type TestClient, TestServiceClient, testServiceDefinition, unary } from './helpers.ts';
import { installOtel, points, spans } from './otel.ts';

let uninstall: () => Promise<void>;
const servers: Server[] = [];
const grpcServers: WeftGrpcServer[] = [];
const httpClients: WeftClient[] = [];
const grpcClients: TestClient[] = [];

before(() => {
  uninstall = installOtel();
});
after(async () => {
  for (const c of grpcClients) c.close();
  await Promise.all(httpClients.map((c) => c.close()));
  await Promise.all(grpcServers.map((s) => s.drain()));
  await Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        }),
    ),
  );
  await uninstall();
});

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** An Express app with Weft's middleware and one GET route, on 127.0.0.1:0. */
async function httpApp(path: string, handler: (req: Request, res: Response) => Promise<void> | void) {
  const app = express();
  const mesh = weft({ drainSignals: false });
  app.use(mesh);
  app.get(path, (req, res, next) => {
    Promise.resolve(handler(req, res)).catch(next);
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  mesh.attach(server);
  servers.push(server);
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function grpcApp(
  unaryCall: (call: ServerUnaryCall<object, object>, cb: sendUnaryData<object>) => void,
) {
  const server = createGrpcServer();
  server.addService(testServiceDefinition, { unaryCall } as never);
  const port = await server.listen('127.0.0.1:0');
  grpcServers.push(server);
  return `127.0.0.1:${port}`;
}

function grpcClient(service: string, endpoint: string): TestClient {
  const c = createGrpcClient(TestServiceClient, service, {
    endpoints: [endpoint],
    retry: { backoffInitialMs: 0 },
  });
  grpcClients.push(c);
  return c;
}

function httpClient(service: string, endpoint: string, timeoutMs?: number): WeftClient {
  const c = createClient({ service, endpoints: [endpoint], timeoutMs });
  httpClients.push(c);
  return c;
}

const traceId = (traceparent: string | undefined) => traceparent?.split('-')[1];

describe('HTTP → gRPC → HTTP', () => {
  test('one deadline shrinks across the hops and one trace spans the three services', async () => {
    // C: HTTP, reports the deadline and trace it received.
    const c = await httpApp('/c', (req, res) => {
      res.json({ deadline: Number(req.headers[Header.deadline]), traceparent: req.headers.traceparent });
    });
    const toC = httpClient('chain-c', c);
    // B: gRPC, reports the deadline it runs under, then calls C inheriting it.
    const b = await grpcApp(async (_call, cb) => {
      const ctx = currentContext()!;
      const remaining = ctx.deadline - performance.now();
      await delay(30);
      const res = await toC.fetch('/c');
      const fromC = await res.json();
      cb(null, { username: JSON.stringify({ deadline: remaining, traceparent: ctx.traceparent, c: fromC }) });
    });
    const toB = grpcClient('chain-b', b);
    // A: HTTP, calls B inheriting its deadline.
    const a = await httpApp('/a', async (req, res) => {
      await delay(30);
      const r = await unary<{ username: string }>(toB, 'unaryCall', {});
      res.json({
        deadline: Number(req.headers[Header.deadline]),
        traceparent: req.headers.traceparent,
        b: JSON.parse(r.username),
      });
    });
    const toA = httpClient('chain-a', a, 1500);
    spans.reset();

    const res = await toA.fetch('/a');
    assert.equal(res.status, 200);
    const chain = await res.json();
    const dA: number = chain.deadline;
    const dB: number = chain.b.deadline;
    const dC: number = chain.b.c.deadline;
    assert.ok(dA <= 1500 && dA > 1300, `A got ${dA} ms`);
    assert.ok(
      // Each hop waits 30 ms; Node's timers may fire up to a millisecond early by performance.now().
      dB <= dA - 29 && dB > dA - 1000,
      `B (gRPC, native deadline) got ${dB.toFixed(0)} ms after A's ${dA}`,
    );
    assert.ok(dC <= dB - 29 && dC > dB - 1000, `C got ${dC} ms after B's ${dB.toFixed(0)}`);

    const ids = new Set([
      traceId(chain.traceparent),
      traceId(chain.b.traceparent),
      traceId(chain.b.c.traceparent),
    ]);
    assert.equal(ids.size, 1, `one trace id across the hops: ${[...ids].join(', ')}`);
    const [id] = ids;
    assert.match(id ?? '', /^[0-9a-f]{32}$/);
    const finished = spans.getFinishedSpans();
    const servers = finished.filter((s) => s.kind === 1 /* SERVER */);
    assert.equal(servers.length, 3, `three server spans: ${servers.map((s) => s.name).join(', ')}`);
    for (const s of finished) assert.equal(s.spanContext().traceId, id, `${s.name} is in the trace`);
    const grpcServer = servers.find((s) => s.name === 'grpc.testing.TestService/UnaryCall');
    assert.ok(grpcServer, 'the gRPC server span');
    const parent = finished.find((s) => s.spanContext().spanId === grpcServer.parentSpanContext?.spanId);
    assert.equal(parent?.kind, 2 /* CLIENT */, 'its parent is the gRPC client attempt span');
  });

  test('an inbound HTTP deadline that passes in the gRPC hop ends every hop with a deadline error', async () => {
    let grpcSaw: number | undefined;
    const b = await grpcApp((_call, cb) => {
      grpcSaw = currentContext()!.deadline - performance.now();
      setTimeout(() => cb(null, {}), 3000).unref();
    });
    const toB = grpcClient('short-b', b);
    const a = await httpApp('/a', async (_req, res) => {
      try {
        await unary(toB, 'unaryCall', {});
        res.status(200).end();
      } catch (error) {
        res.status(504).json({ code: (error as ServiceError).code });
      }
    });
    // 1 s: room for a loaded machine to reach the gRPC hop with time left; the handler holds 3 s.
    const toA = httpClient('short-a', a, 1000);
    const start = performance.now();
    const res = await toA.fetch('/a').catch((e) => e);
    const took = performance.now() - start;
    assert.ok(took < 2000, `ended near the 1000 ms deadline, not the handler's 3 s (${took.toFixed(0)} ms)`);
    // The hop ran under what was left of the inbound deadline, not the client's own 15 s default.
    assert.ok(grpcSaw !== undefined && grpcSaw <= 1000 && grpcSaw > 0, `gRPC hop ran under ${grpcSaw} ms`);
    if (res instanceof Response) assert.equal((await res.json()).code, Status.DEADLINE_EXCEEDED);
  });
});

describe('spans over streams', () => {
  test("a server stream's client and server spans last until its final status", async () => {
    const server = createGrpcServer();
    server.addService(testServiceDefinition, {
      streamingOutputCall: (call: ServerWritableStream<object, object>) => {
        let sent = 0;
        const timer = setInterval(() => {
          call.write({});
          if (++sent === 3) {
            clearInterval(timer);
            call.end();
          }
        }, 40);
      },
    } as never);
    const port = await server.listen('127.0.0.1:0');
    grpcServers.push(server);
    const c = grpcClient('stream-spans', `127.0.0.1:${port}`);
    spans.reset();
    let messages = 0;
    for await (const _ of c.streamingOutputCall({})) messages++;
    assert.equal(messages, 3);
    await delay(20);
    const finished = spans.getFinishedSpans();
    const ms = (s: (typeof finished)[number]) => s.duration[0] * 1000 + s.duration[1] / 1e6;
    const logical = finished.find((s) => s.name === 'weft stream-spans');
    const serverSpan = finished.find(
      (s) => s.kind === 1 /* SERVER */ && s.name === 'grpc.testing.TestService/StreamingOutputCall',
    );
    assert.ok(logical && serverSpan, `spans: ${finished.map((s) => s.name).join(', ')}`);
    assert.ok(ms(logical) >= 100, `the client span covers the stream (${ms(logical).toFixed(0)} ms)`);
    assert.ok(ms(serverSpan) >= 100, `the server span covers the stream (${ms(serverSpan).toFixed(0)} ms)`);
    assert.equal(logical.attributes['rpc.grpc.status_code'], Status.OK);
    assert.equal(serverSpan.spanContext().traceId, logical.spanContext().traceId);
  });
});

describe('metrics', () => {
  test('client attempts, logical calls and server calls are recorded with their rpc attributes', async () => {
    const b = await grpcApp((_call, cb) => cb(null, {}));
    const c = grpcClient('metrics-b', b);
    await unary(c, 'unaryCall', {});
    const attempts = (await points('rpc.client.duration')).filter(
      (p) => p.attributes['server.address'] === 'metrics-b',
    );
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0]?.attributes['rpc.method'], '/grpc.testing.TestService/UnaryCall');
    assert.equal(attempts[0]?.attributes['rpc.grpc.status_code'], Status.OK);
    const calls = (await points('weft.client.calls')).filter(
      (p) => p.attributes['server.address'] === 'metrics-b',
    );
    assert.deepEqual(
      calls.map((p) => [p.attributes.outcome, p.value]),
      [['success', 1]],
    );
    const served = (await points('rpc.server.duration')).filter(
      (p) => p.attributes['rpc.method'] === 'UnaryCall' && p.attributes['rpc.grpc.status_code'] === Status.OK,
    );
    assert.ok(served.length >= 1, 'the server recorded the call');
    assert.equal(served[0]?.attributes['rpc.service'], 'grpc.testing.TestService');
  });
});

describe('gRPC → gRPC', () => {
  test('a hop whose downstream retries gave up marks its failure weft-no-retry; the caller does not retry', async () => {
    let backHits = 0;
    const back = await grpcApp((_call, cb) => {
      backHits++;
      cb({ code: Status.UNAVAILABLE, details: 'down', metadata: new Metadata() });
    });
    const toBack = createGrpcClient(TestServiceClient, 'marker-back', {
      endpoints: [back],
      idempotentMethods: ['UnaryCall'],
      circuitBreaker: false,
      retry: { backoffInitialMs: 0 },
    });
    grpcClients.push(toBack);
    let frontHits = 0;
    const front = await grpcApp(async (_call, cb) => {
      frontHits++;
      try {
        await unary(toBack, 'unaryCall', {});
        cb(null, {});
      } catch (error) {
        cb({ code: Status.UNAVAILABLE, details: (error as Error).message });
      }
    });
    const toFront = createGrpcClient(TestServiceClient, 'marker-front', {
      endpoints: [front],
      idempotentMethods: ['UnaryCall'],
      circuitBreaker: false,
      retry: { backoffInitialMs: 0 },
    });
    grpcClients.push(toFront);
    await assert.rejects(unary(toFront, 'unaryCall', {}), (err: ServiceError) => {
      assert.equal(err.code, Status.UNAVAILABLE);
      assert.deepEqual(err.metadata.get(Header.noRetry), ['1']);
      return true;
    });
    assert.equal(frontHits, 1, 'the front was not retried');
    assert.equal(backHits, 3, 'the back was tried maxAttempts times, once');
  });
});
