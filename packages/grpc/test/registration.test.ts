/**
 * A gRPC server registered through createGrpcServer: registered once it listens, withdrawn as soon as
 * a drain starts (SIGTERM by default, as for HTTP servers), before the server shuts down.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ServiceProcess, startService } from '@weft/control-plane/testing';
import { createGrpcServer, GRPC_SERVER_DEFAULTS } from '@weft/grpc';

let cp: ServiceProcess;
before(async () => {
  cp = await startService();
});
after(() => cp.stop());

async function ports(service: string): Promise<number[]> {
  const res = await fetch(`${cp.url}/v1/services/${service}/endpoints`, {
    headers: { authorization: `Bearer ${cp.token}` },
  });
  const body = (await res.json()) as { instances?: { port: number }[] };
  return (body.instances ?? []).map((i) => i.port);
}

async function until(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('gRPC server registration', () => {
  test('drains on SIGTERM and SIGINT by default, like HTTP servers', () => {
    assert.deepEqual(GRPC_SERVER_DEFAULTS.drainSignals, ['SIGTERM', 'SIGINT']);
  });

  test('registered after listen; withdrawn when the drain starts, while it still answers', async () => {
    const server = createGrpcServer({
      drainSignals: false,
      drainDelayMs: 500,
      register: { service: 'reg-grpc', urls: cp.url, token: cp.token, labels: { version: 'v2' } },
    });
    const port = await server.listen('127.0.0.1:0');
    await until(async () => (await ports('reg-grpc')).includes(port));
    const drained = server.drain();
    await until(async () => (await ports('reg-grpc')).length === 0, 400);
    assert.equal(server.state, 'draining', 'withdrawn before the server shut down');
    await drained;
    assert.equal(server.state, 'closed');
  });
});
