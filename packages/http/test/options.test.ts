/** Every public entry point of @weft/http refuses what it does not understand, naming it. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Stack } from '@weft/core';
import {
  createClient,
  createDispatcher,
  describeClients,
  type HttpCall,
  type HttpExchange,
} from '@weft/http';
import { weft } from '@weft/http/express';
import { weft as weftPlugin } from '@weft/http/fastify';
import Fastify from 'fastify';
import { startServer } from './helpers.ts';

const refused = (pattern: RegExp) => (e: { code?: string; message?: string }) => {
  assert.equal(e.code, 'WEFT_INVALID_OPTION');
  assert.match(String(e.message), pattern);
  return true;
};

describe('option checks', () => {
  test('createClient refuses misspelt keys with the closest valid one', () => {
    assert.throws(
      () => createClient({ service: 'catalog', endpoints: ['127.0.0.1:1'], timeout: 500 } as never),
      refused(/invalid option timeout: createClient has no option "timeout"; did you mean "timeoutMs"\?/),
    );
    assert.throws(
      () => createClient({ service: 'catalog', endpoints: ['127.0.0.1:1'], retries: 2 } as never),
      refused(/no option "retries"; did you mean "retry"/),
    );
  });

  test('createDispatcher refuses `service` (it is `services`) and misspelt keys inside a service', () => {
    assert.throws(
      () => createDispatcher({ service: { catalog: { endpoints: ['127.0.0.1:1'] } } } as never),
      refused(/createDispatcher has no option "service"; did you mean "services"\?/),
    );
    assert.throws(
      () => createDispatcher({ services: { catalog: { endpoints: ['127.0.0.1:1'], timout: 5 } } } as never),
      refused(/createDispatcher services\.catalog has no option "timout"; did you mean "timeoutMs"\?/),
    );
    assert.throws(
      () => createDispatcher({ defaults: { endpoints: ['127.0.0.1:1'] } } as never),
      refused(/endpoints belong to each service/),
    );
  });

  test('the Express middleware and the Fastify plugin refuse misspelt keys', async () => {
    assert.throws(
      () => weft({ concurency: 10 } as never),
      refused(/no option "concurency"; did you mean "concurrency"\?/),
    );
    assert.throws(
      () => weft({ concurrency: { kind: 'fixed', limt: 3 } } as never),
      refused(/concurrency has no option "limt"; did you mean "limit"/),
    );
    assert.throws(
      () => weft({ rate: { ratePerSec: 3 } } as never),
      refused(/rate has no option "ratePerSec"; did you mean "ratePerSecond"/),
    );
    const app = Fastify();
    app.register(weftPlugin, { drainTimeout: 5 } as never);
    await assert.rejects(
      async () => {
        await app.ready();
      },
      refused(/no option "drainTimeout"; did you mean "drainTimeoutMs"/),
    );
    await app.close().catch(() => {});
    // Fastify's own register options are not Weft's to refuse.
    const ok = Fastify();
    ok.register(weftPlugin, { prefix: '/x', drainSignals: false });
    await ok.ready();
    await ok.close();
  });

  test('an endpoint URL with a path is refused instead of the path being dropped', () => {
    assert.throws(
      () => createClient({ service: 'catalog', endpoints: ['http://h:8082/api'] }),
      refused(/endpoints\[0\].*a path, query or credentials in it would be ignored/),
    );
    assert.doesNotThrow(() =>
      createClient({ service: 'catalog', endpoints: ['http://h:8082/', 'h:8083'] }).close(),
    );
  });

  test('a per-call timeoutMs must be a number of ms ≥ 0', async () => {
    const server = await startServer((_req, res) => res.end('ok'));
    const client = createClient({ service: 'catalog', endpoints: [server.endpoint] });
    try {
      await assert.rejects(client.fetch('/', { timeoutMs: -5 }), refused(/timeoutMs.*got -5/));
      await assert.rejects(client.fetch('/', { timeoutMs: Number.NaN }), refused(/timeoutMs/));
      const res = await client.fetch('/', { timeoutMs: 1000 });
      assert.equal(await res.text(), 'ok');
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe('describeClients', () => {
  test('tells a client and a dispatcher for the same service apart', async () => {
    const client = createClient({ service: 'twice', endpoints: ['127.0.0.1:1'] });
    const dispatcher = createDispatcher({ services: { twice: { endpoints: ['127.0.0.1:1'] } } });
    try {
      const mine = describeClients().filter((d) => d.destination === 'twice');
      assert.deepEqual(mine.map((d) => d.client.kind).sort(), ['createClient', 'createDispatcher']);
      assert.ok(mine.every((d) => d.client.protocol === 'http'));
      assert.notEqual(mine[0]!.client.id, mine[1]!.client.id);
    } finally {
      await client.close();
      await dispatcher.close();
    }
  });

  test('a client and a dispatcher’s service are built alike: policy options, the stack option, the resolver check', async () => {
    const stack = (s: Stack<HttpCall, HttpExchange>) => s.remove('breaker');
    const client = createClient({ service: 'alike', endpoints: ['127.0.0.1:1'], timeoutMs: 321, stack });
    const dispatcher = createDispatcher({
      services: { alike: { endpoints: ['127.0.0.1:1'], stack } },
      defaults: { timeoutMs: 321 },
    });
    try {
      const [a, b] = ['createClient', 'createDispatcher'].map(
        (kind) => describeClients().find((d) => d.destination === 'alike' && d.client.kind === kind)!,
      );
      assert.deepEqual(a!.policy, b!.policy);
      assert.equal(a!.policy.timeoutMs, 321);
      assert.deepEqual(
        a!.stack.map((m) => m.role),
        b!.stack.map((m) => m.role),
      );
      assert.ok(!a!.stack.some((m) => m.role === 'breaker'));
    } finally {
      await client.close();
      await dispatcher.close();
    }
    assert.throws(
      () => createClient({ service: 'nowhere' }),
      refused(/^invalid option endpoints: give endpoints or a resolver for nowhere$/),
    );
  });
});
