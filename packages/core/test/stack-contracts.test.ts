/**
 * The stack's contracts: params declared once (the policy schema and the modules agree), a stack
 * checked whole before any module is made, typed `configure` refusing unknown keys, edits that
 * leave a module without what it needs refused, one verdict per result, and state that outlives
 * a change of its params.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Call, Destination, defaultClientStack, type Module, StaticResolver } from '@weft/core';
import { DestinationPolicy } from '@weft/core/config';
import {
  type FakeConnection,
  type FakeResponse,
  fakeBinding,
  fakeClassifier,
  fakeClient,
  fakeEndpoints,
  scriptedService,
  seededRandom,
  VirtualClock,
} from '@weft/core/testing';
import { Policies } from './support/policies.ts';

function destination(config: Policies, policy: DestinationPolicy = {}, status = 200) {
  const clock = new VirtualClock();
  const server = scriptedService({ clock, fallback: { status } });
  const dest = new Destination<Call, FakeResponse, FakeConnection>({
    name: 'users',
    resolver: new StaticResolver(fakeEndpoints(3)),
    policy,
    stack: defaultClientStack<Call, FakeResponse>(),
    binding: fakeBinding(server.service),
    config,
    clock,
    random: seededRandom(3),
  });
  return { dest, server, clock };
}

describe('params declared once', () => {
  test('the policy schema refuses exactly what the modules refuse', () => {
    // Once accepted by the schema and refused by the modules at build time.
    for (const bad of [{ circuitBreaker: { errorThresholdPercent: 0 } }, { retry: { maxAttempts: 11 } }])
      assert.equal(DestinationPolicy.safeParse(bad).success, false, JSON.stringify(bad));
    assert.equal(
      DestinationPolicy.safeParse({ circuitBreaker: { errorThresholdPercent: 0.5 } }).success,
      true,
    );
  });

  test('describe() shows the declared defaults', () => {
    const params = Object.fromEntries(
      defaultClientStack()
        .effective()
        .modules.map((m) => [m.role, m.params]),
    );
    assert.deepEqual(params.retry, {
      enabled: true,
      maxAttempts: 3,
      budget: { percent: 20, minRetriesPerSecond: 10, ttlMs: 10_000 },
      backoffInitialMs: 10,
      backoffMaxMs: 1000,
    });
    assert.equal((params.deadline as { timeoutMs: number }).timeoutMs, 15_000);
  });

  test('configure refuses an unknown key, naming the module and its params', () => {
    const stack = defaultClientStack();
    assert.throws(
      () => stack.configure('retry', { maxAttemps: 5 } as never),
      /retry\.maxAttemps: is not a param of module retry \(its params: enabled, maxAttempts, budget/,
    );
    assert.throws(
      () => stack.configure('retry', { budget: { percnt: 5 } } as never),
      /retry\.budget\.percnt/,
    );
    assert.throws(
      () => stack.configure('retry', { maxAttempts: 0 }),
      /retry\.maxAttempts: must be an integer within 1–10/,
    );
    const retry = stack
      .configure('retry', { budget: { percent: 5 } })
      .effective()
      .modules.find((m) => m.role === 'retry');
    assert.ok(retry);
    const budget = (retry.params as { budget: { percent: number; ttlMs: number } }).budget;
    assert.deepEqual([budget.percent, budget.ttlMs], [5, 10_000], 'a partial group keeps the other fields');
  });
});

describe('a stack is checked whole before any module is made', () => {
  test('a refused policy leaves the running stack and its shared state untouched', async () => {
    const config = new Policies();
    const { dest } = destination(config, { retry: { backoffInitialMs: 500 } });
    assert.equal(dest.endpoints.panicThresholdPercent, 50);
    // The balancer and outlier parts are fine; the retry part is not (max below the code's initial).
    config.set('users', {
      balancer: { panicThresholdPercent: 90, decayMs: 1000 },
      outlierDetection: { consecutiveFailures: 1 },
      retry: { backoffMaxMs: 100 },
    });
    assert.match(
      dest.describe().rejectedConfig ?? '',
      /retry\.backoffMaxMs: must be ≥ retry\.backoffInitialMs/,
    );
    assert.equal(dest.endpoints.panicThresholdPercent, 50, 'the balancer was not reconfigured');
    assert.equal(dest.endpoints.decayMs, 10_000);
    assert.equal(
      dest.endpoints.outlierOptions.consecutiveFailures,
      5,
      'outlier detection was not reconfigured',
    );
    dest.close();
  });
});

describe('stack edits keep every module supplied', () => {
  test('removing balance is refused, naming endpoint and balance', () => {
    assert.throws(
      () => defaultClientStack().remove('balance'),
      /module endpoint needs call\.endpoint, but module balance set it, and this edit takes it away/,
    );
  });

  test('removing attempt is refused: the transport needs its signal and Weft headers', () => {
    assert.throws(
      () => defaultClientStack().remove('attempt'),
      /the transport needs call\.attemptSignal, but module attempt set it/,
    );
  });

  test('a module placed above what it needs is refused, naming the module below', () => {
    const reader: Module<object> = {
      role: 'reader',
      description: 'reads the endpoint',
      params: {},
      needs: ['endpoint'],
      make: (_p, next) => next,
    };
    assert.throws(
      () => defaultClientStack().insertBefore('retry', reader),
      /module reader needs call\.endpoint, but module balance, which sets it, is below it/,
    );
    assert.deepEqual(defaultClientStack().insertAfter('balance', reader).roles.slice(-3), [
      'balance',
      'reader',
      'endpoint',
    ]);
  });

  test('a replacement that declares what it sets is accepted', () => {
    const own: Module<object> = {
      role: 'attempt',
      description: 'my attempt',
      params: {},
      sets: ['attemptSignal', 'wire'],
      make: (_p, next) => (call) => {
        call.attemptSignal = call.signal;
        return next(call);
      },
    };
    assert.equal(defaultClientStack().replace('attempt', own).has('attempt'), true);
  });
});

describe('outcomes', () => {
  test('each result is classified once, whatever the number of modules that read it', async () => {
    let classified = 0;
    const base = fakeClassifier();
    const client = fakeClient({
      classify: (call, response, error) => {
        classified++;
        return base(call, response, error);
      },
    });
    await client.run();
    assert.equal(classified, 1, 'one attempt, one verdict');
    classified = 0;
    const retried = fakeClient({
      scripts: {
        '10.0.0.1:8080': { status: 503 },
        '10.0.0.2:8080': { status: 503 },
        '10.0.0.3:8080': { status: 503 },
      },
      classify: (call, response, error) => {
        classified++;
        return base(call, response, error);
      },
    });
    await retried.run();
    assert.equal(retried.server.attempts(), 3);
    assert.equal(classified, 3, 'one verdict per attempt');
    client.close();
    retried.close();
  });

  test('a caller’s cancellation counts for no endpoint and no budget', async () => {
    const client = fakeClient({
      fallback: { latencyMs: 1000 },
      policy: { retry: { budget: { minRetriesPerSecond: 0, percent: 100 } } },
    });
    const budget = client.env.shared('retry-budget', () => {
      throw new Error('the retry module made it');
    }) as { balance(): number };
    assert.equal(budget.balance(), 0);
    for (let i = 0; i < 5; i++) {
      const controller = new AbortController();
      const pending = client.call({ signal: controller.signal });
      await client.clock.advance(10);
      controller.abort();
      await assert.rejects(pending, { code: 'WEFT_CANCELLED' });
    }
    assert.equal(budget.balance(), 0, 'no deposit stays for a cancelled call');
    for (const ep of client.endpoints.all) assert.equal(ep.failures, 0);
    client.close();
  });
});

describe('state that outlives a change of its params', () => {
  test('the retry budget keeps its balance across a percent change', async () => {
    const config = new Policies();
    const { dest, clock, server } = destination(config, {
      retry: { maxAttempts: 10, budget: { percent: 50, minRetriesPerSecond: 0 } },
    });
    const run = () => clock.run(dest.call(new Call('users', 'GET', '/', {})));
    for (let i = 0; i < 10; i++) await run();
    // 10 deposits. At 20 %, with this call's own deposit: 11 × 0.2 = 2 retries. A fresh budget
    // (what a key including the params handed out) would hold 1 × 0.2: none.
    config.set('users', { retry: { budget: { percent: 20 } } });
    assert.equal(dest.describe().rejectedConfig, undefined);
    server.reset();
    server.setFallback({ status: 503 });
    await run();
    assert.equal(server.attempts(), 3, 'the first attempt and the two retries the kept balance allows');
    dest.close();
  });
});
