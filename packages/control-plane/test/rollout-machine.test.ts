/**
 * The Rollout document's validation and the rollout state machine, without processes: every
 * decision is a pure function of the documents, the time (a virtual clock) and the traffic given.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RolloutStatusSpec, type StoredDocument, validateDocument } from '@weft/core/config';
import { VirtualClock } from '@weft/core/testing';
import { act, type Decision, decide, type Observation } from '../src/rollout/machine.ts';
import type { SubsetMetrics } from '../src/traffic/subsets.ts';

const spec = (extra: Record<string, unknown> = {}) => ({
  stable: 'v1',
  canary: 'v2',
  steps: [{ weight: 10, pauseS: 4 }, { weight: 50, pauseS: 4 }, { weight: 100 }],
  analysis: {
    intervalS: 2,
    minRequests: 10,
    relativeToStable: { maxDropPoints: 1 },
    latencyP99Ms: { max: 200 },
    failureLimit: 2,
  },
  ...extra,
});

const issues = (s: unknown) => {
  const r = validateDocument({ kind: 'Rollout', name: 'catalog', spec: s });
  return r.ok ? [] : r.issues;
};

describe('the Rollout document', () => {
  test("the issue's example is valid, and defaults fill analysis", async () => {
    const r = validateDocument({
      kind: 'Rollout',
      name: 'catalog',
      spec: { stable: 'v1', canary: 'v2', steps: [{ weight: 5, pauseS: 60 }, { weight: 100 }] },
    });
    assert.ok(r.ok);
    assert.deepEqual((r.document.spec as { analysis: unknown }).analysis, {
      intervalS: 30,
      minRequests: 100,
      successRate: { minPercent: 99 },
      failureLimit: 2,
    });
  });

  test('refuses, naming the field: unknown keys, decreasing weights, a last step under 100, short times, equal subsets', async () => {
    assert.deepEqual(issues({ ...spec(), extra: 1 }), ['spec: Unrecognized key: "extra"']);
    assert.match(
      issues(spec({ steps: [{ weight: 50 }, { weight: 10 }, { weight: 100 }] })).join(),
      /spec\.steps\.1\.weight: must not be below/,
    );
    assert.match(
      issues(spec({ steps: [{ weight: 50 }] })).join(),
      /spec\.steps\.0\.weight: the last step must be 100/,
    );
    assert.match(
      issues(spec({ steps: [{ weight: 100, pauseS: 0 }] })).join(),
      /spec\.steps\.0\.pauseS: must be ≥ 1 s/,
    );
    assert.match(issues(spec({ analysis: { intervalS: 0.5 } })).join(), /spec\.analysis\.intervalS/);
    assert.match(issues(spec({ canary: 'v1' })).join(), /spec\.canary: must differ from stable/);
    assert.match(issues(spec({ analysis: { bogus: 1 } })).join(), /spec\.analysis: Unrecognized key/);
    assert.match(issues(spec({ steps: [] })).join(), /spec\.steps: give at least one step/);
  });
});

/** A small world: the documents, a clock and the traffic the next analysis sees. */
function world(specExtra: Record<string, unknown> = {}) {
  const clock = new VirtualClock(1_000_000);
  let revision = 10;
  const parsed = validateDocument({ kind: 'Rollout', name: 'catalog', spec: spec(specExtra) });
  assert.ok(parsed.ok);
  const w = {
    clock,
    rollout: { ...parsed.document, revision: 5, createRevision: 5 } as StoredDocument<'Rollout'>,
    route: {
      kind: 'Route',
      name: 'catalog',
      spec: {
        subsets: { v1: { version: 'v1' }, v2: { version: 'v2' } },
        rules: [{ backends: [{ subset: 'v1', weight: 1 }] }],
      },
      revision: 6,
      createRevision: 6,
    } as StoredDocument<'Route'>,
    status: undefined as StoredDocument<'RolloutStatus'> | undefined,
    traffic: new Map<string, SubsetMetrics>(),
    writes: [] as Decision[],
    observation(): Observation {
      return {
        rollout: w.rollout,
        status: w.status,
        route: w.route,
        now: clock.now(),
        traffic: () => w.traffic,
      };
    },
    /** What the driver does: decide and commit (the status and the Route at one revision). */
    step(): Decision | undefined {
      const d = decide(w.observation());
      if (d) w.commit(d);
      return d;
    },
    commit(d: Decision) {
      // What the driver writes is what the clients will validate.
      const valid = RolloutStatusSpec.safeParse(d.status);
      assert.ok(valid.success, JSON.stringify(valid.error?.issues));
      revision++;
      w.writes.push(d);
      w.status = { kind: 'RolloutStatus', name: 'catalog', spec: d.status, revision, createRevision: 11 };
      if (d.canaryWeight !== undefined) w.route = { ...w.route, revision };
    },
    load(canary: Partial<SubsetMetrics>, stable: Partial<SubsetMetrics> = {}) {
      const m = (x: Partial<SubsetMetrics>): SubsetMetrics => ({
        requests: 100,
        failures: 0,
        successRate: 1,
        p99Ms: 20,
        ...x,
      });
      w.traffic = new Map([
        ['v2', m(canary)],
        ['v1', m(stable)],
      ]);
    },
    get phase(): RolloutStatusSpec['phase'] | undefined {
      return w.status?.spec.phase;
    },
  };
  return w;
}

