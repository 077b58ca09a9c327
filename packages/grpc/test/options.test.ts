/** The gRPC entry points refuse option keys they do not know, naming the closest valid one. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  createGrpcClient,
  createGrpcServer,
  describeGrpcClient,
  grpcServerRuntime,
  weftClientOptions,
} from '@weft/grpc';
import { TestServiceClient } from './helpers.ts';

const refused = (pattern: RegExp) => (e: { code?: string; message?: string }) =>
  e.code === 'WEFT_INVALID_OPTION' && pattern.test(String(e.message));

describe('gRPC option checks', () => {
  test('createGrpcClient({ idempotent }) is refused: did you mean idempotentMethods', () => {
    assert.throws(
      () =>
        createGrpcClient(TestServiceClient as never, 'users', {
          endpoints: ['127.0.0.1:1'],
          idempotent: true,
        } as never),
      refused(/createGrpcClient has no option "idempotent"; did you mean "idempotentMethods"\?/),
    );
  });

  test('createGrpcServer and grpcServerRuntime refuse unknown keys', () => {
    assert.throws(
      () => createGrpcServer({ helth: false } as never),
      refused(/no option "helth"; did you mean "health"/),
    );
    assert.throws(() => grpcServerRuntime({ concurency: 3 } as never), refused(/no option "concurency"/));
    const ok = createGrpcServer({ health: false, concurrency: 3, drainSignals: false });
    ok.server.forceShutdown();
  });
});

describe('gRPC destinations', () => {
  test('are built by core’s createDestination over the gRPC binding', () => {
    const client = createGrpcClient(TestServiceClient, 'built', {
      endpoints: ['127.0.0.1:1'],
      timeoutMs: 1234,
    });
    const setup = weftClientOptions('built', { endpoints: ['127.0.0.1:1'] });
    try {
      const d = describeGrpcClient(client)!;
      assert.deepEqual([d.client.kind, d.client.protocol], ['createGrpcClient', 'rpc']);
      assert.deepEqual(
        [setup.describe().client.kind, setup.describe().client.protocol],
        ['createGrpcClient', 'rpc'],
      );
      assert.notEqual(d.client.id, setup.describe().client.id);
      assert.equal(d.policy.timeoutMs, 1234, 'the policy options, validated by core');
      assert.match(d.stack.find((m) => m.role === 'telemetry')!.description, /whole call or stream/);
    } finally {
      client.close();
      setup.close();
    }
    assert.throws(
      () => createGrpcClient(TestServiceClient, 'unresolved', {}),
      refused(/give endpoints or a resolver for unresolved, or register one with registerWeftResolver$/),
    );
  });
});
