/**
 * With the default balancer (P2C over peak-EWMA), an instance that sheds load must not attract more
 * of it. Its 503 + weft-rejected answers take well under a millisecond; before the fix that latency
 * fed the estimate like any other, so the shedding instance looked fastest (measured with limits
 * 2/8/8 and 8 callers: 5–19 of 600 POSTs failed after three attempts on the same instance). Now a
 * failure counts as at least twice the current estimate, and a retry draws again when the balancer
 * returns the endpoint that just failed (the idea of Envoy's `previous_hosts` retry predicate).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createClient } from '@weft/http';
import { type App, delay, startApp } from './server-apps.ts';

const apps: App[] = [];
after(async () => {
  await Promise.all(apps.map((a) => a.close()));
});

test('with the default balancer, requests shed by a small instance are retried elsewhere; none fails', async () => {
  const limits = [2, 8, 8];
  for (const limit of limits) {
    apps.push(
      await startApp('express', { concurrency: limit }, [
        {
          method: 'POST',
          path: '/work',
          handler: async () => {
            await delay(15);
            return { body: 'ok' };
          },
        },
      ]),
    );
  }
  const client = createClient({ service: 'shed-p2c', endpoints: apps.map((a) => a.endpoint) });
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < 600) {
      next++;
      const res = await client.fetch('/work', {
        method: 'POST',
        body: 'x',
        headers: { 'content-type': 'text/plain' },
      });
      if ((await res.text()) !== 'ok') failed++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  await client.close();
  assert.equal(failed, 0);
});
