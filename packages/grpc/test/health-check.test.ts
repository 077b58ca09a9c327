/**
 * The grpc.health.v1 active health checker against real Weft gRPC servers on loopback, alone and
 * inside discovery's `withHealthChecks`.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type Endpoint, StaticResolver, usableEndpoints } from '@weft/core';
import { withHealthChecks } from '@weft/discovery';
import { createGrpcServer, grpcHealthCheck, type WeftGrpcServer } from '../src/index.ts';
import { testServiceDefinition } from './helpers.ts';

const timeout = (ms: number) => AbortSignal.timeout(ms);

async function grpcServer(): Promise<{ weft: WeftGrpcServer; endpoint: Endpoint }> {
  const weft = createGrpcServer({ drainTimeoutMs: 1000 });
  weft.addService(testServiceDefinition, {} as never);
  const port = await weft.listen('127.0.0.1:0');
  return { weft, endpoint: { address: '127.0.0.1', port } };
}

/** A TCP server that accepts and never answers: the hung endpoint. */
async function hungServer(): Promise<{ server: Server; sockets: Socket[]; endpoint: Endpoint }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    sockets,
    endpoint: { address: '127.0.0.1', port: (server.address() as { port: number }).port },
  };
}

async function closedPort(): Promise<Endpoint> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return { address: '127.0.0.1', port };
}

describe('grpcHealthCheck', () => {
  let a: Awaited<ReturnType<typeof grpcServer>>;
  let b: Awaited<ReturnType<typeof grpcServer>>;
  let hung: Awaited<ReturnType<typeof hungServer>>;
  before(async () => {
    a = await grpcServer();
    b = await grpcServer();
    hung = await hungServer();
  });
  after(async () => {
    a.weft.server.forceShutdown();
    b.weft.server.forceShutdown();
    for (const s of hung.sockets) s.destroy();
    await new Promise((r) => hung.server.close(r));
  });

  test('SERVING is healthy; NOT_SERVING, an unknown service, a closed port and a hung endpoint are not', async () => {
    const server = grpcHealthCheck();
    const users = grpcHealthCheck({ service: 'grpc.testing.TestService' });
    await server.check(a.endpoint, timeout(2000));
    await users.check(a.endpoint, timeout(2000));
    await assert.rejects(grpcHealthCheck({ service: 'nope' }).check(a.endpoint, timeout(2000)), /NOT_FOUND/);
    a.weft.health!.setStatus('grpc.testing.TestService', 'NOT_SERVING');
    await assert.rejects(users.check(a.endpoint, timeout(2000)), /grpc\.testing\.TestService is NOT_SERVING/);
    await server.check(a.endpoint, timeout(2000));
    a.weft.health!.setStatus('grpc.testing.TestService', 'SERVING');
    await assert.rejects(server.check(await closedPort(), timeout(2000)), /UNAVAILABLE/);
    const started = Date.now();
    await assert.rejects(server.check(hung.endpoint, timeout(300)), /CANCELLED|DEADLINE|UNAVAILABLE/);
    const took = Date.now() - started;
    assert.ok(took < 2000, `a hung endpoint fails at the check's timeout (${took} ms)`);
    assert.throws(() => grpcHealthCheck({ service: 7 as never }), /invalid option service/);
  });

  test('inside withHealthChecks: a NOT_SERVING endpoint leaves the set and comes back when SERVING again', async () => {
    const inner = new StaticResolver([a.endpoint, b.endpoint]);
    const hc = withHealthChecks(inner, {
      checker: grpcHealthCheck({ service: 'grpc.testing.TestService' }),
      intervalMs: 100,
      timeoutMs: 80,
      healthyThreshold: 1,
      unhealthyThreshold: 1,
      jitter: 0,
      service: 'test',
    });
    const offered = () =>
      usableEndpoints(hc.state)
        .map((e) => e.port)
        .sort();
    const until = async (check: () => boolean, what: string) => {
      const deadline = Date.now() + 5000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      b.weft.health!.setStatus('grpc.testing.TestService', 'NOT_SERVING');
      await until(() => offered().length === 1, 'b to leave the set');
      assert.deepEqual(offered(), [a.endpoint.port]);
      assert.match(hc.health().get(`127.0.0.1:${b.endpoint.port}`)?.lastError ?? '', /NOT_SERVING/);
      b.weft.health!.setStatus('grpc.testing.TestService', 'SERVING');
      await until(() => offered().length === 2, 'b to come back');
    } finally {
      await hc.close();
    }
  });
});
