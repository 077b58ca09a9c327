/**
 * How endpoint faults reach the balancer and outlier detection, on virtual time: a hung endpoint,
 * a refusing one, deadlines, readmission probes, the adaptive per-try timeout, ties.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EndpointState,
  ErrorCode,
  isWeftError,
  NO_HISTORY_PENALTY,
  REFUSED_PENALTY,
  WeftError,
} from '@weft/core';
import { type FakeClient, fakeClient, fakeEndpoints, seededRandom } from '@weft/core/testing';

const DECAY = 10_000;
const refused = () => new WeftError(ErrorCode.ConnectFailed, 'connection refused');

/** Steady load: one call every `everyMs` for `calls` calls; the fault starts at call `faultAt`. */
async function steady(
  client: FakeClient,
  opts: {
    calls: number;
    everyMs: number;
    faultAt: number;
    fault: () => void;
    tick?: () => void;
    method?: string;
  },
) {
  const failures: unknown[] = [];
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < opts.calls; i++) {
    if (i === opts.faultAt) opts.fault();
    pending.push(client.call({ method: opts.method ?? 'GET' }).catch((e) => failures.push(e)));
    await client.clock.advance(opts.everyMs);
    opts.tick?.();
  }
  await client.clock.advance(5_000);
  await Promise.all(pending);
  return failures;
}

describe('endpoint state', () => {
  test("the latency estimate sees an outstanding call's age", () => {
    const ep = new EndpointState(fakeEndpoints(1)[0]!, 0);
    ep.observeSuccess(2, 0, DECAY);
    ep.begin(0);
    const young = ep.ewmaLoad(1, DECAY);
    assert.ok(Math.abs(young - 2 * 2) < 0.01, `a young call: the estimate × (outstanding + 1), got ${young}`);
    assert.equal(ep.ewmaLoad(500, DECAY) >= 500 * 2, true, 'a call 500 ms old costs at least its age');
    ep.begin(400);
    assert.equal(ep.outstandingAge(500), (500 + 100) / 2, 'the mean age of the calls in flight');
    ep.end(0);
    ep.end(400);
    assert.equal(ep.outstandingAge(600), 0);
    assert.ok(ep.ewmaLoad(600, DECAY) < 3, 'once they are over, only the estimate is left');
  });

  test('a refused connection costs more than any answering endpoint, with or without history', () => {
    const [fresh, busyFresh, slow, closed] = fakeEndpoints(4).map((e) => new EndpointState(e, 0)) as [
      EndpointState,
      EndpointState,
      EndpointState,
      EndpointState,
    ];
    busyFresh.begin(0);
    busyFresh.begin(0);
    slow.observeSuccess(5_000, 0, DECAY);
    for (let i = 0; i < 20; i++) slow.begin(0);
    closed.refused(1);
    const load = (e: EndpointState) => e.ewmaLoad(2, DECAY);
    for (const healthy of [fresh, busyFresh, slow]) assert.ok(load(closed) > load(healthy));
    assert.ok(load(closed) >= REFUSED_PENALTY && REFUSED_PENALTY > NO_HISTORY_PENALTY);
    closed.observeSuccess(1, 3, DECAY);
    assert.ok(load(closed) < 10, 'an answer clears it');
  });
});

