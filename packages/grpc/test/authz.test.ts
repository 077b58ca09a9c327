/**
 * AuthorizationPolicy on a real grpc-js server through Weft, over mutual TLS with client
 * certificates from a test CA (and, for callers without a verified identity, the same server's
 * plaintext port): a real config-service process holds the policies and the server follows them
 * live. The caller's identity comes only from the verified certificate: metadata claiming one
 * changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  credentials,
  Metadata,
  ServerCredentials,
  type ServiceError,
  status as Status,
  type sendUnaryData,
} from '@grpc/grpc-js';
import {
  controlPlaneApi,
  type Leaf,
  type ServiceProcess,
  type Spec,
  setPolicies,
  spiffe,
  startService,
  tempDir,
  testCa,
} from '@weft/control-plane/testing';
import { currentContext } from '@weft/core';
import { type ConfigClient, createConfigClient } from '@weft/core/config';
import { createGrpcServer, type WeftGrpcServer } from '../src/index.ts';
import { type TestClient, TestServiceClient, testServiceDefinition, unary } from './helpers.ts';

const UNARY = 'grpc.testing.TestService/UnaryCall';

describe('AuthorizationPolicy on a gRPC server over mutual TLS', () => {
  let cp: ServiceProcess;
  let config: ConfigClient;
  let server: WeftGrpcServer;
  const dir = tempDir();
  const clients: Record<'frontend' | 'orders' | 'noSpiffe' | 'plaintext', TestClient> = {} as never;
  let handled = 0;

  before(async () => {
    cp = await startService({ data: dir.path });
    config = createConfigClient({ urls: cp.url, token: cp.token, cacheFile: `${dir.path}/cache.json` });
    await config.ready();
    const mesh = await testCa();
    const own = await mesh.leaf(spiffe('inventory'));
    server = createGrpcServer({ service: 'inventory', config, drainSignals: false });
    const peer = () => {
      handled++;
      return currentContext()?.peer?.spiffeId ?? 'none';
    };
    server.addService(testServiceDefinition, {
      unaryCall: (_call: unknown, cb: sendUnaryData<object>) => cb(null, { username: peer() }),
      emptyCall: (_call: unknown, cb: sendUnaryData<object>) => cb(null, {}),
    } as never);
    const ca = Buffer.from(mesh.ca);
    const tlsPort = await server.listen(
      '127.0.0.1:0',
      ServerCredentials.createSsl(
        ca,
        [{ cert_chain: Buffer.from(own.cert), private_key: Buffer.from(own.key) }],
        true,
      ),
    );
    const plainPort = await server.listen('127.0.0.1:0');
    const client = (leaf: Leaf) =>
      new TestServiceClient(
        `127.0.0.1:${tlsPort}`,
        credentials.createSsl(ca, Buffer.from(leaf.key), Buffer.from(leaf.cert)),
        // The server's certificate names localhost too: TLS server names are never IP addresses.
        { 'grpc.ssl_target_name_override': 'localhost' },
      );
    clients.frontend = client(await mesh.leaf(spiffe('frontend')));
    clients.orders = client(await mesh.leaf(spiffe('orders')));
    clients.noSpiffe = client(await mesh.leaf(undefined));
    clients.plaintext = new TestServiceClient(`127.0.0.1:${plainPort}`, credentials.createInsecure());
  });
  after(async () => {
    for (const c of Object.values(clients)) c.close();
    server.server.forceShutdown();
    await config.close();
    await cp.stop();
    dir.remove();
  });

  const policies = (docs: Record<string, Spec>) => setPolicies(cp, config, docs);

  /** The status code of a call (OK: 0), with its trailers' no-retry marker. */
  async function call(
    who: keyof typeof clients,
    method: 'unaryCall' | 'emptyCall' = 'unaryCall',
    entries: Record<string, string> = {},
  ): Promise<{ code: number; username?: string; noRetry?: boolean }> {
    const metadata = new Metadata();
    for (const [k, v] of Object.entries(entries)) metadata.set(k, v);
    try {
      const res = await unary<{ username: string }>(clients[who], method, {}, metadata, {
        deadline: Date.now() + 5000,
      });
      return { code: Status.OK, username: res.username };
    } catch (error) {
      const e = error as ServiceError;
      return { code: e.code, noRetry: e.metadata?.get('weft-no-retry')[0] === '1' };
    }
  }
  const code = async (...args: Parameters<typeof call>) => (await call(...args)).code;

  test('no policy: allowed; the handler sees the verified peer, or none on plaintext', async () => {
    await policies({});
    assert.deepEqual(await call('frontend'), { code: Status.OK, username: spiffe('frontend') });
    assert.deepEqual(await call('noSpiffe'), { code: Status.OK, username: 'none' });
    assert.deepEqual(await call('plaintext'), { code: Status.OK, username: 'none' });
  });

  test('ALLOW by service and by principal; the rest get PERMISSION_DENIED with weft-no-retry, before the handler', async () => {
    await policies({
      readers: { service: 'inventory', action: 'ALLOW', rules: [{ from: [{ services: ['frontend'] }] }] },
    });
    assert.equal(await code('frontend'), Status.OK);
    const before = handled;
    assert.deepEqual(await call('orders'), { code: Status.PERMISSION_DENIED, noRetry: true });
    assert.equal(handled, before, 'the handler did not run');
    await policies({
      orders: {
        service: 'inventory',
        action: 'ALLOW',
        rules: [{ from: [{ principals: [spiffe('orders')] }] }],
      },
    });
    assert.equal(await code('orders'), Status.OK);
    assert.equal(await code('frontend'), Status.PERMISSION_DENIED);
  });

  test('ALLOW by grpcMethods: exact and pkg.Service/*; HTTP operations never match a gRPC call', async () => {
    await policies({
      unary: { service: 'inventory', action: 'ALLOW', rules: [{ to: [{ grpcMethods: [UNARY] }] }] },
    });
    assert.equal(await code('frontend', 'unaryCall'), Status.OK);
    assert.equal(await code('frontend', 'emptyCall'), Status.PERMISSION_DENIED);
    await policies({
      all: {
        service: 'inventory',
        action: 'ALLOW',
        rules: [{ to: [{ grpcMethods: ['grpc.testing.TestService/*'] }] }],
      },
    });
    assert.equal(await code('plaintext', 'emptyCall'), Status.OK, 'no from: anyone');
    await policies({
      http: {
        service: 'inventory',
        action: 'ALLOW',
        rules: [{ to: [{ methods: ['POST'], paths: ['/*'] }] }],
      },
    });
    assert.equal(await code('frontend'), Status.PERMISSION_DENIED);
  });

  test('ALLOW by metadata (when), and DENY wins over ALLOW', async () => {
    await policies({
      tenant: {
        service: 'inventory',
        action: 'ALLOW',
        rules: [{ from: [{ services: ['frontend'] }], when: [{ header: 'x-tenant', values: ['acme'] }] }],
      },
    });
    assert.equal(await code('frontend', 'unaryCall', { 'x-tenant': 'acme' }), Status.OK);
    assert.equal(await code('frontend', 'unaryCall', { 'x-tenant': 'other' }), Status.PERMISSION_DENIED);
    await policies({
      readers: { service: 'inventory', action: 'ALLOW', rules: [{ from: [{ services: ['*'] }] }] },
      'no-empty': {
        service: 'inventory',
        action: 'DENY',
        rules: [{ to: [{ grpcMethods: ['*/EmptyCall'] }] }],
      },
    });
    assert.equal(await code('frontend', 'unaryCall'), Status.OK);
    assert.equal(await code('frontend', 'emptyCall'), Status.PERMISSION_DENIED);
  });

  test('mesh default deny, then a service policy opens what it names', async () => {
    await policies({ 'default-deny': { service: '*', action: 'ALLOW' } });
    assert.equal(await code('frontend'), Status.PERMISSION_DENIED);
    await policies({
      'default-deny': { service: '*', action: 'ALLOW' },
      readers: { service: 'inventory', action: 'ALLOW', rules: [{ from: [{ services: ['frontend'] }] }] },
    });
    assert.equal(await code('frontend'), Status.OK);
    assert.equal(await code('orders'), Status.PERMISSION_DENIED);
  });

  test('unauthenticated callers never match from, and metadata claiming an identity has no effect', async () => {
    await policies({
      readers: { service: 'inventory', action: 'ALLOW', rules: [{ from: [{ services: ['frontend'] }] }] },
    });
    const spoof = {
      'x-spiffe-id': spiffe('frontend'),
      'x-forwarded-client-cert': `URI=${spiffe('frontend')}`,
    };
    assert.equal(await code('plaintext', 'unaryCall', spoof), Status.PERMISSION_DENIED);
    assert.equal(await code('noSpiffe', 'unaryCall', spoof), Status.PERMISSION_DENIED);
    assert.equal(await code('orders', 'unaryCall', spoof), Status.PERMISSION_DENIED);
    await policies({});
    assert.equal((await call('orders', 'unaryCall', spoof)).username, spiffe('orders'));
    assert.equal((await call('plaintext', 'unaryCall', spoof)).username, 'none');
  });

  test('a change applies to the next call; an invalid policy is refused with 400 and changes nothing', async () => {
    await policies({
      readers: { service: 'inventory', action: 'ALLOW', rules: [{ from: [{ services: ['frontend'] }] }] },
    });
    assert.equal(await code('orders'), Status.PERMISSION_DENIED);
    await policies({
      readers: { service: 'inventory', action: 'ALLOW', rules: [{ from: [{ services: ['orders'] }] }] },
    });
    assert.equal(await code('orders'), Status.OK, 'the first call after the change');
    const bad = await controlPlaneApi(cp, 'PUT', '/v1/documents/AuthorizationPolicy/readers', {
      spec: {
        service: 'inventory',
        action: 'ALLOW',
        rules: [{ to: [{ grpcMethods: ['no slash'], paths: ['/x'] }] }],
      },
    });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(await bad.json()), /spec\.rules\.0\.to\.0/);
    assert.equal(await code('orders'), Status.OK);
    assert.equal(await code('frontend'), Status.PERMISSION_DENIED);
  });
});
