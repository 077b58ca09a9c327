/** The gRPC entry points refuse option keys they do not know, naming the closest valid one. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createGrpcClient, createGrpcServer, grpcServerRuntime } from '@weft/grpc';
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
