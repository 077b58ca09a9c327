/**
 * WebSockets through the mesh: undici 8's `WebSocket` given `createDispatcher` or a client's
 * `dispatcher`, undici 7's (the older handler API), and Node's own `WebSocket` under
 * `installGlobalDispatcher`. `ws://catalog/…` is a mesh call to `catalog`: the opening handshake is
 * balanced over its endpoints, and messages then go both ways on the upgraded connection.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createClient, createDispatcher, installGlobalDispatcher } from '@weft/http';
import { type Dispatcher, WebSocket as WebSocket8 } from 'undici';
import { WebSocket as WebSocket7 } from 'undici7';
import { startUpgradeServer, type UpgradeServer, webSocketEcho } from './upgrade-servers.ts';

/** What the tests use of a WebSocket, whichever implementation. */
interface Socket {
  send(text: string): void;
  close(): void;
  addEventListener(type: string, fn: (event: { data?: unknown; code?: number }) => void): void;
}

const servers: UpgradeServer[] = [];
const closers: { close(): Promise<unknown> }[] = [];
after(async () => {
  await Promise.all(closers.map((c) => c.close()));
  await Promise.all(servers.map((s) => s.close()));
});

async function fleet(): Promise<[UpgradeServer, UpgradeServer]> {
  const a = await startUpgradeServer(webSocketEcho('a'));
  const b = await startUpgradeServer(webSocketEcho('b'));
  servers.push(a, b);
  return [a, b];
}

/** The next event of `type` on `ws`; rejects on an `error` event first (or on a timeout). */
function next(ws: Socket, type: 'open' | 'message' | 'close'): Promise<{ data?: unknown; code?: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} event within 5 s`)), 5_000);
    ws.addEventListener(type, (event) => {
      clearTimeout(timer);
      resolve(event);
    });
    if (type !== 'close')
      ws.addEventListener('error', () => {
        clearTimeout(timer);
        reject(new Error(`error event before ${type}`));
      });
  });
}

/** Opens `count` sockets with `open`, round-trips two messages on each, closes them; returns who answered. */
async function roundTrips(open: () => Socket, count: number): Promise<string[]> {
  const answered: string[] = [];
  for (let i = 0; i < count; i++) {
    const ws = open();
    await next(ws, 'open');
    for (const text of [`hello ${i}`, `bye ${i}`]) {
      const reply = next(ws, 'message');
      ws.send(text);
      const data = String((await reply).data);
      const [server, echoed] = [data.slice(0, data.indexOf(':')), data.slice(data.indexOf(':') + 1)];
      assert.equal(echoed, text);
      answered.push(server);
    }
    const closed = next(ws, 'close');
    ws.close();
    assert.equal((await closed).code, 1005, 'a clean close, with no status code sent');
  }
  return answered;
}

function meshDispatcher(endpoints: string[]): Dispatcher {
  const dispatcher = createDispatcher({
    services: { catalog: { endpoints, balancer: 'round-robin' } },
    fallback: false,
  });
  closers.push(dispatcher);
  return dispatcher;
}

describe('WebSockets through the mesh', () => {
  test('undici’s WebSocket given createDispatcher: balanced, messages round trip', async () => {
    const [a, b] = await fleet();
    const dispatcher = meshDispatcher([a.endpoint, b.endpoint]);
    const answered = await roundTrips(() => new WebSocket8('ws://catalog/chat', { dispatcher }), 4);
    assert.deepEqual(answered.filter((s) => s === 'a').length, 4, `both endpoints served: ${answered}`);
    assert.deepEqual(answered.filter((s) => s === 'b').length, 4);
    const handshake = a.upgrades[0]!;
    assert.equal(handshake.url, '/chat');
    assert.equal(handshake.headers.host, 'catalog');
    assert.equal(handshake.headers.upgrade, 'websocket');
  });

  test('undici’s WebSocket given a client’s dispatcher', async () => {
    const [a, b] = await fleet();
    const client = createClient({ service: 'catalog', endpoints: [a.endpoint, b.endpoint] });
    closers.push(client);
    const dispatcher = client.dispatcher;
    assert.equal(client.dispatcher, dispatcher, 'one dispatcher per client');
    const answered = await roundTrips(() => new WebSocket8('ws://catalog/chat', { dispatcher }), 2);
    assert.equal(answered.length, 4);
    assert.equal(a.upgrades.length + b.upgrades.length, 2, 'one handshake per socket');
  });

  test('undici 7’s WebSocket (the older handler API) given createDispatcher', async () => {
    const [a, b] = await fleet();
    const dispatcher = meshDispatcher([a.endpoint, b.endpoint]);
    const answered = await roundTrips(
      () => new WebSocket7('ws://catalog/chat', { dispatcher } as never) as unknown as Socket,
      2,
    );
    assert.deepEqual(new Set(answered), new Set(['a', 'b']));
  });

  test('Node’s WebSocket under installGlobalDispatcher', async () => {
    const [a, b] = await fleet();
    const dispatcher = installGlobalDispatcher({
      services: { catalog: { endpoints: [a.endpoint, b.endpoint], balancer: 'round-robin' } },
    });
    try {
      const answered = await roundTrips(() => new globalThis.WebSocket('ws://catalog/chat') as Socket, 2);
      assert.deepEqual(new Set(answered), new Set(['a', 'b']));
    } finally {
      await dispatcher.close();
    }
  });

  test('a handshake the server refuses fails the socket and is sent once', async () => {
    const refusing = await startUpgradeServer(undefined, (_req, res) => {
      res.statusCode = 403;
      res.end('no');
    });
    servers.push(refusing);
    const dispatcher = meshDispatcher([refusing.endpoint]);
    const ws = new WebSocket8('ws://catalog/chat', { dispatcher });
    const closed = next(ws, 'close');
    await assert.rejects(next(ws, 'open'), /error event/);
    assert.equal((await closed).code, 1006, 'closed abnormally');
    assert.equal(refusing.upgrades.length, 1, 'never retried');
  });
});
