import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type Call,
  DEADLINE_DEFAULTS,
  deadlineModule,
  defaultClientStack,
  type Module,
  RETRY_DEFAULTS,
  retryModule,
  SharedState,
  Stack,
} from '@weft/core';
import { type FakeResponse, fakeClient } from '@weft/core/testing';

/** A module that logs when it sees a call on the way down and its response on the way up. */
function tracer(role: string, log: string[], params: object = {}): Module<object, Call, FakeResponse> {
  return {
    role,
    description: `tracer ${role}`,
    params,
    make(p, next) {
      return async (call) => {
        log.push(`${role}>${JSON.stringify(p)}`);
        const response = await next(call);
        log.push(`<${role}`);
        return response;
      };
    },
  };
}

const roles = (s: Stack<Call, FakeResponse>) => s.roles.join(',');

describe('Stack', () => {
  const log: string[] = [];
  const base = new Stack<Call, FakeResponse>([tracer('a', log), tracer('b', log), tracer('c', log)]);

  test('insertBefore / insertAfter / replace / remove work by role and return new stacks', () => {
    assert.equal(roles(base.insertBefore('b', tracer('x', log))), 'a,x,b,c');
    assert.equal(roles(base.insertBefore('a', tracer('x', log))), 'x,a,b,c');
    assert.equal(roles(base.insertAfter('b', tracer('x', log))), 'a,b,x,c');
    assert.equal(roles(base.insertAfter('c', tracer('x', log))), 'a,b,c,x');
    const replaced = base.replace('b', { ...tracer('b', log), description: 'new b' });
    assert.equal(roles(replaced), 'a,b,c');
    assert.equal(replaced.modules[1]!.description, 'new b');
    assert.equal(roles(base.remove('a')), 'b,c');
    assert.equal(roles(base), 'a,b,c', 'the original stack is unchanged');
    assert.equal(base.has('b'), true);
    assert.equal(base.has('z'), false);
  });

  test('duplicate roles are rejected, on construction and on insertion', () => {
    assert.throws(() => new Stack([tracer('a', log), tracer('a', log)]), /two modules with role a/);
    assert.throws(() => base.insertAfter('c', tracer('b', log)), /two modules with role b/);
    assert.throws(() => base.replace('a', tracer('c', log)), /two modules with role c/);
  });

  test('an unknown role is an error that names the known roles', () => {
    for (const op of [
      () => base.insertBefore('nope', tracer('x', log)),
      () => base.insertAfter('nope', tracer('x', log)),
      () => base.replace('nope', tracer('x', log)),
      () => base.remove('nope'),
      () => base.configure('nope', {}),
    ]) {
      assert.throws(op, (e: Error) => {
        assert.match(e.message, /no module with role nope/);
        assert.match(e.message, /roles: a, b, c/);
        return true;
      });
    }
  });

  test('build order: the top module sees the call first and the response last', async () => {
    log.length = 0;
    const client = fakeClient({ stack: base.configure('b', { n: 1 }) });
    await client.run();
    assert.deepEqual(log, ['a>{}', 'b>{"n":1}', 'c>{}', '<c', '<b', '<a']);
    client.close();
  });

  test('configure merges params over the current ones without touching other modules', () => {
    const s = base.configure('b', { n: 1, m: 2 }).configure('b', { m: 3 });
    assert.deepEqual(s.modules[1]!.params, { n: 1, m: 3 });
    assert.deepEqual(s.modules[0]!.params, {});
    assert.deepEqual(base.modules[1]!.params, {}, 'the original module is unchanged');
  });

  test('effective(policy): built-in defaults < configure() < policy', () => {
    const stack = defaultClientStack();
    const at = (p: object | undefined, role: string) =>
      stack.effective(p ?? {}).modules.find((m) => m.role === role)!.params as Record<string, unknown>;
    // Defaults.
    assert.equal(at(undefined, 'retry').maxAttempts, RETRY_DEFAULTS.maxAttempts);
    assert.equal(at(undefined, 'deadline').timeoutMs, DEADLINE_DEFAULTS.timeoutMs);
    // Code overrides defaults.
    const coded = stack.configure('retry', { maxAttempts: 5 }).configure('deadline', { timeoutMs: 800 });
    const eff = (p: object) => coded.effective(p).modules;
    const param = (p: object, role: string, key: string) =>
      (eff(p).find((m) => m.role === role)!.params as Record<string, unknown>)[key];
    assert.equal(param({}, 'retry', 'maxAttempts'), 5);
    assert.equal(param({}, 'deadline', 'timeoutMs'), 800);
    // The policy overrides code, field by field; unset policy fields do not erase code values.
    const policy = { retry: { maxAttempts: 7 }, perTryTimeoutMs: 50 };
    assert.equal(param(policy, 'retry', 'maxAttempts'), 7);
    assert.equal(param(policy, 'retry', 'backoffInitialMs'), RETRY_DEFAULTS.backoffInitialMs);
    assert.equal(param(policy, 'deadline', 'timeoutMs'), 800);
    assert.equal(param(policy, 'attempt', 'perTryTimeoutMs'), 50);
    assert.equal(param({ balancer: { kind: 'round-robin' } }, 'balance', 'kind'), 'round-robin');
    assert.equal(param({ balancer: { kind: 'round-robin' } }, 'balance', 'decayMs'), 10_000);
    assert.equal(
      param({ outlierDetection: { consecutiveFailures: 2 } }, 'endpoint', 'consecutiveFailures'),
      2,
    );
    assert.equal(param({ circuitBreaker: { volumeThreshold: 3 } }, 'breaker', 'volumeThreshold'), 3);
  });

  test('effective(policy): a partial retry budget in the policy keeps the other budget fields from code', () => {
    const stack = defaultClientStack().configure('retry', {
      budget: { percent: 50, minRetriesPerSecond: 1, ttlMs: 10_000 },
    });
    const retry = stack
      .effective({ retry: { budget: { ttlMs: 5000 } } })
      .modules.find((m) => m.role === 'retry')!;
    assert.deepEqual((retry.params as { budget: object }).budget, {
      percent: 50,
      minRetriesPerSecond: 1,
      ttlMs: 5000,
    });
  });

  test('describe() lists the modules top to bottom with their effective params', () => {
    const stack = defaultClientStack().configure('deadline', { timeoutMs: 800 });
    const lines = stack.describe({ retry: { maxAttempts: 2 } }).split('\n');
    assert.equal(lines.length, 11);
    assert.deepEqual(
      lines.map((l) => l.trim().split(/\s+/)[1]),
      [
        'context',
        'telemetry',
        'stop',
        'route',
        'deadline',
        'fault',
        'breaker',
        'retry',
        'attempt',
        'balance',
        'endpoint',
      ],
    );
    assert.match(lines[4]!, /^ 5\. deadline .*\{"timeoutMs":800\}$/);
    assert.match(lines[7]!, /"maxAttempts":2/);
    assert.match(lines[7]!, /retry retryable failures/);
  });

  test('build() validates params: a bad value names the option', () => {
    const client = () =>
      fakeClient({ stack: new Stack<Call, FakeResponse>([retryModule({ maxAttempts: 0 }) as never]) });
    assert.throws(client, /invalid option retry\.maxAttempts: must be an integer within 1–10/);
    const deadline = () =>
      fakeClient({ stack: new Stack<Call, FakeResponse>([deadlineModule({ timeoutMs: -1 }) as never]) });
    assert.throws(deadline, /invalid option timeoutMs/);
    assert.throws(
      () => fakeClient({ policy: { balancer: { kind: 'random' as never } } }),
      /invalid option balancer\.kind: must be one of p2c-ewma, p2c-least-loaded, round-robin, weighted/,
    );
  });
});

describe('rebuilds (config changes)', () => {
  test('apply to new calls at once and never drop a call in flight', async () => {
    const client = fakeClient({ fallback: { latencyMs: 100 }, policy: { timeoutMs: 1000 } });
    const inFlight = client.call();
    await client.clock.advance(50);
    client.rebuild({ timeoutMs: 20 });
    const next = client.call();
    await client.clock.run(Promise.allSettled([inFlight, next]));
    assert.equal((await inFlight).status, 200, 'finished on the stack it started on');
    await assert.rejects(next, /deadline exceeded/);
    client.close();
  });

  test('shared state the new stack no longer uses is closed after the grace period', async () => {
    const shared = new SharedState(0);
    let closed = 0;
    const make = () => ({ close: () => closed++ });
    shared.beginBuild();
    const first = shared.get('breaker:a', make);
    shared.endBuild();
    shared.beginBuild();
    assert.equal(shared.get('breaker:a', make), first, 'kept across a rebuild that uses it');
    shared.endBuild();
    shared.beginBuild();
    shared.get('breaker:b', make);
    shared.endBuild();
    assert.equal(closed, 0, 'not before the grace period');
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(closed, 1);
    shared.clear();
    assert.equal(closed, 2);
  });
});
