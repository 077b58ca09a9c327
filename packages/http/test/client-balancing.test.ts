import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { StaticResolver } from '@weft/core';
import { createClient } from '@weft/http';
import { delay, startServer, type TestServer } from './helpers.ts';

const servers: TestServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function fleet(n: number, latency: (i: number) => number) {
  const started = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      startServer(async (_req, res) => {
        await delay(latency(i));
        res.setHeader('x-server', String(i));
        res.end('ok');
      }),
    ),
  );
  servers.push(...started);
  return started;
}

/** Sends `total` requests with `concurrency` in flight; returns the count per server index. */
async function load(client: ReturnType<typeof createClient>, total: number, concurrency: number, n: number) {
  const counts = new Array(n).fill(0);
  let sent = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < total) {
        sent++;
        const res = await client.fetch('/');
        assert.equal(res.status, 200);
        counts[Number(res.headers.get('x-server'))]++;
        await res.arrayBuffer();
      }
    }),
  );
  return counts;
}

describe('balancing over real servers', () => {
  test('spreads load over every endpoint', async () => {
    const s = await fleet(3, () => 1);
    const client = createClient({ service: 'spread', endpoints: s.map((x) => x.endpoint) });
    const counts = await load(client, 600, 12, 3);
    await client.close();
    for (const c of counts) assert.ok(c > 60, `every endpoint gets a fair share: ${counts}`);
  });

  test('a slow endpoint gets less traffic under P2C-EWMA than under round robin', async () => {
    // Endpoint 0 answers in 40 ms, the others in 2 ms.
    const s = await fleet(4, (i) => (i === 0 ? 40 : 2));
    const endpoints = s.map((x) => x.endpoint);
    const rr = createClient({ service: 'slow-rr', endpoints, balancer: 'round-robin' });
    const ewma = createClient({ service: 'slow-ewma', endpoints, balancer: 'p2c-ewma' });
    const rrCounts = await load(rr, 400, 8, 4);
    const ewmaCounts = await load(ewma, 400, 8, 4);
    await Promise.all([rr.close(), ewma.close()]);
    const rrShare = rrCounts[0] / 400;
    const ewmaShare = ewmaCounts[0] / 400;
    assert.ok(rrShare > 0.2, `round robin sends the slow endpoint its quarter: ${rrCounts}`);
    assert.ok(ewmaShare < rrShare / 2, `P2C-EWMA sends it much less: ${ewmaCounts} vs ${rrCounts}`);
  });

  test('the endpoint set changes under load without failing in-flight requests', async () => {
    const s = await fleet(4, () => 20);
    const resolver = new StaticResolver([s[0]!.endpoint, s[1]!.endpoint].map(parse));
    const client = createClient({ service: 'churn', resolver });
    const inflight = Array.from({ length: 40 }, () => client.fetch('/').then((r) => r.text()));
    await delay(5);
    resolver.set([s[2]!.endpoint, s[3]!.endpoint].map(parse)); // every endpoint replaced mid-flight
    const results = await Promise.all(inflight);
    assert.deepEqual(new Set(results), new Set(['ok']));
    const after = await load(client, 40, 4, 4);
    assert.equal(after[0] + after[1], 0, `removed endpoints get no new traffic: ${after}`);
    await client.close();
  });
});

function parse(endpoint: string) {
  const [address, port] = endpoint.split(':');
  return { address: address!, port: Number(port) };
}
