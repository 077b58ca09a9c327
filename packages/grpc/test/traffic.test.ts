/**
 * Traffic control over gRPC on real servers: splits by weight, gRPC method and metadata matches in
 * order, mirroring of unary calls, injected aborts answered with the rule's code without reaching a
 * server — and the travelling `weft-route` override carried across HTTP → gRPC → HTTP by the
 * request context alone.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { Metadata, type ServerUnaryCall, status as Status, type sendUnaryData } from '@grpc/grpc-js';
import type { RouteSpecInput } from '@weft/core';
import { createClient, type WeftClient } from '@weft/http';
import { weft } from '@weft/http/express';
import express from 'express';
import { createGrpcClient, createGrpcServer, type WeftGrpcServer } from '../src/index.ts';
import { type TestClient, TestServiceClient, testServiceDefinition, unary } from './helpers.ts';

const grpcServers: WeftGrpcServer[] = [];
const httpServers: Server[] = [];
const grpcClients: TestClient[] = [];
const httpClients: WeftClient[] = [];

after(async () => {
  for (const c of grpcClients) c.close();
  await Promise.all(httpClients.map((c) => c.close()));
  await Promise.all(grpcServers.map((s) => s.drain()));
  for (const s of httpServers) {
    s.closeAllConnections();
    s.close();
  }
});

type Handler = (call: ServerUnaryCall<object, object>, cb: sendUnaryData<object>) => void;

/** A Weft gRPC server answering `username: <version>`; `calls` counts what reached it. */
async function grpcBackend(version: string, handler?: Handler) {
  const server = createGrpcServer();
  const seen = { calls: 0, metadata: [] as Metadata[] };
  const unaryCall: Handler = (call, cb) => {
    seen.calls++;
    seen.metadata.push(call.metadata);
    if (handler) handler(call, cb);
    else cb(null, { username: version });
  };
  const emptyCall = (_call: unknown, cb: sendUnaryData<object>) => {
    seen.calls++;
    cb(null, {});
  };
  server.addService(testServiceDefinition, { unaryCall, emptyCall } as never);
  const port = await server.listen('127.0.0.1:0');
  grpcServers.push(server);
  return { seen, endpoint: { address: '127.0.0.1', port, labels: { version } } };
}

const SUBSETS = { v1: { version: 'v1' }, v2: { version: 'v2' }, shadow: { version: 'shadow' } };

function grpcClient(service: string, endpoints: object[], route: RouteSpecInput): TestClient {
  const c = createGrpcClient(TestServiceClient, service, {
    endpoints: endpoints as never,
    route,
    retry: { backoffInitialMs: 0 },
  });
  grpcClients.push(c);
  return c;
}

async function tally(c: TestClient, n: number, md?: () => Metadata) {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await (md
      ? unary<{ username: string }>(c, 'unaryCall', {}, md())
      : unary<{ username: string }>(c, 'unaryCall', {}));
    counts[r.username] = (counts[r.username] ?? 0) + 1;
  }
  return counts;
}

