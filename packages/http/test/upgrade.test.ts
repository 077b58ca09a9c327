/**
 * HTTP upgrades through the mesh (`undici.upgrade` and raw dispatches with `upgrade`, through
 * `createDispatcher` and a client's `dispatcher`): balanced over the endpoints like any request,
 * done for the endpoint at the 101, retried only when the request never left (a refused
 * connection), never after the server answered; a non-101 answer is an ordinary response.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { after, describe, test } from 'node:test';
import { ErrorCode, isWeftError } from '@weft/core';
import { VirtualClock } from '@weft/core/testing';
import { createClient, createDispatcher } from '@weft/http';
import { connect, type Dispatcher, request, upgrade } from 'undici';
import { closedPort } from './helpers.ts';
import {
  dropWithoutAnswer,
  rawEcho,
  startUpgradeServer,
  switchThenClose,
  type UpgradeServer,
} from './upgrade-servers.ts';

const servers: UpgradeServer[] = [];
const closers: { close(): Promise<unknown> }[] = [];
const sockets: Duplex[] = [];
after(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(closers.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.close()));
});

async function server(...args: Parameters<typeof startUpgradeServer>): Promise<UpgradeServer> {
  const s = await startUpgradeServer(...args);
  servers.push(s);
  return s;
}

interface Mesh {
  dispatcher: Dispatcher;
  describe(): { endpoints: { endpoint: string; outstanding: number; completed: number; failures: number }[] };
}

/** The service `catalog` over `endpoints`, reached through `createDispatcher` or `client.dispatcher`. */
const meshes = {
  createDispatcher(endpoints: string[]): Mesh {
    const dispatcher = createDispatcher({
      services: { catalog: { endpoints, balancer: 'round-robin' } },
      fallback: false,
    });
    closers.push(dispatcher);
    return { dispatcher, describe: () => dispatcher.describe()[0]! };
  },
  'client.dispatcher'(endpoints: string[]): Mesh {
    const client = createClient({ service: 'catalog', endpoints, balancer: 'round-robin' });
    closers.push(client);
    return { dispatcher: client.dispatcher, describe: () => client.describe() };
  },
};

/** Writes `text` and reads it back from an echoing socket. */
async function echoes(socket: Duplex, text: string): Promise<string> {
  socket.write(text);
  let got = '';
  while (got.length < text.length) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    got += chunk.toString();
  }
  return got;
}

/** What a raw dispatch handler of the current API was told. */
function recorder(): {
  handler: Dispatcher.DispatchHandler;
  done: Promise<{ status: number; body: string }>;
} {
  let status = 0;
  let body = '';
  let settle!: (r: { status: number; body: string }) => void;
  let fail!: (e: Error) => void;
  const done = new Promise<{ status: number; body: string }>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart() {},
    onRequestUpgrade(_c, statusCode, _headers, socket) {
      socket.destroy();
      fail(new Error(`upgraded with ${statusCode}`));
    },
    onResponseStart(_c, statusCode) {
      status = statusCode;
    },
    onResponseData(_c, chunk) {
      body += chunk.toString();
    },
    onResponseEnd() {
      settle({ status, body });
    },
    onResponseError(_c, err) {
      fail(err);
    },
  };
  return { handler, done };
}

