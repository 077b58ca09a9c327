/**
 * The rollout API on a real config service (SQLite): `GET /v1/rollouts[/:service]`, the operator's
 * actions with their access and their 409s, and a manual edit of the Route pausing the rollout.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LogEntry } from '@weft/core/config';
import { call, type ServiceProcess, startService } from './service.ts';

async function eventually(check: () => Promise<void>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > end) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

type Status = { phase: string; step: number; canaryWeight: number; reason?: string } | null;

const route = (v2: number) => ({
  subsets: { v1: { version: 'v1' }, v2: { version: 'v2' } },
  rules: [
    {
      backends: [
        { subset: 'v1', weight: 100 - v2 },
        { subset: 'v2', weight: v2 },
      ],
    },
  ],
});
const v2Weight = (spec: unknown) =>
  (spec as ReturnType<typeof route>).rules[0]!.backends.find((b) => b.subset === 'v2')?.weight;

describe('the rollout API (real process)', () => {
  let svc: ServiceProcess;
  const admin = () => ({ token: svc.token });
  const status = async () =>
    (await call(svc.url, 'GET', '/v1/rollouts/catalog', admin())).body.status as Status;
  const post = (action: string, token = svc.token) =>
    call(svc.url, 'POST', `/v1/rollouts/catalog/${action}`, { token, body: {} });
  const routeNow = async () => (await call(svc.url, 'GET', '/v1/documents/Route/catalog', admin())).body;

  before(async () => {
    svc = await startService({ args: ['--rollout-tick-ms', '100'] });
  });
  after(async () => {
    await svc.stop();
  });

  test('a rollout starts at its first step; a manual Route edit pauses it; the actions act and say why not', async () => {
    assert.equal(
      (await call(svc.url, 'PUT', '/v1/documents/Route/catalog', { ...admin(), body: { spec: route(0) } }))
        .status,
      201,
    );
    const spec = {
      stable: 'v1',
      canary: 'v2',
      steps: [{ weight: 10, pauseS: 60 }, { weight: 100 }],
      analysis: { intervalS: 30 },
    };
    assert.equal(
      (await call(svc.url, 'PUT', '/v1/documents/Rollout/catalog', { ...admin(), body: { spec } })).status,
      201,
    );
    await eventually(async () => assert.equal((await status())?.phase, 'progressing'));
    assert.equal(v2Weight((await routeNow()).spec), 10);
    const list = (await call(svc.url, 'GET', '/v1/rollouts', admin())).body;
    assert.equal(list.driving, true);
    assert.deepEqual(
      list.rollouts.map((r: { service: string; status: { step: number } }) => [r.service, r.status.step]),
      [['catalog', 0]],
    );

    // Someone edits the Route by hand: the rollout pauses and says so.
    assert.equal(
      (await call(svc.url, 'PUT', '/v1/documents/Route/catalog', { ...admin(), body: { spec: route(30) } }))
        .status,
      200,
    );
    await eventually(async () => assert.equal((await status())?.phase, 'paused'));
    assert.match(
      (await status())!.reason!,
      /Route\/catalog was changed at revision \d+, not by the rollout: paused at step 1/,
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(v2Weight((await routeNow()).spec), 30, 'a paused rollout leaves the edit alone');

    // Resume takes the Route back with the step's weight; pause holds; promote gives 100.
    const resumed = await post('resume');
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
    assert.equal(resumed.body.status.phase, 'progressing');
    assert.equal(v2Weight((await routeNow()).spec), 10);
    assert.equal((await post('pause')).body.status.reason, 'paused by admin');
    const again = await post('pause');
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /paused already/);
    const promoted = await post('promote');
    assert.equal(promoted.body.status.phase, 'promoted');
    assert.equal(v2Weight((await routeNow()).spec), 100);
    const late = await post('abort');
    assert.equal(late.status, 409);
    assert.match(late.body.error.message, /is promoted; apply it again to start over/);

    // The operator's writes are recorded as theirs, the driver's as the rollout's.
    const history = (await call(svc.url, 'GET', '/v1/history?kind=Route&name=catalog', admin())).body
      .entries as LogEntry[];
    assert.deepEqual(
      history.map((e) => [
        e.author?.name,
        v2Weight((e.changes[0] as { document: { spec: unknown } }).document.spec),
      ]),
      [
        ['admin', 100],
        ['admin', 10],
        ['admin', 30],
        ['rollout', 10],
        ['admin', 0],
      ],
    );
  });

  test('actions need an admin token; an unknown rollout is a 404; a bad name a 400', async () => {
    const created = await call(svc.url, 'POST', '/v1/tokens', {
      ...admin(),
      body: { name: 'catalog', role: 'service', service: 'catalog' },
    });
    assert.equal(created.status, 201);
    assert.equal((await post('pause', created.body.token)).status, 403);
    assert.equal(
      (await call(svc.url, 'GET', '/v1/rollouts/catalog', { token: created.body.token })).status,
      200,
    );
    assert.equal(
      (await call(svc.url, 'POST', '/v1/rollouts/orders/pause', { ...admin(), body: {} })).status,
      404,
    );
    assert.equal((await call(svc.url, 'GET', '/v1/rollouts/orders', admin())).status, 404);
    assert.equal((await call(svc.url, 'GET', '/v1/rollouts/Bad!', admin())).status, 400);
  });

  test("the RolloutStatus is the service's own: the documents API refuses to write or delete it", async () => {
    const current = (await call(svc.url, 'GET', '/v1/documents/RolloutStatus/catalog', admin())).body;
    assert.equal(current.kind, 'RolloutStatus');
    const put = await call(svc.url, 'PUT', '/v1/documents/RolloutStatus/catalog', {
      ...admin(),
      body: { spec: current.spec },
    });
    assert.equal(put.status, 403);
    assert.match(put.body.error.message, /written by the config service itself/);
    assert.equal((await call(svc.url, 'DELETE', '/v1/documents/RolloutStatus/catalog', admin())).status, 403);
    const applied = await call(svc.url, 'POST', '/v1/apply', {
      ...admin(),
      body: { documents: [{ kind: 'RolloutStatus', name: 'catalog', spec: current.spec }] },
    });
    assert.equal(applied.status, 400);
    assert.match(
      JSON.stringify(applied.body),
      /documents\.0\.kind: RolloutStatus is written by the config service itself/,
    );
  });
});
