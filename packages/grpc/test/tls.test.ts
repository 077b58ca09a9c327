/**
 * The gRPC client's `credentials` option against a Weft gRPC server listening with TLS: a call
 * through the Weft client succeeds with the server's CA trusted, and fails as UNAVAILABLE (not a
 * hang) when the certificate is not trusted.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  credentials,
  ServerCredentials,
  type ServiceError,
  status as Status,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { createGrpcClient, createGrpcServer, type WeftGrpcServer } from '../src/index.ts';
import { type TestClient, TestServiceClient, testServiceDefinition, unary } from './helpers.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/tls/${name}`, import.meta.url));
const cert = fixture('server.crt'); // self-signed for 127.0.0.1

describe('gRPC over TLS with the credentials option', () => {
  let weft: WeftGrpcServer;
  let port = 0;
  const clients: TestClient[] = [];
  before(async () => {
    weft = createGrpcServer();
    weft.addService(testServiceDefinition, {
      unaryCall: (_call: unknown, cb: sendUnaryData<object>) => cb(null, { username: 'over tls' }),
    } as never);
    port = await weft.listen(
      '127.0.0.1:0',
      ServerCredentials.createSsl(null, [{ private_key: fixture('server.key'), cert_chain: cert }], false),
    );
  });
  after(() => {
    for (const c of clients) c.close();
    weft.server.forceShutdown();
  });

  test('trusted: the call succeeds through the Weft client', async () => {
    const client = createGrpcClient(TestServiceClient, 'tls-users', {
      endpoints: [`127.0.0.1:${port}`],
      credentials: credentials.createSsl(cert),
    });
    clients.push(client);
    const res = await unary<{ username: string }>(client, 'unaryCall', {}, { deadline: Date.now() + 5000 });
    assert.equal(res.username, 'over tls');
  });

  test('untrusted: UNAVAILABLE, never a hang', async () => {
    const client = createGrpcClient(TestServiceClient, 'tls-untrusted', {
      endpoints: [`127.0.0.1:${port}`],
      credentials: credentials.createSsl(),
    });
    clients.push(client);
    await assert.rejects(
      unary(client, 'unaryCall', {}, { deadline: Date.now() + 5000 }),
      (error: ServiceError) => error.code === Status.UNAVAILABLE,
    );
  });
});
