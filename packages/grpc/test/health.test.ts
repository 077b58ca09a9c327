/**
 * The grpc.health.v1 service and graceful drain of a Weft gRPC server: Check and Watch per service,
 * NOT_SERVING once draining, new calls refused with a retryable rejection while in-flight calls
 * finish, then the server shuts down.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type ClientReadableStream,
  credentials,
  type ServiceError,
  status as Status,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { Header } from '@weft/core';
import { createGrpcServer, healthClientConstructor, healthService } from '../src/index.ts';
import { delay, TestServiceClient, testServiceDefinition, unary } from './helpers.ts';

interface HealthClient {
  check(req: object, cb: (err: ServiceError | null, res: { status: string }) => void): void;
  watch(req: object): ClientReadableStream<{ status: string }>;
  close(): void;
}

describe('health and drain', () => {
  test('Check and Watch report per-service status; drain turns them NOT_SERVING and sheds new calls', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const weft = createGrpcServer({ drainTimeoutMs: 5000 });
    weft.addService(testServiceDefinition, {
      unaryCall: async (_call: unknown, cb: sendUnaryData<object>) => {
        await held;
        cb(null, { username: 'done' });
      },
    } as never);
    const port = await weft.listen('127.0.0.1:0');
    const Health = healthClientConstructor();
    const health = new Health(`127.0.0.1:${port}`, credentials.createInsecure()) as unknown as HealthClient;
    const check = (service: string) =>
      new Promise<string>((resolve, reject) =>
        health.check({ service }, (err, res) => (err ? reject(err) : resolve(res.status))),
      );

    assert.equal(await check(''), 'SERVING');
    assert.equal(await check('grpc.testing.TestService'), 'SERVING');
    await assert.rejects(check('nope'), (err: ServiceError) => err.code === Status.NOT_FOUND);

    const watch = health.watch({ service: 'grpc.testing.TestService' });
    const seen: string[] = [];
    const notServing = new Promise<void>((resolve) =>
      watch.on('data', (m: { status: string }) => {
        seen.push(m.status);
        if (m.status === 'NOT_SERVING') resolve();
      }),
    );
    watch.on('error', () => {});
    const unknown = health.watch({ service: 'later' });
    const firstUnknown = new Promise<string>((resolve) =>
      unknown.once('data', (m: { status: string }) => resolve(m.status)),
    );
    unknown.on('error', () => {});
    assert.equal(await firstUnknown, 'SERVICE_UNKNOWN');
    unknown.cancel();

    const client = new TestServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    const inflight = unary<{ username: string }>(client, 'unaryCall', {});
    await delay(50);
    const drained = weft.drain();
    await notServing;
    assert.deepEqual(seen, ['SERVING', 'NOT_SERVING']);
    assert.equal(await check(''), 'NOT_SERVING', 'health answers while draining');
    await assert.rejects(unary(client, 'unaryCall', {}), (err: ServiceError) => {
      assert.equal(err.code, Status.UNAVAILABLE);
      assert.deepEqual(err.metadata.get(Header.rejected), ['1']);
      return true;
    });
    assert.equal(weft.state, 'draining');
    release();
    assert.equal((await inflight).username, 'done', 'the in-flight call finished');
    const result = await drained;
    assert.equal(result.inflightAtStart, 1);
    assert.equal(result.abandoned, 0);
    assert.equal(weft.state, 'closed');
    watch.cancel();
    health.close();
    client.close();
  });

  test('a server-level status and checks of the options', () => {
    const h = healthService({ '': 'NOT_SERVING' });
    assert.equal(h.status(''), 'NOT_SERVING');
    h.setStatus('svc', 'SERVING');
    h.shutdown();
    assert.equal(h.status('svc'), 'NOT_SERVING');
    h.setStatus('svc', 'SERVING');
    assert.equal(h.status('svc'), 'NOT_SERVING', 'stays down after shutdown');
    assert.throws(() => h.setStatus('svc', 'UP' as never), /status/);
    assert.throws(() => createGrpcServer({ drainTimeoutMs: -1 }), /drainTimeoutMs/);
    assert.throws(() => createGrpcServer({ concurrency: { kind: 'nope' } as never }), /concurrency/);
    assert.throws(() => createGrpcServer({ drainSignals: ['TERM' as never] }), /drainSignals/);
  });
});
