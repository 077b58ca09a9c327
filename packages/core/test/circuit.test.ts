import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Circuit, type CircuitParams, type CircuitState, type Clock, isWeftError } from '@weft/core';
import { propertyRuns } from '@weft/core/testing';
import fc from 'fast-check';

/** A clock moved by hand, synchronously: the circuit sets no timers. */
class StepClock implements Clock {
  #now = 0;
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
  setTimeout(): never {
    throw new Error('the circuit sets no timers');
  }
  clearTimeout(): void {}
}

const PARAMS: CircuitParams = {
  errorThresholdPercent: 50,
  volumeThreshold: 4,
  resetTimeoutMs: 100,
  rollingWindowMs: 1_000,
};

function circuit(params: Partial<CircuitParams> = {}) {
  const clock = new StepClock();
  const states: CircuitState[] = [];
  const c = new Circuit({ ...PARAMS, ...params }, clock, (s) => states.push(s));
  /** One call let through and ended with `outcome`; false when it was not let through. */
  const call = (outcome: 'success' | 'failure' | 'ignored'): boolean => {
    if (!c.allow()) return false;
    c.record(outcome, c.generation);
    return true;
  };
  return { c, clock, states, call };
}

describe('Circuit', () => {
  test('counts over ten buckets: a failure leaves the window a whole window after its bucket began', () => {
    const { c, clock, call } = circuit();
    call('failure');
    clock.advance(950);
    call('success');
    assert.equal(c.calls, 2);
    clock.advance(49);
    assert.equal(c.failures, 1, 'its bucket began 999 ms ago');
    clock.advance(1);
    assert.equal(c.failures, 0);
    assert.equal(c.calls, 1, 'the success, recorded in the last bucket, is still counted');
    clock.advance(60_000);
    assert.equal(c.calls, 0, 'a long pause empties the window');
  });

  test('reports each transition once, never a call; rejects while open without counting', () => {
    const { c, clock, states, call } = circuit();
    for (let i = 0; i < 4; i++) assert.equal(call('failure'), true);
    assert.deepEqual(states, ['open']);
    for (let i = 0; i < 10; i++) assert.equal(call('failure'), false);
    assert.deepEqual(states, ['open']);
    clock.advance(100);
    assert.equal(c.state, 'open', 'half-open only when a call asks');
    assert.equal(c.allow(), true);
    assert.equal(c.state, 'half-open');
    const probe = c.generation;
    assert.equal(c.allow(), false);
    c.record('success', probe);
    assert.equal(c.state, 'closed');
    assert.equal(c.calls, 0, 'closing starts an empty window');
    c.record('failure', probe);
    assert.equal(c.calls, 0, 'a second result for the probe is not counted');
    assert.deepEqual(states, ['open', 'half-open', 'closed']);
  });

  test('a volumeThreshold of 0 opens as soon as the rate reaches the threshold; one of 100% needs every call failed', () => {
    const a = circuit({ volumeThreshold: 0 });
    a.call('success');
    assert.deepEqual(a.states, [], '0 of 1');
    a.call('failure');
    assert.deepEqual(a.states, ['open'], '1 of 2 is 50%');
    const b = circuit({ errorThresholdPercent: 100 });
    for (let i = 0; i < 3; i++) b.call('failure');
    b.call('success');
    for (let i = 0; i < 20; i++) b.call('failure');
    assert.deepEqual(b.states, [], 'one success in the window keeps it under 100%');
    b.clock.advance(1_000);
    for (let i = 0; i < 4; i++) b.call('failure');
    assert.deepEqual(b.states, ['open']);
  });

  test('configure keeps the state and the counts; a new window length restarts the current bucket', () => {
    const { c, clock, states, call } = circuit();
    call('failure');
    call('failure');
    c.configure({ ...PARAMS, rollingWindowMs: 10_000 });
    assert.equal(c.failures, 2);
    clock.advance(5_000);
    assert.equal(c.failures, 2, 'counts age out over the new window');
    clock.advance(5_000);
    assert.equal(c.failures, 0);
    for (let i = 0; i < 4; i++) call('failure');
    c.configure({ ...PARAMS, errorThresholdPercent: 100, volumeThreshold: 1_000, resetTimeoutMs: 10 });
    assert.equal(c.state, 'open');
    clock.advance(10);
    assert.equal(c.allow(), true, 'the new reset time applies to the open period');
    assert.deepEqual(states, ['open', 'half-open']);
  });

  test('settings out of range name the option', () => {
    const cases: [Partial<CircuitParams>, RegExp][] = [
      [{ errorThresholdPercent: 0 }, /errorThresholdPercent: must be within 1–100/],
      [{ errorThresholdPercent: 101 }, /errorThresholdPercent/],
      [{ volumeThreshold: 1.5 }, /volumeThreshold: must be an integer ≥ 0/],
      [{ volumeThreshold: -1 }, /volumeThreshold/],
      [{ resetTimeoutMs: 0 }, /resetTimeoutMs: must be > 0/],
      [{ rollingWindowMs: Number.NaN }, /rollingWindowMs: must be > 0/],
    ];
    for (const [p, message] of cases)
      assert.throws(
        () => circuit(p),
        (e: unknown) => isWeftError(e) && message.test(e.message),
      );
  });
});

