/**
 * The mesh steered at run time: a real config-service process, the core config client, a real
 * registry resolver, and a Weft HTTP client whose policy comes from the service.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ServiceProcess, startService, tempDir } from '@weft/control-plane/testing';
import { ErrorCode, isWeftError } from '@weft/core';
import { createConfigClient } from '@weft/core/config';
import { registerInstance, registryResolver } from '@weft/discovery';
import { createClient } from '@weft/http';
import { delay, eventually, startServer, type TestServer } from './helpers.ts';

let cp: ServiceProcess;
const dir = tempDir();
const servers: TestServer[] = [];

before(async () => {
  cp = await startService({ data: dir.path });
});
after(async () => {
  await cp.stop();
  await Promise.all(servers.map((s) => s.close()));
  dir.remove();
});

async function putPolicy(name: string, spec: unknown): Promise<Response> {
  return fetch(`${cp.url}/v1/documents/DestinationPolicy/${name}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${cp.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ spec }),
  });
}

describe('a client steered by the config service', () => {
  test('a timeout and a retry policy change live, apply to new requests, and show in describe()', async () => {
    const slow = await startServer(async (req, res) => {
      await delay(Number(new URL(req.url!, 'http://x').searchParams.get('ms') ?? 0));
      res.end('ok');
    });
    servers.push(slow);
    const config = createConfigClient({ urls: cp.url, token: cp.token, cacheFile: `${dir.path}/cache.json` });
    await config.ready();
    const client = createClient({
      service: 'slowpoke',
      endpoints: [slow.endpoint],
      timeoutMs: 2_000,
      config,
    });

    // In code: 2 s. A 300 ms request succeeds.
    assert.equal(await (await client.fetch('/?ms=300')).text(), 'ok');
    assert.equal((await putPolicy('slowpoke', { timeoutMs: 100, retry: { maxAttempts: 2 } })).status, 201);
    await eventually(() => assert.equal(client.describe().policy.timeoutMs, 100));
    // From the config service: 100 ms. The same request now times out.
    await assert.rejects(client.fetch('/?ms=300'), (err) => isWeftError(err, ErrorCode.DeadlineExceeded));
    const described = client.describe();
    assert.equal(described.sources.code.timeoutMs, 2_000);
    assert.equal(described.sources.config?.timeoutMs, 100);
    const retry = described.stack.find((m) => m.role === 'retry');
    assert.equal((retry?.params as { maxAttempts?: number } | undefined)?.maxAttempts, 2);

    // A write the schema refuses never reaches the client: the service answers 400, nothing changes.
    const bad = await putPolicy('slowpoke', { timeoutMs: -5 });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(await bad.json()), /timeoutMs/);
    assert.equal(client.describe().policy.timeoutMs, 100);

    // Removing the override brings back the value set in code.
    await fetch(`${cp.url}/v1/documents/DestinationPolicy/slowpoke`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${cp.token}` },
    });
    await eventually(() => assert.equal(client.describe().policy.timeoutMs, 2_000));
    assert.equal(await (await client.fetch('/?ms=300')).text(), 'ok');
    await client.close();
    await config.close();
  });

  test('endpoints registered in the config service are balanced over, and a deregistered one stops getting traffic', async () => {
    const backends = await Promise.all(
      [0, 1, 2].map((i) =>
        startServer((_req, res) => {
          res.setHeader('x-server', String(i));
          res.end();
        }),
      ),
    );
    servers.push(...backends);
    const registrations = backends.map((b) =>
      registerInstance({
        service: 'catalog',
        address: '127.0.0.1',
        port: b.port,
        urls: cp.url,
        token: cp.token,
        ttlMs: 5_000,
      }),
    );
    const resolver = registryResolver({ service: 'catalog', urls: cp.url, token: cp.token });
    const client = createClient({ service: 'catalog', resolver });
    await eventually(() => assert.equal(client.describe().endpoints.length, 3));
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const res = await client.fetch('/');
      seen.add(res.headers.get('x-server')!);
    }
    assert.equal(seen.size, 3);
    await registrations[0]!.close();
    await eventually(() => assert.equal(client.describe().endpoints.length, 2));
    const before = backends[0]!.requests.length;
    for (let i = 0; i < 30; i++) await (await client.fetch('/')).arrayBuffer();
    assert.equal(backends[0]!.requests.length, before, 'no traffic after deregistration');
    await client.close();
    await resolver.close();
    await Promise.all(registrations.slice(1).map((r) => r.close()));
  });
});
