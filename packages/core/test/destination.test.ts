import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Call,
  createDestination,
  Destination,
  defaultClientStack,
  describeDestinations,
  SharedState,
  StaticResolver,
  WeftError,
} from '@weft/core';
import type { DestinationPolicy } from '@weft/core/config';
import {
  type FakeConnection,
  type FakeResponse,
  fakeBinding,
  fakeEndpoints,
  scriptedService,
  seededRandom,
  VirtualClock,
} from '@weft/core/testing';
import { Policies } from './support/policies.ts';

function destination(config: Policies, policy: DestinationPolicy = {}) {
  const clock = new VirtualClock();
  const server = scriptedService({ clock, fallback: { status: 503 } });
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
  const run = () => clock.run(dest.call(new Call('users', 'GET', '/', {})));
  return { dest, server, run };
}

describe('Destination', () => {
  test('a config change applies to the next call; options in code stay under it', async () => {
    const config = new Policies();
    const { dest, server, run } = destination(config, { retry: { maxAttempts: 2 }, timeoutMs: 500 });
    await run();
    assert.equal(server.attempts(), 2, 'maxAttempts from code');
    config.set('users', { retry: { maxAttempts: 3 } });
    server.reset();
    await run();
    assert.equal(server.attempts(), 3, 'maxAttempts from the config service');
    assert.equal(dest.policy.timeoutMs, 500, 'what the config service does not set stays as in code');
    assert.deepEqual(dest.describe().sources.config, { retry: { maxAttempts: 3 } });
    dest.close();
  });

  test('a policy that fails validation, or whose stack cannot be built, leaves the working stack in place', async () => {
    const config = new Policies();
    const { dest, server, run } = destination(config, { retry: { maxAttempts: 2 } });
    config.set('users', { retry: { maxAttempts: 'many' } });
    assert.match(dest.describe().rejectedConfig ?? '', /users\.retry\.maxAttempts/);
    // Passes the schema but not the retry module's own check: backoffMaxMs below backoffInitialMs.
    config.set('users', { retry: { backoffInitialMs: 100, backoffMaxMs: 10 } });
    assert.match(dest.describe().rejectedConfig ?? '', /backoffMaxMs/);
    await run();
    assert.equal(server.attempts(), 2, 'still the last good policy');
    assert.equal(dest.policy.retry?.maxAttempts, 2);
    config.set('users', { retry: { maxAttempts: 1 } });
    assert.equal(dest.describe().rejectedConfig, undefined, 'a good policy clears the complaint');
    dest.close();
  });

  test('a failed build drops nothing the working stack uses; a good one closes what it no longer uses', () => {
    const shared = new SharedState(0);
    let closed = 0;
    const value = () => ({ close: () => closed++ });
    shared.beginBuild();
    const a = shared.get('a', value);
    shared.endBuild();
    shared.beginBuild();
    shared.get('b', value); // the new build uses something else, then fails
    shared.abortBuild();
    shared.beginBuild();
    assert.equal(shared.get('a', value), a, 'the working value survived the failed build');
    shared.endBuild(); // 'b' is unused now: closed after the grace period (0 here)
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        assert.equal(closed, 1);
        resolve();
      }, 20),
    );
  });

  test('open destinations are listed for admin endpoints until closed', () => {
    const { dest } = destination(new Policies());
    assert.ok(describeDestinations().some((d) => d.destination === 'users'));
    dest.close();
    assert.ok(!describeDestinations().some((d) => d.destination === 'users'));
  });

  test('setPolicy replaces the policy in code, still under the config service’s, and keeps a working stack', async () => {
    const config = new Policies();
    config.set('users', { retry: { maxAttempts: 3 } });
    const { dest, server, run } = destination(config, { timeoutMs: 500 });
    dest.setPolicy({ timeoutMs: 700, retry: { maxAttempts: 1 } });
    assert.equal(dest.policy.timeoutMs, 700);
    assert.equal(dest.policy.retry?.maxAttempts, 3, 'the config service still wins');
    assert.deepEqual(dest.describe().sources.code, { timeoutMs: 700, retry: { maxAttempts: 1 } });
    await run();
    assert.equal(server.attempts(), 3);
    assert.throws(() => dest.setPolicy({ timeoutMs: -1 }), /invalid option timeoutMs/);
    assert.equal(dest.policy.timeoutMs, 700, 'a stack that cannot be built changes nothing');
    dest.close();
  });
});

describe('createDestination', () => {
  const clock = new VirtualClock();
  const server = scriptedService({ clock });
  const binding = fakeBinding(server.service, { name: 'wire' });
  const invalid = (pattern: RegExp) => (e: unknown) => e instanceof WeftError && pattern.test(e.message);

  test('builds a destination from a binding and the shared client options', async () => {
    const dest = createDestination(
      binding,
      'orders',
      { endpoints: ['10.0.0.1:80'], timeoutMs: 250, clock, random: seededRandom(1), localZone: 'z1' },
      { kind: 'test', customize: (stack) => stack.remove('breaker') },
    );
    const d = dest.describe();
    assert.deepEqual([d.client.kind, d.client.protocol], ['test', 'wire']);
    assert.equal(d.policy.timeoutMs, 250);
    assert.equal(d.localZone, 'z1');
    assert.equal(d.resolver, 'bound');
    assert.ok(!d.stack.some((m) => m.role === 'breaker'), 'the user’s change to the default stack');
    assert.equal((await clock.run(dest.call(new Call('orders', 'GET', '/', {})))).endpoint, '10.0.0.1:80');
    dest.close();
  });

  test('checks the options, naming the destination and the field', () => {
    assert.throws(
      () =>
        createDestination(binding, 'orders', { endpoints: ['10.0.0.1:80'], timeoutMs: -1 }, { kind: 'test' }),
      invalid(/^invalid option orders: timeoutMs: /),
    );
    assert.throws(
      () => createDestination(binding, 'orders', { endpoints: ['http://10.0.0.1:80/x'] }, { kind: 'test' }),
      invalid(/^invalid option endpoints\[0\]: /),
    );
    assert.throws(
      () => createDestination(binding, 'orders', {}, { kind: 'test', resolverHint: 'register one' }),
      invalid(/^invalid option endpoints: give endpoints or a resolver for orders, or register one$/),
    );
  });

  test('without endpoints or a resolver, asks findResolver', () => {
    const found = new StaticResolver(fakeEndpoints(2));
    const asked: string[] = [];
    const dest = createDestination(
      binding,
      'orders',
      { clock },
      {
        kind: 'test',
        findResolver: (name) => {
          asked.push(name);
          return found;
        },
      },
    );
    assert.deepEqual(asked, ['orders']);
    assert.equal(dest.describe().endpoints.length, 2);
    dest.close();
    const given = createDestination(
      binding,
      'orders',
      { resolver: found, clock },
      {
        kind: 'test',
        findResolver: () => assert.fail('options come first'),
      },
    );
    given.close();
  });
});
