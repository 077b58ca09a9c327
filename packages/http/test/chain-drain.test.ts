/**
 * Graceful drain under load: a Weft client sends idempotent GETs over three instances (Express and
 * Fastify); two of them drain one after the other. Readiness turns false, new requests are refused
 * with a retryable rejection, in-flight ones finish, the listeners close — and the client sees no
 * failed request.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { type DrainResult, parseEndpoint, StaticResolver } from '@weft/core';
import { createClient } from '@weft/http';
import { request } from 'undici';
import { type App, delay, startApp } from './server-apps.ts';

const apps: App[] = [];
after(async () => {
  await Promise.all(apps.map((a) => a.close()));
});

test('draining instances during load loses no idempotent request', async () => {
  const served = new Map<App, number>();
  for (const kind of ['express', 'fastify', 'express'] as const) {
    const a: App = await startApp(kind, { drainDelayMs: 150 }, [
      {
        method: 'GET',
        path: '/item',
        handler: async () => {
          await delay(5 + Math.floor(Math.random() * 20));
          served.set(a, (served.get(a) ?? 0) + 1);
          return { body: 'ok' };
        },
      },
    ]);
    apps.push(a);
  }
  // Discovery: drops an instance once its readiness turns false (as Kubernetes EndpointSlices do).
  const resolver = new StaticResolver(apps.map((a) => parseEndpoint(a.endpoint)));
  const live = new Set(apps);
  const client = createClient({ service: 'drain', resolver });
  let stop = false;
  let sent = 0;
  let failed = 0;
  const errors: string[] = [];
  const worker = async () => {
    while (!stop) {
      sent++;
      try {
        const res = await client.fetch('/item');
        const text = await res.text();
        if (res.status !== 200 || text !== 'ok') {
          failed++;
          errors.push(`${res.status} ${text}`);
        }
      } catch (e) {
        failed++;
        errors.push(String(e));
      }
    }
  };
  const load = Promise.all(Array.from({ length: 12 }, worker));

  const drainOne = async (a: App): Promise<{ result: DrainResult; readyDuring: number }> => {
    const draining = a.drain();
    // Readiness is false at once (a fresh connection, as a probe would make).
    const probe = await request(`${a.url}/readyz`, { reset: true }).catch(() => undefined);
    const readyDuring = probe?.statusCode ?? 0;
    await probe?.body.text();
    if (readyDuring !== 200) {
      live.delete(a);
      resolver.set([...live].map((x) => parseEndpoint(x.endpoint)));
    }
    return { result: await draining, readyDuring };
  };
  // Progress, not wall time, decides when to drain: the test holds on a slow or busy machine.
  const until = async (done: () => boolean) => {
    for (let i = 0; i < 2000 && !done(); i++) await delay(10);
  };
  await until(() => apps.every((a) => (served.get(a) ?? 0) >= 20));
  const first = await drainOne(apps[0]!);
  const mark = sent;
  await until(() => sent >= mark + 150);
  const second = await drainOne(apps[1]!);
  const mark2 = sent;
  await until(() => sent >= mark2 + 150);
  stop = true;
  await load;
  await client.close();

  const shedWhileDraining = apps.map((a) => a.runtime.shed.draining);
  console.log(
    `[drain] ${sent} GETs by 12 callers; served per instance ${apps.map((a) => served.get(a) ?? 0).join('/')}; ` +
      `in flight at drain ${first.result.inflightAtStart}/${second.result.inflightAtStart}, ` +
      `drain took ${first.result.durationMs.toFixed(1)}/${second.result.durationMs.toFixed(1)} ms; ` +
      `rejected while draining ${shedWhileDraining.join('/')}; failed ${failed}`,
  );
  assert.deepEqual(errors, []);
  assert.equal(failed, 0);
  for (const d of [first, second]) {
    assert.equal(d.result.abandoned, 0, 'every in-flight request finished');
    assert.equal(d.readyDuring, 503, 'readiness is false while draining');
    assert.ok(
      d.result.durationMs >= 140,
      'the instance kept answering for drainDelayMs (timers may fire a little early)',
    );
  }
  assert.equal(apps[0]!.state, 'closed');
  assert.equal(apps[1]!.state, 'closed');
  assert.equal(apps[0]!.server.listening, false);
  assert.equal(apps[1]!.server.listening, false);
  assert.ok((served.get(apps[2]!) ?? 0) > 0);
  assert.ok(sent > 300, `enough load: ${sent}`);
});