/** One step of the property test: time passes, a call asks, a call in flight ends, or a setting changes. */
type Op =
  | { kind: 'advance'; ms: number }
  | { kind: 'allow' }
  | { kind: 'end'; pick: number; outcome: 'success' | 'failure' | 'ignored' }
  | { kind: 'configure'; errorThresholdPercent: number; volumeThreshold: number; resetTimeoutMs: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 400 }) }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('allow' as const) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('end' as const),
      pick: fc.nat(),
      outcome: fc.constantFrom('success' as const, 'failure' as const, 'ignored' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('configure' as const),
      errorThresholdPercent: fc.integer({ min: 1, max: 100 }),
      volumeThreshold: fc.integer({ min: 0, max: 8 }),
      resetTimeoutMs: fc.integer({ min: 1, max: 300 }),
    }),
  },
);

test('property: never two probes in flight while half-open, never opens under volumeThreshold', () => {
  const seen = { opened: 0, probes: 0 };
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 8 }),
      fc.integer({ min: 1, max: 100 }),
      fc.array(op, { maxLength: 200 }),
      (volumeThreshold, errorThresholdPercent, ops) => {
        const clock = new StepClock();
        const params = { ...PARAMS, volumeThreshold, errorThresholdPercent };
        // The model: results counted since the circuit last closed, with their times. The circuit's
        // window is at most rollingWindowMs long, so it can never hold more of them than the model's
        // last rollingWindowMs.
        let counted: number[] = [];
        let previous: CircuitState = 'closed';
        const c = new Circuit(params, clock, (state) => {
          if (state === 'open' && previous === 'closed') {
            seen.opened++;
            const since = clock.now() - params.rollingWindowMs;
            const inWindow = counted.filter((t) => t > since).length;
            assert.ok(
              inWindow >= params.volumeThreshold,
              `opened with ${inWindow} calls in the window, volumeThreshold ${params.volumeThreshold}`,
            );
          }
          if (state === 'closed') counted = [];
          previous = state;
        });
        const inFlight: { generation: number; probe: boolean }[] = [];
        for (const o of ops) {
          if (o.kind === 'advance') clock.advance(o.ms);
          else if (o.kind === 'configure') {
            Object.assign(params, o);
            c.configure(params);
          } else if (o.kind === 'allow') {
            const before = c.state;
            const probesInFlight = inFlight.filter((x) => x.probe).length;
            const allowed = c.allow();
            if (before === 'half-open') assert.equal(allowed, false, 'half-open lets no second call through');
            if (allowed) {
              const probe = c.state === 'half-open';
              if (probe) {
                seen.probes++;
                assert.equal(probesInFlight, 0, 'a probe while another is in flight');
              }
              inFlight.push({ generation: c.generation, probe });
            }
          } else if (inFlight.length > 0) {
            const [call] = inFlight.splice(o.pick % inFlight.length, 1);
            const state = c.state;
            const current = call!.generation === c.generation;
            if (state === 'closed' && current && o.outcome !== 'ignored') counted.push(clock.now());
            c.record(o.outcome, call!.generation);
            if (call!.probe) {
              const expected = o.outcome === 'success' ? 'closed' : 'open';
              assert.equal(c.state, expected, `a probe's ${o.outcome}`);
            }
          }
          if (c.state === 'half-open')
            assert.equal(inFlight.filter((x) => x.probe).length, 1, 'half-open has exactly one probe');
          if (c.state === 'closed') {
            const since = clock.now() - params.rollingWindowMs;
            assert.ok(c.calls <= counted.filter((t) => t > since).length, 'the window holds only its calls');
          }
        }
      },
    ),
    propertyRuns(),
  );
  assert.ok(seen.opened > 0 && seen.probes > 0, 'the cases reached open and half-open');
});
