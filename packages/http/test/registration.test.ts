/**
 * A server registered through its Weft middleware: registered once it listens (port found from the
 * listener), withdrawn from the registry as soon as a drain starts and before the listener closes,
 * so callers stop picking it while it still answers. Real config service, real servers, real
 * registry-resolved client under load.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type ServiceProcess, startService } from '@weft/control-plane/testing';
import { registryResolver } from '@weft/discovery';
import { createClient } from '@weft/http';
import { weft } from '@weft/http/express';
import { weft as weftPlugin } from '@weft/http/fastify';
import express from 'express';
import Fastify from 'fastify';
import { eventually } from './helpers.ts';

let cp: ServiceProcess;
before(async () => {
  cp = await startService();
});
after(() => cp.stop());

async function registered(service: string): Promise<{ port: number; labels: Record<string, string> }[]> {
  const res = await fetch(`${cp.url}/v1/services/${service}/endpoints`, {
    headers: { authorization: `Bearer ${cp.token}` },
  });
  const body = (await res.json()) as { instances?: { port: number; labels: Record<string, string> }[] };
  return body.instances ?? [];
}

async function expressInstance(service: string, drainDelayMs = 0) {
  const mesh = weft({
    drainSignals: false,
    drainDelayMs,
    register: { service, urls: cp.url, token: cp.token, labels: { version: 'v1' }, ttlMs: 5000 },
  });
  const app = express()
    .use(mesh)
    .all('/', (_req, res) => {
      res.send('ok');
    });
  const server: Server = app.listen(0, '127.0.0.1');
  mesh.attach(server);
  await once(server, 'listening');
  return { mesh, server, port: (server.address() as AddressInfo).port };
}

describe('registration tied to the server', () => {
  test('Express: registered with its port and labels; withdrawn when the drain starts, before the listener closes', async () => {
    const a = await expressInstance('reg-express', 600);
    await eventually(async () =>
      assert.deepEqual(await registered('reg-express'), [
        { ...(await registered('reg-express'))[0]!, port: a.port },
      ]),
    );
    const [instance] = await registered('reg-express');
    assert.equal(instance?.labels.version, 'v1');
    const drained = a.mesh.drain();
    await eventually(async () => assert.equal((await registered('reg-express')).length, 0), 400);
    assert.equal(a.server.listening, true, 'withdrawn while the listener still answers');
    await drained;
    assert.equal(a.server.listening, false);
  });

  test('Fastify: register in the plugin options', async () => {
    const app = Fastify();
    app.register(weftPlugin, {
      drainSignals: false,
      register: { service: 'reg-fastify', urls: cp.url, token: cp.token },
    });
    app.get('/', async () => 'ok');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;
    await eventually(async () =>
      assert.deepEqual(
        (await registered('reg-fastify')).map((i) => i.port),
        [port],
      ),
    );
    await app.weft.drain();
    assert.equal((await registered('reg-fastify')).length, 0);
  });

  test('draining one of two instances under load fails no call', async () => {
    const a = await expressInstance('reg-load');
    const b = await expressInstance('reg-load');
    await eventually(async () => assert.equal((await registered('reg-load')).length, 2));
    const client = createClient({
      service: 'reg-load',
      resolver: registryResolver({ service: 'reg-load', urls: cp.url, token: cp.token }),
    });
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const loop = async () => {
      while (!stop) {
        try {
          const res = await client.fetch('/', { method: 'POST', body: 'x' });
          await res.text();
          if (res.status === 200) ok++;
          else failures.push(`status ${res.status}`);
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    };
    try {
      const loops = [loop(), loop(), loop(), loop()];
      await eventually(
        () =>
          assert.ok(ok > 1000, `ok ${ok}, failures ${failures.length}: ${failures.slice(0, 3).join(' / ')}`),
        10_000,
      );
      await a.mesh.drain();
      const atDrain = ok;
      await eventually(() => assert.ok(ok > atDrain + 2000), 10_000);
      stop = true;
      await Promise.all(loops);
      assert.deepEqual(failures, [], `${failures.length} of ${ok + failures.length} calls failed`);
      assert.deepEqual(
        (await registered('reg-load')).map((i) => i.port),
        [b.port],
      );
    } finally {
      stop = true;
      await client.close();
      await b.mesh.drain();
    }
  });

  test('a misspelt registration option is refused when the middleware is made', () => {
    assert.throws(
      () => weft({ register: { service: 'x', ttl: 5 } as never }),
      /register has no option "ttl"; did you mean "ttlMs"/,
    );
  });
});
