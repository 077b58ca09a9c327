/**
 * Chaos, bounded and seeded: five real backends (Express for HTTP, grpc-js behind a TCP fault proxy
 * for gRPC) under steady load through a client with the default policy and a 1 s deadline; one
 * fault at a time in one backend. What must hold, with the defaults:
 *
 * - idempotent calls (GET, EmptyCall) do not fail, except for responses cut off after their head
 *   (they reached the caller already; counted, and the endpoint is charged for them);
 * - a call that fails by deadline ends at its deadline;
 * - no non-idempotent request (POST, UnaryCall) is executed twice;
 * - a hung or malformed endpoint leaves rotation within the run.
 *
 * The bench runs the same schedules longer and at a higher rate for the figures in
 * docs/reliability.md. Bounds here are generous (the machine is shared): at most 1% idempotent
 * failures where the goal is 0.1%.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ChaosFault, type ChaosResult, failurePercent, runChaos } from './chaos/run.ts';

const DEADLINE = 1000;
const HTTP_FAULTS: ChaosFault[] = [
  'kill',
  'hang',
  'reset-before-head',
  'reset-after-head',
  'slow',
  'restart',
  'malformed',
];
const GRPC_FAULTS: ChaosFault[] = ['kill', 'hang', 'reset-before-head', 'slow', 'restart', 'malformed'];

function check(r: ChaosResult): void {
  const what = `${r.protocol} ${r.fault}: ${JSON.stringify(r)}`;
  if (r.fault !== 'reset-after-head') assert.ok(failurePercent(r.idempotent) <= 1, what);
  else assert.ok(failurePercent(r.idempotent) <= 10, `cut-off responses are counted and bounded: ${what}`);
  assert.ok(failurePercent(r.nonIdempotent) <= 10, what);
  assert.equal(r.executedTwice, 0, `no non-idempotent request ran twice: ${what}`);
  for (const f of [r.idempotent, r.nonIdempotent]) {
    if (f.deadline.count === 0) continue;
    assert.ok(
      f.deadline.minMs >= DEADLINE - 20 && f.deadline.maxMs <= DEADLINE + 250,
      `ended at the deadline: ${what}`,
    );
  }
  for (const ms of r.pinnedMs)
    assert.ok(ms >= DEADLINE - 20 && ms <= DEADLINE + 250, `a hung call ended at its deadline: ${what}`);
  if (r.fault === 'hang') assert.equal(r.pinnedMs.length, 3);
  if (r.fault === 'hang' || r.fault === 'malformed')
    assert.ok(r.ejectedAfterMs !== undefined && r.ejectedAfterMs <= 1500, `left rotation: ${what}`);
}

const options = { ratePerSecond: 200, warmMs: 300, faultMs: 1500, deadlineMs: DEADLINE, seed: 3 } as const;

describe('chaos: HTTP (Express backends)', () => {
  for (const fault of HTTP_FAULTS)
    test(fault, async () => check(await runChaos({ ...options, protocol: 'http', fault })));
});

describe('chaos: gRPC (grpc-js backends behind a fault proxy)', () => {
  for (const fault of GRPC_FAULTS)
    test(fault, async () => check(await runChaos({ ...options, protocol: 'grpc', fault })));
});