for (const [kind, mesh] of Object.entries(meshes)) {
  describe(`upgrades through ${kind}`, () => {
    test('are balanced over both endpoints, and each is done for its endpoint at the 101', async () => {
      const a = await server(rawEcho('a'));
      const b = await server(rawEcho('b'));
      const m = mesh([a.endpoint, b.endpoint]);
      const seen: string[] = [];
      for (let i = 0; i < 6; i++) {
        const { headers, socket } = await upgrade('http://catalog/ws', {
          dispatcher: m.dispatcher,
          protocol: 'echo',
        });
        sockets.push(socket);
        seen.push(String(headers['x-server']));
        assert.equal(await echoes(socket, `ping ${i}`), `ping ${i}`);
      }
      assert.deepEqual(
        seen.filter((s) => s === 'a').length,
        3,
        `round robin alternates the endpoints: ${seen.join(',')}`,
      );
      assert.equal(seen.filter((s) => s === 'b').length, 3);
      const sent = a.upgrades[0]!;
      assert.equal(sent.headers.upgrade, 'echo');
      assert.equal(sent.headers.host, 'catalog');
      // Six sockets are still open, and none counts as outstanding: the endpoints answered.
      const endpoints = m.describe().endpoints;
      assert.deepEqual(
        endpoints.map((e) => e.outstanding),
        [0, 0],
      );
      assert.equal(
        endpoints.reduce((n, e) => n + e.completed, 0),
        6,
      );
      // Each socket still echoes after the others were opened.
      for (const socket of sockets.slice(-6)) assert.equal(await echoes(socket, 'again'), 'again');
    });

    test('an endpoint that refuses connections: the upgrade is retried elsewhere and succeeds', async () => {
      const healthy = await server(rawEcho('healthy'));
      const m = mesh([`127.0.0.1:${await closedPort()}`, healthy.endpoint]);
      for (let i = 0; i < 4; i++) {
        const { headers, socket } = await upgrade('http://catalog/ws', {
          dispatcher: m.dispatcher,
          protocol: 'echo',
        });
        sockets.push(socket);
        assert.equal(headers['x-server'], 'healthy');
        assert.equal(await echoes(socket, 'hello'), 'hello');
      }
      assert.equal(healthy.upgrades.length, 4, 'one attempt reached a server per upgrade');
      assert.ok(
        healthy.upgrades.some((r) => r.headers['weft-attempt'] === '2'),
        'at least one upgrade was a second attempt after a refused connection',
      );
    });

    test('a 101 then a close: the caller gets the socket and sees it end; no second attempt', async () => {
      const a = await server(switchThenClose());
      const b = await server(switchThenClose());
      const m = mesh([a.endpoint, b.endpoint]);
      const { socket } = await upgrade('http://catalog/ws', { dispatcher: m.dispatcher, protocol: 'echo' });
      sockets.push(socket);
      socket.resume();
      await once(socket, 'close');
      assert.equal(a.upgrades.length + b.upgrades.length, 1, 'one attempt in all');
      assert.deepEqual(
        m.describe().endpoints.map((e) => e.failures),
        [0, 0],
        'an upgrade closed afterwards is no failure of the endpoint',
      );
    });

    test('a connection dropped after the request was sent fails the upgrade, never retried', async () => {
      const a = await server(dropWithoutAnswer());
      const b = await server(dropWithoutAnswer());
      const m = mesh([a.endpoint, b.endpoint]);
      await assert.rejects(upgrade('http://catalog/ws', { dispatcher: m.dispatcher }), (err) =>
        isWeftError(err, ErrorCode.RequestFailed),
      );
      assert.equal(a.upgrades.length + b.upgrades.length, 1, 'one attempt in all');
    });

    test('a non-101 answer is an ordinary response', async () => {
      const plain = await server(undefined, (req, res) => {
        res.setHeader('x-server', 'plain');
        res.end(`no upgrade to ${req.headers.upgrade}`);
      });
      const m = mesh([plain.endpoint]);
      const { handler, done } = recorder();
      m.dispatcher.dispatch(
        { origin: 'http://catalog', path: '/ws', method: 'GET', upgrade: 'echo' },
        handler,
      );
      assert.deepEqual(await done, { status: 200, body: 'no upgrade to echo' });
      // undici.upgrade refuses it as it does without the mesh: a `bad upgrade` socket error.
      const direct = await upgrade(`http://${plain.endpoint}/ws`).catch((e: Error) => e);
      const meshed = await upgrade('http://catalog/ws', { dispatcher: m.dispatcher }).catch((e: Error) => e);
      assert.ok(direct instanceof Error && meshed instanceof Error);
      assert.equal((meshed as { code?: string }).code, (direct as { code?: string }).code);
      assert.equal(meshed.message, direct.message);
      assert.equal(plain.upgrades.length, 3, 'each sent once');
      assert.deepEqual(
        m.describe().endpoints.map((e) => e.failures),
        [0],
        'the caller refusing an answer is no failure of the endpoint',
      );
      const ok = await request('http://catalog/after', { dispatcher: m.dispatcher });
      assert.equal(ok.statusCode, 200, 'the endpoint still serves');
      await ok.body.dump();
    });

    test('an upgrade undici would refuse, and CONNECT, fail as the caller’s error, never sent', async () => {
      const s = await server(rawEcho('a'));
      const m = mesh([s.endpoint]);
      const invalid = (err: unknown) => isWeftError(err, ErrorCode.InvalidOption);
      // undici.request's handler takes no upgraded connection.
      await assert.rejects(
        request('http://catalog/ws', { dispatcher: m.dispatcher, upgrade: 'echo' } as never),
        invalid,
      );
      const { handler, done } = recorder();
      m.dispatcher.dispatch(
        { origin: 'http://catalog', path: '/', method: 'GET', upgrade: 'bad\r\nvalue' },
        handler,
      );
      await assert.rejects(done, invalid);
      await assert.rejects(connect('http://catalog/', { dispatcher: m.dispatcher }), invalid);
      assert.equal(s.upgrades.length, 0, 'none sent');
    });
  });
}

test('an upgraded socket outlives the call: its deadline and per-try timers end at the 101', async () => {
  const s = await server(rawEcho('a'));
  const clock = new VirtualClock();
  const dispatcher = createDispatcher({
    services: { catalog: { endpoints: [s.endpoint], clock, timeoutMs: 1_000, perTryTimeoutMs: 500 } },
    fallback: false,
  });
  closers.push(dispatcher);
  // An ordinary request first, so that every timer a destination keeps for itself exists.
  const warm = await request('http://catalog/', { dispatcher });
  await warm.body.dump();
  const idle = clock.pending;
  const { socket } = await upgrade('http://catalog/ws', { dispatcher, protocol: 'echo' });
  sockets.push(socket);
  assert.equal(clock.pending, idle, 'no timer of the call is left');
  await clock.advance(10_000);
  assert.equal(await echoes(socket, 'still here'), 'still here');
  assert.equal(s.upgrades.length, 1);
});
