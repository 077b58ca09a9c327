/**
 * The `weft:` scheme: `registerWeftResolver` makes `weft:///<service>` resolve through a core
 * Resolver, for plain grpc-js clients (grpc-js round robin) and for `createGrpcClient` without
 * endpoints (the Weft stack); endpoint changes move traffic without dropping calls.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  credentials,
  type ServerUnaryCall,
  type ServiceError,
  status as Status,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { StaticResolver } from '@weft/core';
import { createGrpcClient, registerWeftResolver, serviceFromTarget } from '../src/index.ts';
import {
  startGrpcServer,
  type TestServer,
  TestServiceClient,
  testServiceDefinition,
  unary,
} from './helpers.ts';

const servers: TestServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function named(name: string) {
  const server = await startGrpcServer((srv) =>
    srv.addService(testServiceDefinition, {
      unaryCall: (_call: ServerUnaryCall<object, object>, cb: sendUnaryData<object>) =>
        cb(null, { username: name }),
    } as never),
  );
  servers.push(server);
  return server;
}

async function names(client: object, n: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const r = await unary<{ username: string }>(client, 'unaryCall', {});
    counts.set(r.username, (counts.get(r.username) ?? 0) + 1);
  }
  return counts;
}

describe('weft: resolver', () => {
  test('a plain grpc-js client on weft:///<service> resolves through Weft discovery and follows changes', async () => {
    const a = await named('a');
    const b = await named('b');
    const c = await named('c');
    const resolver = new StaticResolver([
      { address: '127.0.0.1', port: a.port },
      { address: '127.0.0.1', port: b.port },
    ]);
    registerWeftResolver({ resolve: (service) => (service === 'users' ? resolver : undefined) });
    const client = new TestServiceClient('weft:///users', credentials.createInsecure());
    const first = await names(client, 20);
    assert.deepEqual([...first.keys()].sort(), ['a', 'b'], 'round robin over both endpoints');
    resolver.set([{ address: '127.0.0.1', port: c.port }]);
    // The channel applies the update asynchronously; calls keep succeeding meanwhile.
    let moved = false;
    for (let i = 0; i < 100 && !moved; i++) moved = (await names(client, 1)).has('c');
    assert.ok(moved, 'traffic moved to the new endpoint');
    client.close();
  });

  test("a channel's own service config chooses the load-balancing policy", async () => {
    const a = await named('a');
    const b = await named('b');
    const resolver = new StaticResolver([
      { address: '127.0.0.1', port: a.port },
      { address: '127.0.0.1', port: b.port },
    ]);
    registerWeftResolver({ resolve: () => resolver });
    const client = new TestServiceClient('weft:///pinned', credentials.createInsecure(), {
      'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ pick_first: {} }] }),
    });
    const counts = await names(client, 20);
    assert.equal(counts.size, 1, 'pick_first: one endpoint takes every call');
    client.close();
  });

  test('an unknown service fails with UNAVAILABLE naming it', async () => {
    registerWeftResolver({ resolve: () => undefined });
    const client = new TestServiceClient('weft:///nobody', credentials.createInsecure());
    await assert.rejects(
      unary(client, 'unaryCall', {}, { deadline: Date.now() + 2000 }),
      (err: ServiceError) => {
        assert.equal(err.code, Status.UNAVAILABLE);
        assert.match(err.details, /nobody/);
        return true;
      },
    );
    client.close();
  });

  test('createGrpcClient finds its endpoints through the registered resolver', async () => {
    const a = await named('a');
    const resolver = new StaticResolver([{ address: '127.0.0.1', port: a.port }]);
    registerWeftResolver({ resolve: (service) => (service === 'accounts' ? resolver : undefined) });
    const client = createGrpcClient(TestServiceClient, 'accounts');
    assert.equal(client.getChannel().getTarget(), 'weft:///accounts');
    const counts = await names(client, 5);
    assert.equal(counts.get('a'), 5);
    client.close();
    assert.throws(() => createGrpcClient(TestServiceClient, 'unknown'), /registerWeftResolver/);
  });

  test('serviceFromTarget reads weft targets only', () => {
    assert.equal(serviceFromTarget('weft:///users'), 'users');
    assert.equal(serviceFromTarget('weft:users'), 'users');
    assert.equal(serviceFromTarget('dns:///users:50051'), undefined);
  });

  test('options are checked when the client is made', () => {
    assert.throws(
      () => createGrpcClient(TestServiceClient, 'Bad Name!', { endpoints: ['127.0.0.1:1'] }),
      /service/,
    );
    assert.throws(
      () => createGrpcClient(TestServiceClient, 'x', { endpoints: ['127.0.0.1:99999'] }),
      /endpoints\[0\]/,
    );
    assert.throws(
      () =>
        createGrpcClient(TestServiceClient, 'x', { endpoints: ['127.0.0.1:1'], retry: { maxAttempts: 99 } }),
      /maxAttempts/,
    );
    assert.throws(
      () =>
        createGrpcClient(TestServiceClient, 'x', {
          endpoints: ['127.0.0.1:1'],
          retryableCodes: [99 as Status],
        }),
      /retryableCodes/,
    );
    assert.throws(() => registerWeftResolver({} as never), /registry\.resolve/);
  });
});
