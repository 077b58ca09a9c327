/**
 * Endpoint faults against real servers on loopback: a refusing endpoint, an endpoint whose address
 * no pool can be made for, equally fast endpoints, and server pushback (`Retry-After`).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { type Clock, StaticResolver, systemClock, WeftError } from '@weft/core';
import { seededRandom } from '@weft/core/testing';
import { createClient } from '@weft/http';
import { closedPort, serversClosedAfter } from './helpers.ts';

const server = serversClosedAfter(after);

describe('endpoint faults (real servers)', () => {
  test('one closed and one live endpoint, 100 fresh clients: the second call never fails', async () => {
    const live = await server((_req, res) => res.end('ok'));
    const dead = `127.0.0.1:${await closedPort()}`;
    const failed: string[] = [];
    for (let i = 0; i < 100; i++) {
      const client = createClient({ service: `refusing-${i}`, endpoints: [dead, live.endpoint] });
      for (let call = 1; call <= 2; call++) {
        try {
          const res = await client.fetch('/');
          await res.text();
        } catch (e) {
          failed.push(`client ${i} call ${call}: ${(e as WeftError).code}`);
        }
      }
      await client.close();
    }
    assert.deepEqual(failed, []);
  });

  test('an endpoint no pool can be made for is an endpoint failure: ejected, and callers see only WeftError', async () => {
    const a = await server((_req, res) => res.end('a'));
    const b = await server((_req, res) => res.end('b'));
    // Past every validation (as a resolver bug or a hostile registry would hand it over).
    const resolver = new StaticResolver([
      { address: '127.0.0.1', port: a.port },
      { address: '127.0.0.1:8080', port: 80 },
      { address: 'bad\r\nhost', port: 80 },
      { address: '127.0.0.1', port: b.port },
    ]);
    const client = createClient({ service: 'malformed', resolver });
    const errors: unknown[] = [];
    let ok = 0;
    for (let i = 0; i < 200; i++) {
      try {
        const res = await client.fetch('/', {
          method: i % 2 ? 'POST' : 'GET',
          body: i % 2 ? 'x' : undefined,
        });
        await res.text();
        ok++;
      } catch (e) {
        errors.push(e);
      }
    }
    assert.ok(
      errors.every((e) => e instanceof WeftError),
      `only WeftError: ${errors.map(String).join('; ')}`,
    );
    assert.equal(ok, 200, 'every call was retried onto a good endpoint');
    const state = Object.fromEntries(client.describe().endpoints.map((e) => [e.endpoint, e]));
    assert.equal(state['[127.0.0.1:8080]:80']!.health, 'ejected', 'no pool can be made: ejected at once');
    assert.equal(state['[127.0.0.1:8080]:80']!.failures, 1);
    assert.equal(state['bad\r\nhost:80']!.health, 'ejected');
    assert.equal(state['bad\r\nhost:80']!.failures, 1);
    await client.close();
  });

  test('sequential calls spread over two equally fast endpoints', async () => {
    const a = await server((_req, res) => res.end('a'));
    const b = await server((_req, res) => res.end('b'));
    // The clock stands still, so both endpoints always measure the same latency and every pick is a
    // tie: what is tested is how ties are broken, not how evenly a loaded machine answers.
    const still: Clock = { ...systemClock, now: () => 0 };
    const client = createClient({
      service: 'ties',
      endpoints: [a.endpoint, b.endpoint],
      clock: still,
      random: seededRandom(5),
    });
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 200; i++) {
      const res = await client.fetch('/');
      counts[(await res.text()) as 'a' | 'b']++;
    }
    await client.close();
    assert.ok(counts.a >= 40 && counts.b >= 40, `a=${counts.a} b=${counts.b}`);
  });
});

describe('Retry-After', () => {
  test('from the only endpoint: the retry waits for it, within the deadline', async () => {
    let n = 0;
    const times: number[] = [];
    const s = await server((_req, res) => {
      times.push(performance.now());
      if (n++ === 0) {
        res.writeHead(503, { 'retry-after': '1' });
        res.end();
      } else res.end('ok');
    });
    const client = createClient({ service: 'pushback', endpoints: [s.endpoint], timeoutMs: 5000 });
    const res = await client.fetch('/');
    assert.equal(await res.text(), 'ok');
    assert.ok(times[1]! - times[0]! >= 950, `retried after ${Math.round(times[1]! - times[0]!)} ms`);
    await client.close();
  });

  test('a pushback that does not fit before the deadline is not waited for: the 503 is the answer', async () => {
    const s = await server((_req, res) => {
      res.writeHead(503, { 'retry-after': '5' });
      res.end('busy');
    });
    const client = createClient({ service: 'pushback-late', endpoints: [s.endpoint], timeoutMs: 1000 });
    const start = performance.now();
    const res = await client.fetch('/');
    assert.equal(res.status, 503);
    await res.text();
    assert.ok(performance.now() - start < 500, 'answered at once');
    assert.equal(s.requests.length, 1, 'not retried');
    await client.close();
  });

  test('a shedding endpoint is left alone for its pushback: the retry and the next calls go elsewhere', async () => {
    const shed = await server((_req, res) => {
      res.writeHead(503, { 'weft-rejected': '1', 'retry-after': '2' });
      res.end();
    });
    const good = await server((_req, res) => res.end('ok'));
    const client = createClient({
      service: 'pushback-shed',
      endpoints: [shed.endpoint, good.endpoint],
    });
    const start = performance.now();
    for (let i = 0; i < 20; i++)
      assert.equal(await (await client.fetch('/', { method: 'POST' })).text(), 'ok');
    assert.ok(performance.now() - start < 1000, 'no call waited');
    assert.ok(shed.requests.length <= 2, `the shedding endpoint got ${shed.requests.length} requests`);
    await client.close();
  });

  test('a malformed Retry-After is ignored', async () => {
    let n = 0;
    const s = await server((_req, res) => {
      if (n++ === 0) {
        res.writeHead(503, { 'retry-after': 'soon' });
        res.end();
      } else res.end('ok');
    });
    const client = createClient({ service: 'pushback-bad', endpoints: [s.endpoint] });
    assert.equal(await (await client.fetch('/')).text(), 'ok');
    await client.close();
  });
});