describe('the rollout state machine', () => {
  test('a healthy canary goes through every step and is promoted', async () => {
    const w = world();
    w.load({});
    assert.equal(w.step()?.canaryWeight, 10);
    assert.equal(w.status?.spec.step, 0);
    const weights: number[] = [10];
    for (let i = 0; i < 20 && w.phase === 'progressing'; i++) {
      await w.clock.advance(1000);
      const d = w.step();
      if (d?.canaryWeight !== undefined) weights.push(d.canaryWeight);
    }
    assert.equal(w.phase, 'promoted');
    assert.deepEqual(weights, [10, 50, 100]);
    assert.ok(w.status!.spec.intervals.every((i) => i.result === 'passed'));
    assert.equal(w.step(), undefined, 'nothing more is written once promoted');
  });

  test('a step with a pause does not advance without one passed interval (no traffic: no evidence)', async () => {
    const w = world();
    w.step();
    await w.clock.advance(10_000);
    w.step();
    assert.equal(w.status?.spec.step, 0);
    assert.equal(w.status?.spec.intervals.at(-1)?.result, 'inconclusive');
    assert.match(w.status!.spec.intervals.at(-1)!.reason!, /0 canary requests, fewer than minRequests 10/);
  });

  test('failureLimit failed intervals roll back, with the metric, its value and the interval', async () => {
    const w = world();
    w.step();
    w.load({ successRate: 0.8, failures: 20 });
    await w.clock.advance(2000);
    w.step();
    assert.equal(w.phase, 'progressing');
    assert.equal(w.status?.spec.failedIntervals, 1);
    await w.clock.advance(2000);
    const d = w.step();
    assert.equal(w.phase, 'failed');
    assert.equal(d?.canaryWeight, 0);
    assert.match(
      w.status!.spec.reason!,
      /rolled back after 2 failed intervals .*successRate of v2 80% < minPercent 99% \(interval .*step 1\)/,
    );
  });

  test('a canary worse than stable by more than maxDropPoints fails; one slower than latencyP99Ms.max fails', async () => {
    const w = world({
      analysis: {
        intervalS: 2,
        minRequests: 10,
        successRate: { minPercent: 90 },
        relativeToStable: { maxDropPoints: 1 },
        latencyP99Ms: { max: 200 },
        failureLimit: 1,
      },
    });
    w.step();
    w.load({ successRate: 0.97 }, { successRate: 0.999 });
    await w.clock.advance(2000);
    w.step();
    assert.equal(w.phase, 'failed');
    assert.match(w.status!.spec.reason!, /2\.9 points below v1's 99\.9% > maxDropPoints 1/);
    const slow = world({
      analysis: { intervalS: 2, minRequests: 10, latencyP99Ms: { max: 200 }, failureLimit: 1 },
    });
    slow.step();
    slow.load({ p99Ms: 350 });
    await slow.clock.advance(2000);
    slow.step();
    assert.equal(slow.phase, 'failed');
    assert.match(slow.status!.spec.reason!, /p99 latency of v2 350 ms > latencyP99Ms\.max 200 ms/);
  });

  test('a Route edited by someone else pauses the rollout; resume takes the Route back at the same step', async () => {
    const w = world();
    w.load({});
    w.step();
    await w.clock.advance(2000);
    w.step(); // a status-only write: the Route stays the driver's
    assert.equal(w.phase, 'progressing');
    w.route = { ...w.route, revision: 99 };
    await w.clock.advance(1000);
    w.step();
    assert.equal(w.phase, 'paused');
    assert.match(
      w.status!.spec.reason!,
      /Route\/catalog was changed at revision 99, not by the rollout: paused at step 1/,
    );
    await w.clock.advance(5000);
    assert.equal(w.step(), undefined, 'a paused rollout stays paused');
    const resumed = act('resume', w.observation(), 'admin');
    assert.ok(resumed.ok);
    assert.equal(resumed.decision.canaryWeight, 10);
    w.commit(resumed.decision);
    assert.equal(w.phase, 'progressing');
    assert.equal(w.status?.spec.step, 0);
    await w.clock.advance(1000);
    w.step();
    assert.equal(w.phase, 'progressing', "after resume the Route is the driver's again");
  });

  test('pause, promote and abort; actions that do not apply say why', async () => {
    const w = world();
    w.step();
    const paused = act('pause', w.observation(), 'alice');
    assert.ok(paused.ok);
    w.commit(paused.decision);
    assert.equal(w.status?.spec.reason, 'paused by alice');
    const again = act('pause', w.observation(), 'alice');
    assert.deepEqual(again, { ok: false, reason: 'Rollout/catalog is paused already' });
    const promoted = act('promote', w.observation(), 'alice');
    assert.ok(promoted.ok);
    assert.equal(promoted.decision.canaryWeight, 100);
    const aborted = act('abort', w.observation(), 'bob');
    assert.ok(aborted.ok);
    w.commit(aborted.decision);
    assert.equal(w.phase, 'aborted');
    assert.equal(w.route.revision, w.status!.revision);
    const late = act('resume', w.observation(), 'bob');
    assert.deepEqual(late, { ok: false, reason: 'Rollout/catalog is aborted; apply it again to start over' });
  });

  test('subsets missing from the Route fail the rollout at start, saying which', async () => {
    const w = world({ canary: 'v3' });
    const d = w.step();
    assert.equal(d?.canaryWeight, undefined);
    assert.equal(w.phase, 'failed');
    assert.match(
      w.status!.spec.reason!,
      /Route\/catalog does not define subset "v3" \(spec.subsets has v1, v2\)/,
    );
  });

  test('a newer Rollout revision starts again from step 0', async () => {
    const w = world();
    w.load({});
    w.step();
    for (let i = 0; i < 5; i++) {
      await w.clock.advance(1000);
      w.step();
    }
    assert.equal(w.status?.spec.step, 1);
    w.rollout = { ...w.rollout, revision: 50 };
    const d = w.step();
    assert.equal(d?.canaryWeight, 10);
    assert.equal(w.status?.spec.step, 0);
    assert.equal(w.status?.spec.rolloutRevision, 50);
  });
});

describe('the header-first phase', () => {
  test("starts with no weight and the Route's overrides on, is analysed, then the weighted steps follow", async () => {
    const w = world({ headerFirst: { pauseS: 2 } });
    const first = w.step();
    assert.equal(first?.canaryWeight, 0);
    assert.equal(first?.overrides, true);
    assert.equal(w.status?.spec.step, 0);
    w.load({ requests: 30 });
    await w.clock.advance(2000);
    const next = w.step();
    assert.equal(w.status?.spec.intervals.at(-1)?.result, 'passed');
    assert.equal(next?.canaryWeight, 10, 'the first weighted step');
    assert.equal(next?.overrides, undefined);
    assert.equal(w.status?.spec.step, 1);
  });
});