describe('a hung endpoint', () => {
  test('among five with the defaults: no GET fails, and it is ejected within seconds', async () => {
    for (const seed of [1, 2, 3]) {
      const client = fakeClient({
        endpoints: 5,
        seed,
        fallback: { latencyMs: 2 },
        policy: { timeoutMs: 1000 },
      });
      const hung = client.endpoints.all[2]!;
      let ejectedAt: number | undefined;
      const failures = await steady(client, {
        calls: 5000,
        everyMs: 2,
        faultAt: 500,
        fault: () => client.server.script(hung.key, { hang: true }),
        tick: () => {
          if (ejectedAt === undefined && hung.health !== 'healthy') ejectedAt = client.clock.now();
        },
      });
      assert.deepEqual(failures, [], `seed ${seed}: no call failed`);
      assert.ok(ejectedAt !== undefined && ejectedAt - 1000 <= 1000, `seed ${seed}: ejected at ${ejectedAt}`);
      assert.ok(hung.failures <= 10, `seed ${seed}: ${hung.failures} attempts lost on it`);
      client.close();
    }
  });

  test('a POST on it ends at its deadline, is sent once, and counts against the endpoint', async () => {
    const client = fakeClient({
      endpoints: 2,
      scripts: { '10.0.0.1:8080': { hang: true } },
      policy: { timeoutMs: 1000, balancer: { kind: 'round-robin' } },
    });
    const hung = client.endpoints.all[0]!;
    const start = client.clock.now();
    await assert.rejects(client.run({ method: 'POST' }), (e) => isWeftError(e, ErrorCode.DeadlineExceeded));
    assert.equal(client.clock.now() - start, 1000, 'ended at its deadline');
    assert.equal(client.server.attempts(), 1, 'never sent twice');
    assert.equal(hung.failures, 1, 'the hang counts against the endpoint');
    assert.equal(hung.health, 'ejected', 'it left the attempt unanswered: ejected at once');
    client.close();
  });

  test('a GET on it is abandoned after the adaptive per-try timeout and retried elsewhere', async () => {
    const client = fakeClient({
      endpoints: 2,
      fallback: { latencyMs: 5 },
      policy: { timeoutMs: 5000, balancer: { kind: 'round-robin' } },
    });
    for (let i = 0; i < 4; i++) await client.run();
    client.server.script('10.0.0.1:8080', { hang: true });
    const start = client.clock.now();
    for (let i = 0; i < 2; i++) assert.equal((await client.run()).status, 200);
    const elapsed = client.clock.now() - start;
    // 4 × 5 ms is under the 100 ms floor: cut at 100 ms (checked every 25 ms), then 5 ms elsewhere.
    assert.ok(elapsed >= 105 && elapsed <= 140, `two calls took ${elapsed} ms`);
    assert.equal(client.endpoints.all[0]!.health, 'ejected');
    client.close();
  });

  test('the adaptive per-try timeout never cuts an attempt that cannot be retried', async () => {
    const client = fakeClient({
      endpoints: 2,
      fallback: { latencyMs: 5 },
      policy: { timeoutMs: 5000, balancer: { kind: 'round-robin' } },
    });
    for (let i = 0; i < 4; i++) await client.run();
    client.server.setFallback({ latencyMs: 300 });
    // POST: not idempotent; a body that cannot be replayed; and below, the last attempt.
    // A call marked as one whose head may wait long (gRPC streams are): left alone too.
    for (const init of [{ method: 'POST' }, { replayable: false }, { longLived: true }]) {
      assert.equal((await client.run(init)).status, 200, JSON.stringify(init));
    }
    const last = fakeClient({
      endpoints: 1,
      fallback: [{ latencyMs: 5 }, { latencyMs: 300 }],
      policy: { timeoutMs: 5000, retry: { maxAttempts: 1 } },
    });
    await last.run();
    assert.equal((await last.run()).status, 200, 'a last attempt runs to its deadline');
    last.close();
    client.close();
  });

  test('a fixed perTryTimeoutMs replaces the adaptive one; adaptivePerTry: false turns it off', async () => {
    const fixed = fakeClient({
      endpoints: 2,
      fallback: { latencyMs: 5 },
      policy: { timeoutMs: 5000, perTryTimeoutMs: 300, balancer: { kind: 'round-robin' } },
    });
    for (let i = 0; i < 4; i++) await fixed.run();
    fixed.server.script('10.0.0.1:8080', { hang: true });
    let start = fixed.clock.now();
    for (let i = 0; i < 2; i++) await fixed.run();
    assert.ok(fixed.clock.now() - start >= 300, 'cut at 300 ms, not at 100');
    fixed.close();

    const off = fakeClient({
      endpoints: 1,
      fallback: [{ latencyMs: 5 }, { latencyMs: 1000 }],
      policy: { timeoutMs: 5000, adaptivePerTry: { enabled: false } },
    });
    await off.run();
    start = off.clock.now();
    assert.equal((await off.run()).status, 200);
    assert.equal(off.clock.now() - start, 1000, 'not cut');
    off.close();
  });
});

