/**
 * The retry marker travels hop by hop: when B answers A with `weft-no-retry`, A's own 5xx must carry
 * it too, or A's caller retries A and attempts multiply at the leaf (before the fix: 1.88 attempts
 * at C per caller request instead of 1.34). The client's `context` module sets the marker when a
 * call's final answer says its server already gave up (`ProtocolBinding.upstreamExhausted`), or the
 * budget was spent, or the breaker is open.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Header } from '@weft/core';
import { createClient, type WeftClient } from '@weft/http';
import { request } from 'undici';
import { type App, startApp } from './server-apps.ts';

const apps: App[] = [];
const clients: WeftClient[] = [];
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(apps.map((a) => a.close()));
});

test('a 5xx caused by a downstream weft-no-retry answer is itself marked weft-no-retry', async () => {
  const c = await startApp('express', {}, [
    { method: 'GET', path: '/c', handler: () => ({ status: 503, body: 'down' }) },
  ]);
  apps.push(c);
  const toC = createClient({ service: 'pc', endpoints: [c.endpoint], circuitBreaker: false });
  clients.push(toC);
  const b = await startApp('express', {}, [
    {
      method: 'GET',
      path: '/b',
      handler: async () => ({ status: 502, body: await (await toC.fetch('/c')).text() }),
    },
  ]);
  apps.push(b);
  const toB = createClient({ service: 'pb', endpoints: [b.endpoint], circuitBreaker: false });
  clients.push(toB);
  const a = await startApp('express', {}, [
    {
      method: 'GET',
      path: '/a',
      handler: async () => ({ status: 502, body: await (await toB.fetch('/b')).text() }),
    },
  ]);
  apps.push(a);
  const res = await request(`${a.url}/a`);
  await res.body.text();
  assert.equal(res.statusCode, 502);
  assert.equal(res.headers[Header.noRetry], '1', 'A must tell its caller not to retry');
});
