import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Call,
  Destination,
  defaultClientStack,
  describeDestinations,
  type PolicySource,
  SharedState,
  StaticResolver,
} from '@weft/core';
import type { DestinationPolicy } from '@weft/core/config';
import {
  type FakeResponse,
  fakeClassifier,
  fakeEndpoints,
  fakeProtocol,
  scriptedService,
  seededRandom,
  VirtualClock,
} from '@weft/core/testing';

/** A policy source driven by hand, as the config-service client would be. */
class Policies implements PolicySource {
  readonly #policies = new Map<string, DestinationPolicy>();
  readonly #listeners = new Set<(e: { revision: number }) => void>();
  #revision = 0;
  policy(destination: string) {
    return this.#policies.get(destination);
  }
  subscribe(listener: (e: { revision: number }) => void) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  set(destination: string, policy: unknown) {
    this.#policies.set(destination, policy as DestinationPolicy);
    this.#revision++;
    for (const l of this.#listeners) l({ revision: this.#revision });
  }
}

function destination(config: Policies, policy: DestinationPolicy = {}) {
  const clock = new VirtualClock();
  const server = scriptedService({ clock, fallback: { status: 503 } });
  const dest = new Destination<Call, FakeResponse, object>({
    name: 'users',
    resolver: new StaticResolver(fakeEndpoints(3)),
    policy,
    stack: defaultClientStack<Call, FakeResponse>(),
    terminal: server.service,
    protocol: fakeProtocol,
    classifier: (p) => fakeClassifier(p.retry?.retryOnStatuses),
    connect: () => ({}),
    disconnect: () => {},
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
});
