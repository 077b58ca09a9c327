import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import type { Endpoint, ResolverState } from '@weft/core';
import { EndpointSet, roundRobin, systemClock } from '@weft/core';
import { kubernetesResolver } from '@weft/discovery';
import { keysOf, waitForState } from './helpers.ts';
import { RecordedApiServer } from './kubernetes-api.ts';

const keys =
  (...k: string[]) =>
  (s: ResolverState) =>
    s.kind === 'bound' && keysOf(s).join() === k.join();

describe('kubernetesResolver at scale and under traffic', () => {
  test('10,000 endpoints in 100 slices: list, then 10 slice updates, each applied in one update', async () => {
    const slice = (i: number, rv: number, ready: (j: number) => boolean) => ({
      metadata: { name: `web-${i}`, resourceVersion: String(rv) },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: Array.from({ length: 100 }, (_, j) => ({
        addresses: [`10.2.${i}.${j}`],
        conditions: { ready: ready(j), serving: ready(j), terminating: false },
        zone: `z${j % 3}`,
      })),
    });
    const list = {
      metadata: { resourceVersion: '1' },
      items: Array.from({ length: 100 }, (_, i) => slice(i, 1, () => true)),
    };
    const api = await new RecordedApiServer([list], []).start();
    const r = kubernetesResolver({
      service: 'web',
      namespace: 'shop',
      port: 'http',
      server: api.url,
      token: 't',
    });
    try {
      await waitForState(r, (s) => s.kind === 'bound' && s.endpoints.length === 10_000);
      let updates = 0;
      r.subscribe(() => updates++);
      const start = performance.now();
      for (let u = 0; u < 10; u++) {
        await api.send({ type: 'MODIFIED', object: slice(u, 2 + u, (j) => j !== 0) });
        await waitForState(r, (s) => s.kind === 'bound' && s.endpoints.length === 10_000 - u - 1);
      }
      const elapsed = performance.now() - start;
      assert.equal(updates, 11, 'the initial call, then one update per event');
      assert.ok(elapsed < 2000, `10 events over 10,000 endpoints took ${elapsed.toFixed(0)} ms`);
      // An event that changes nothing visible (a new resourceVersion only) notifies nobody.
      await api.send({ type: 'MODIFIED', object: slice(50, 99, () => true) });
      await api.send({ type: 'MODIFIED', object: slice(0, 100, () => true) });
      await waitForState(r, (s) => s.kind === 'bound' && s.endpoints.length === 9_991);
      assert.equal(updates, 12);
    } finally {
      r.close();
      await api.close();
    }
  });

  test('endpoint removal stops traffic to it within one watch event (core EndpointSet, real HTTP servers)', async () => {
    // Three servers on one port at 127.0.0.2–4, as pods share a target port on different IPs.
    const hits = new Map<string, number>();
    const servers: Server[] = [];
    let port = 0;
    for (const ip of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) {
      const server = createServer((_req, res) => {
        hits.set(ip, (hits.get(ip) ?? 0) + 1);
        res.end(ip);
      });
      await new Promise<void>((resolve) => server.listen(port, ip, resolve));
      port = (server.address() as AddressInfo).port;
      servers.push(server);
    }
    const slice = (rv: string, readyIps: string[]) => ({
      metadata: { name: 'web-1', resourceVersion: rv },
      addressType: 'IPv4',
      ports: [{ name: 'http', port, protocol: 'TCP' }],
      endpoints: ['127.0.0.2', '127.0.0.3', '127.0.0.4'].map((ip) => ({
        addresses: [ip],
        conditions: { ready: readyIps.includes(ip) },
      })),
    });
    const api = await new RecordedApiServer(
      [{ metadata: { resourceVersion: '1' }, items: [slice('1', ['127.0.0.2', '127.0.0.3', '127.0.0.4'])] }],
      [],
    ).start();
    const r = kubernetesResolver({
      service: 'web',
      namespace: 'shop',
      port: 'http',
      server: api.url,
      token: 't',
    });
    const set = new EndpointSet<Endpoint>({
      destination: 'web',
      resolver: r,
      balancer: roundRobin(),
      clock: systemClock,
      random: Math.random,
      connect: (e) => e,
      disconnect: () => {},
    });
    const send = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const target = set.pick()?.transport;
        assert.ok(target, 'an endpoint to send to');
        const res = await fetch(`http://${target.address}:${target.port}/`);
        await res.text();
      }
    };
    try {
      await set.whenResolved();
      await send(30);
      assert.deepEqual([...hits.keys()].sort(), ['127.0.0.2', '127.0.0.3', '127.0.0.4']);
      let updates = 0;
      r.subscribe(() => updates++);
      await api.send({ type: 'MODIFIED', object: slice('2', ['127.0.0.2', '127.0.0.4']) });
      await waitForState(r, keys(`127.0.0.2:${port}`, `127.0.0.4:${port}`));
      assert.equal(updates, 2, 'the initial call, then the one event');
      const before = hits.get('127.0.0.3');
      await send(30);
      assert.equal(hits.get('127.0.0.3'), before, 'no request reached the removed endpoint');
    } finally {
      set.close();
      r.close();
      await api.close();
      for (const server of servers) await new Promise((resolve) => server.close(resolve));
    }
  });
});
