/**
 * `weft rollout` without a network: the requests each command sends, what it prints, and how it
 * reports a rollout that is missing or an action that does not apply. (The real config service
 * drives rollouts in packages/http/test/rollout.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from '../src/api.ts';
import { UsageError } from '../src/commands.ts';
import { CommandError } from '../src/errors.ts';
import { rolloutAction, rolloutStatus } from '../src/rollout.ts';
import { fakeApi } from './fake-api.ts';

const view = {
  service: 'catalog',
  revision: 4,
  spec: {
    stable: 'v1',
    canary: 'v2',
    steps: [{ weight: 10, pauseS: 60 }, { weight: 100 }],
    analysis: { failureLimit: 2 },
  },
  status: {
    phase: 'failed',
    step: 0,
    stepStartedAt: Date.UTC(2026, 0, 1, 12, 0, 0),
    canaryWeight: 0,
    failedIntervals: 2,
    reason:
      'rolled back after 2 failed intervals (failureLimit 2); last: successRate of v2 80% < minPercent 99%',
    current: true,
    intervals: [
      {
        step: 0,
        from: Date.UTC(2026, 0, 1, 12, 0, 0),
        to: Date.UTC(2026, 0, 1, 12, 0, 30),
        result: 'failed',
        canary: { requests: 100, failures: 20, successRate: 0.8, p99Ms: 12 },
        stable: { requests: 900, failures: 0, successRate: 1, p99Ms: 10 },
      },
    ],
  },
};

describe('weft rollout', () => {
  test('status reads /v1/rollouts/<service> and prints the phase, the weights, the reason and the intervals', async () => {
    const f = fakeApi(() => view);
    await rolloutStatus(f.request, f.o, 'catalog');
    assert.deepEqual(f.sent, [{ method: 'GET', path: '/v1/rollouts/catalog' }]);
    assert.equal(
      f.lines[0],
      [
        'Rollout/catalog: failed, step 1 of 2: v2 0%, v1 100%',
        '  step started 2026-01-01T12:00:00.000Z, pause 60 s',
        '  failed intervals: 2 (rollback at 2)',
        `  reason: ${view.status.reason}`,
        '  intervals (newest last):',
        '    2026-01-01T12:00:30.000Z step 1 failed       v2: 100 req, 80%, p99 12 ms; v1: 900 req, 100%, p99 10 ms',
      ].join('\n'),
    );
  });

  test('status without a service lists every rollout; one not started yet is pending', async () => {
    const f = fakeApi(() => ({ driving: true, rollouts: [{ ...view, status: null }] }));
    await rolloutStatus(f.request, f.o);
    assert.deepEqual(f.sent, [{ method: 'GET', path: '/v1/rollouts' }]);
    assert.match(f.lines[0]!, /^Rollout\/catalog: pending/);
  });

  test('pause, resume, promote and abort POST to the action; --output json prints the reply', async () => {
    const f = fakeApi(() => view);
    for (const action of ['pause', 'resume', 'promote', 'abort'] as const)
      await rolloutAction(f.request, { ...f.o, json: true }, action, 'catalog');
    assert.deepEqual(
      f.sent.map((s) => `${s.method} ${s.path}`),
      [
        'POST /v1/rollouts/catalog/pause',
        'POST /v1/rollouts/catalog/resume',
        'POST /v1/rollouts/catalog/promote',
        'POST /v1/rollouts/catalog/abort',
      ],
    );
    assert.deepEqual(JSON.parse(f.lines[0]!), view);
  });

  test('a missing rollout, an action that does not apply and a bad name are reported as such', async () => {
    const missing = fakeApi(() => {
      throw new ApiError(404, 'not_found', 'Rollout/catalog not found');
    });
    await assert.rejects(rolloutStatus(missing.request, missing.o, 'catalog'), (e: unknown) => {
      assert.ok(e instanceof CommandError);
      assert.equal(e.code, 'not_found');
      return true;
    });
    const finished = fakeApi(() => {
      throw new ApiError(409, 'conflict', 'Rollout/catalog is failed; apply it again to start over');
    });
    await assert.rejects(rolloutAction(finished.request, finished.o, 'resume', 'catalog'), (e: unknown) => {
      assert.ok(e instanceof CommandError);
      assert.equal(e.code, 'conflict');
      assert.match(e.message, /apply it again/);
      return true;
    });
    const f = fakeApi(() => view);
    await assert.rejects(rolloutAction(f.request, f.o, 'pause', 'Catalog!'), UsageError);
    assert.deepEqual(f.sent, []);
  });
});