describe('traffic control over gRPC (real servers)', () => {
  test('a 75/25 split by weight, a gRPC method match and a metadata match, first match winning', async () => {
    const v1 = await grpcBackend('v1');
    const v2 = await grpcBackend('v2');
    const c = grpcClient('inventory', [v1.endpoint, v2.endpoint], {
      subsets: SUBSETS,
      rules: [
        {
          name: 'canary',
          matches: [{ headers: [{ name: 'x-canary', value: 'yes' }] }],
          backends: [{ subset: 'v2' }],
        },
        {
          name: 'empty-call',
          matches: [{ method: { service: 'grpc.testing.TestService', method: 'EmptyCall' } }],
          backends: [{ subset: 'v2' }],
        },
        { name: 'http-only', matches: [{ method: 'GET' }], backends: [{ subset: 'v2' }] },
        {
          backends: [
            { subset: 'v1', weight: 75 },
            { subset: 'v2', weight: 25 },
          ],
        },
      ],
    });
    const counts = await tally(c, 800);
    const share = (counts.v2 ?? 0) / 800;
    assert.ok(Math.abs(share - 0.25) < 0.05, `v2 share ${share} (${JSON.stringify(counts)})`);
    const canary = () => {
      const md = new Metadata();
      md.set('x-canary', 'yes');
      return md;
    };
    assert.deepEqual(await tally(c, 20, canary), { v2: 20 });
    const before = v2.seen.calls;
    for (let i = 0; i < 10; i++) await unary(c, 'emptyCall', {});
    assert.equal(v2.seen.calls - before, 10, 'EmptyCall matched its gRPC method rule');
  });

  test('an injected abort answers with the rule code, reaches no server and is not retried', async () => {
    const v1 = await grpcBackend('v1');
    const c = grpcClient('faulty-grpc', [v1.endpoint], {
      rules: [
        {
          matches: [{ method: { method: 'UnaryCall' } }],
          fault: { abort: { grpcStatus: Status.UNAVAILABLE } },
        },
        { matches: [{ method: { method: 'EmptyCall' } }], fault: { abort: { status: 403 } } },
      ],
    });
    await assert.rejects(unary(c, 'unaryCall', {}), (e: { code?: number; metadata?: Metadata }) => {
      assert.equal(e.code, Status.UNAVAILABLE);
      assert.equal(e.metadata?.get('weft-fault')[0], 'abort');
      return true;
    });
    await assert.rejects(
      unary(c, 'emptyCall', {}),
      (e: { code?: number }) => e.code === Status.PERMISSION_DENIED,
    );
    assert.equal(v1.seen.calls, 0);
  });

  test('unary calls are mirrored to the mirror subset; the copy carries weft-mirror and its failure costs the primary nothing', async () => {
    const v1 = await grpcBackend('v1');
    const shadow = await grpcBackend('shadow', (_call, cb) =>
      setTimeout(() => cb({ code: Status.INTERNAL, details: 'broken' }), 100),
    );
    const c = grpcClient('mirrored-grpc', [v1.endpoint, shadow.endpoint], {
      subsets: SUBSETS,
      rules: [{ backends: [{ subset: 'v1' }], mirror: { subset: 'shadow' } }],
    });
    assert.deepEqual(await tally(c, 20), { v1: 20 });
    const deadline = Date.now() + 5000;
    while (shadow.seen.calls < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(shadow.seen.calls, 20, 'one copy per call, none retried');
    assert.ok(shadow.seen.metadata.every((md) => md.get('weft-mirror')[0] === '1'));
  });
});

describe('the weft-route override travels HTTP → gRPC → HTTP', () => {
  test('one request header pins the subsets of both downstream services; without it, the Routes stand', async () => {
    // C: HTTP, two versions, each says which it is.
    const cEndpoints = [];
    for (const version of ['v1', 'v2']) {
      const app = express();
      const mesh = weft({ drainSignals: false });
      app.use(mesh);
      app.get('/c', (_req, res) => {
        res.json({ c: version });
      });
      const server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      mesh.attach(server);
      httpServers.push(server);
      cEndpoints.push({
        address: '127.0.0.1',
        port: (server.address() as AddressInfo).port,
        labels: { version },
      });
    }
    const overridable = (): RouteSpecInput => ({
      subsets: SUBSETS,
      overrides: true,
      rules: [{ backends: [{ subset: 'v1' }] }],
    });
    const toC = createClient({ service: 'chain-c', endpoints: cEndpoints, route: overridable() });
    httpClients.push(toC);
    // B: gRPC, two versions; each calls C inheriting the request's context.
    const bEndpoints = [];
    for (const version of ['v1', 'v2']) {
      const b = await grpcBackend(version, (_call, cb) => {
        toC
          .fetch('/c')
          .then((r) => r.json())
          .then(
            (body: { c: string }) => cb(null, { username: JSON.stringify({ b: version, c: body.c }) }),
            (error: Error) => cb({ code: Status.INTERNAL, details: error.message }),
          );
      });
      bEndpoints.push(b.endpoint);
    }
    const toB = grpcClient('chain-b', bEndpoints, overridable());
    // A: HTTP, the edge: calls B.
    const app = express();
    const mesh = weft({ drainSignals: false });
    app.use(mesh);
    app.get('/a', (_req, res, next) => {
      unary<{ username: string }>(toB, 'unaryCall', {}).then((r) => res.json(JSON.parse(r.username)), next);
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    mesh.attach(server);
    httpServers.push(server);
    const a = `http://127.0.0.1:${(server.address() as AddressInfo).port}/a`;

    for (let i = 0; i < 5; i++) assert.deepEqual(await (await fetch(a)).json(), { b: 'v1', c: 'v1' });
    for (let i = 0; i < 5; i++)
      assert.deepEqual(
        await (await fetch(a, { headers: { 'weft-route': 'chain-b=v2,chain-c=v2' } })).json(),
        { b: 'v2', c: 'v2' },
      );
    assert.deepEqual(await (await fetch(a, { headers: { 'weft-route': 'chain-c=v2' } })).json(), {
      b: 'v1',
      c: 'v2',
    });
    // A malformed override is dropped at the first server (and counted), never forwarded.
    assert.deepEqual(await (await fetch(a, { headers: { 'weft-route': 'chain-b=v2;rm -rf' } })).json(), {
      b: 'v1',
      c: 'v1',
    });
  });
});
