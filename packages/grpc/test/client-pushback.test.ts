/**
 * gRPC server pushback (`grpc-retry-pushback-ms`, gRFC A6) against real grpc-js servers: honoured
 * within the deadline; a negative or malformed value means "do not retry".
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  Metadata,
  type ServerUnaryCall,
  type ServiceError,
  status as Status,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { createGrpcClient } from '../src/index.ts';
import {
  startGrpcServer,
  type TestClient,
  type TestServer,
  TestServiceClient,
  testServiceDefinition,
  unary,
} from './helpers.ts';

const servers: TestServer[] = [];
const clients: TestClient[] = [];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.close()));
});

/** A server whose EmptyCall (idempotent in test.proto) fails with UNAVAILABLE and `pushback` the first time. */
async function pushingBack(pushback: string) {
  const times: number[] = [];
  const server = await startGrpcServer((srv) =>
    srv.addService(testServiceDefinition, {
      emptyCall: (_call: ServerUnaryCall<object, object>, cb: sendUnaryData<object>) => {
        times.push(performance.now());
        if (times.length > 1) return cb(null, {});
        const md = new Metadata();
        md.set('grpc-retry-pushback-ms', pushback);
        cb({ code: Status.UNAVAILABLE, details: 'busy', metadata: md });
      },
    } as never),
  );
  servers.push(server);
  return { server, times };
}

function client(service: string, endpoint: string, timeoutMs = 5000): TestClient {
  const c = createGrpcClient(TestServiceClient, service, { endpoints: [endpoint], timeoutMs });
  clients.push(c);
  return c;
}

describe('grpc-retry-pushback-ms', () => {
  test('the retry waits for the pushback, within the deadline', async () => {
    const { server, times } = await pushingBack('400');
    await unary(client('pushback', server.endpoint), 'emptyCall', {});
    assert.equal(times.length, 2);
    assert.ok(times[1]! - times[0]! >= 380, `retried after ${Math.round(times[1]! - times[0]!)} ms`);
  });

  test('a pushback longer than the time left: not retried', async () => {
    const { server, times } = await pushingBack('3000');
    const start = performance.now();
    await assert.rejects(
      unary(client('pushback-late', server.endpoint, 1000), 'emptyCall', {}),
      (e: ServiceError) => {
        assert.equal(e.code, Status.UNAVAILABLE);
        return true;
      },
    );
    assert.ok(performance.now() - start < 500, 'failed at once');
    assert.equal(times.length, 1);
  });

  test('a negative pushback means do not retry', async () => {
    const { server, times } = await pushingBack('-1');
    await assert.rejects(unary(client('pushback-never', server.endpoint), 'emptyCall', {}));
    assert.equal(times.length, 1);
  });
});