describe('deadlines and probes', () => {
  test('a deadline too short for a healthy endpoint is not charged to it', async () => {
    const client = fakeClient({
      endpoints: 1,
      fallback: { latencyMs: 100 },
      policy: { retry: { enabled: false } },
    });
    await client.run();
    await assert.rejects(client.run({ timeoutMs: 50 }), (e) => isWeftError(e, ErrorCode.DeadlineExceeded));
    const ep = client.endpoints.all[0]!;
    assert.equal(ep.failures, 0);
    assert.equal(ep.health, 'healthy');
    client.close();
  });

  test('deadlines that expire on a silent endpoint eject it (outlier detection sees the hang)', async () => {
    const client = fakeClient({
      endpoints: 2,
      scripts: { '10.0.0.1:8080': [{ latencyMs: 2 }, { hang: true }] },
      policy: {
        timeoutMs: 50,
        balancer: { kind: 'round-robin' },
        adaptivePerTry: { enabled: false },
        outlierDetection: { ejectUnanswered: false },
      },
    });
    const hung = client.endpoints.all[0]!;
    let failed = 0;
    for (let i = 0; i < 40 && hung.health === 'healthy'; i++) await client.run().catch(() => failed++);
    assert.equal(hung.health, 'ejected', 'five deadlines in a row: ejected');
    assert.equal(failed, 5);
    client.close();
  });

  test('a readmission probe that ends by its deadline is a failed probe', async () => {
    const client = fakeClient({
      endpoints: 2,
      scripts: { '10.0.0.1:8080': [{ error: refused }, { hang: true }] },
      policy: {
        timeoutMs: 200,
        balancer: { kind: 'round-robin' },
        retry: { enabled: false },
        outlierDetection: { consecutiveFailures: 1, baseEjectionMs: 1000, ejectUnanswered: false },
      },
    });
    const ep = client.endpoints.all[0]!;
    await client.run().catch(() => {});
    assert.equal(ep.health, 'ejected');
    await client.clock.advance(1200);
    assert.equal(ep.health, 'probing');
    for (let i = 0; i < 4 && client.server.attempts('10.0.0.1:8080') < 2; i++)
      await client.run().catch(() => {});
    assert.equal(client.server.attempts('10.0.0.1:8080'), 2, 'the probe was sent');
    assert.equal(ep.health, 'ejected', 'ejected again, for longer');
    assert.equal(ep.ejections, 2);
    client.close();
  });
});

describe('readmission probes', () => {
  test('a probe is left to a call that can be retried: a POST does not pay for probing a hung endpoint', async () => {
    const client = fakeClient({
      endpoints: 2,
      fallback: { latencyMs: 2 },
      policy: { timeoutMs: 1000, outlierDetection: { baseEjectionMs: 1000 } },
    });
    for (let i = 0; i < 10; i++) await client.run();
    const hung = client.endpoints.all[0]!;
    client.server.script(hung.key, { hang: true });
    // GETs until the hang ejects it (the adaptive per-try timeout saves them).
    for (let i = 0; i < 10 && hung.health === 'healthy'; i++) await client.run();
    assert.equal(hung.health, 'ejected');
    await client.clock.advance(1200);
    assert.equal(hung.health, 'probing');
    // POSTs while it is probing go to the healthy endpoint; the next GET is the probe.
    for (let i = 0; i < 5; i++) assert.equal((await client.run({ method: 'POST' })).status, 200);
    const before = client.server.attempts(hung.key);
    assert.equal((await client.run()).status, 200, 'the probe (a GET) is retried elsewhere');
    assert.equal(client.server.attempts(hung.key), before + 1, 'the GET was the probe');
    assert.equal(hung.health, 'ejected', 'a failed probe');
    client.close();
  });
});

describe('P2C-EWMA', () => {
  test('never retries onto the endpoint that refuses: one closed, one live, 100 fresh clients', async () => {
    for (let seed = 1; seed <= 100; seed++) {
      const client = fakeClient({
        endpoints: 2,
        seed,
        scripts: { '10.0.0.1:8080': { error: refused } },
        fallback: { latencyMs: 3 },
      });
      await client.run();
      const second = await client.run().then(
        () => 'ok',
        (e: WeftError) => e.code,
      );
      assert.equal(second, 'ok', `seed ${seed}: the second call`);
      assert.ok(client.server.attempts('10.0.0.1:8080') <= 1, `seed ${seed}: refused once at most`);
      client.close();
    }
  });

  test('equally fast endpoints share sequential calls (ties within the noise spread)', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const noise = seededRandom(seed * 31);
      // The first call on each pays for its connection: one noisy sample must not decide every pick.
      const client = fakeClient({
        endpoints: 2,
        seed,
        fallback: (_call, n) => ({ latencyMs: n === 0 ? 2 + noise() : 0.3 + 0.3 * noise() }),
      });
      for (let i = 0; i < 200; i++) {
        await client.run();
        await client.clock.advance(0.05);
      }
      for (const [key, n] of client.server.counts())
        assert.ok(n >= 70, `seed ${seed}: ${key} got ${n} of 200`);
      client.close();
    }
  });

  test('a slower endpoint still gets less (outside the noise)', async () => {
    const client = fakeClient({
      endpoints: 2,
      scripts: { '10.0.0.1:8080': { latencyMs: 20 } },
      fallback: { latencyMs: 2 },
    });
    for (let i = 0; i < 200; i++) await client.run();
    assert.ok(client.server.attempts('10.0.0.1:8080') < 20);
    client.close();
  });
});
