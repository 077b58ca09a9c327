/**
 * The kill switch without a network: the `TrafficSwitch` schema, the client's `stop` module over a
 * fake destination, the server's `switch` module over a fake binding, and the client's view of the
 * documents (an invalid one changes nothing).
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuthorizationPolicySpec } from '@weft/core';
import {
  ErrorCode,
  isWeftError,
  type PolicySource,
  resolveServerBase,
  type ServerBinding,
  ServerCall,
  ServerRuntimeBase,
  TrafficSwitchSpec,
  WeftError,
} from '@weft/core';
import { ConfigState, type DestinationPolicy, validateDocument } from '@weft/core/config';
import { fakeClient, VirtualClock } from '@weft/core/testing';

/** A source whose switches tests flip by hand. */
class ManualSwitches implements PolicySource {
  readonly #switches = new Map<string, TrafficSwitchSpec>();
  readonly #listeners = new Set<(e: { revision: number }) => void>();
  #revision = 0;
  policy(): DestinationPolicy | undefined {
    return undefined;
  }
  trafficSwitch(name: string): TrafficSwitchSpec | undefined {
    return this.#switches.get(name);
  }
  peerAuthentication(): undefined {
    return undefined;
  }
  get revision(): number {
    return this.#revision;
  }
  authorizationPolicies(): ReadonlyMap<string, AuthorizationPolicySpec> {
    return new Map<string, AuthorizationPolicySpec>();
  }
  set(name: string, spec: TrafficSwitchSpec | undefined): void {
    if (spec === undefined) this.#switches.delete(name);
    else this.#switches.set(name, TrafficSwitchSpec.parse(spec));
    for (const l of this.#listeners) l({ revision: ++this.#revision });
  }
  subscribe(listener: (e: { revision: number }) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

const stoppedError = (e: unknown) => isWeftError(e, ErrorCode.TrafficStopped) && e.retryable === false;

describe('TrafficSwitch schema', () => {
  test('accepts stopped with an optional reason; refuses other fields and control characters', () => {
    assert.deepEqual(TrafficSwitchSpec.parse({ stopped: true, reason: 'incident 42' }), {
      stopped: true,
      reason: 'incident 42',
    });
    assert.equal(TrafficSwitchSpec.safeParse({ stopped: 'yes' }).success, false);
    assert.equal(TrafficSwitchSpec.safeParse({}).success, false);
    assert.equal(TrafficSwitchSpec.safeParse({ stopped: true, why: 'x' }).success, false);
    assert.equal(TrafficSwitchSpec.safeParse({ stopped: true, reason: 'a\nb' }).success, false);
    assert.equal(TrafficSwitchSpec.safeParse({ stopped: true, reason: 'x'.repeat(257) }).success, false);
    const ok = validateDocument({ kind: 'TrafficSwitch', name: 'mesh', spec: { stopped: true } });
    assert.equal(ok.ok, true);
    const bad = validateDocument({ kind: 'TrafficSwitch', name: 'mesh', spec: { stopped: 1 } });
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? '' : bad.issues.join(), /spec\.stopped/);
  });

  test('the client state skips an invalid switch and keeps the previous one', () => {
    const state = new ConfigState();
    const doc = (revision: number, spec: unknown) => ({
      revision,
      changes: [
        {
          op: 'put' as const,
          document: { kind: 'TrafficSwitch' as const, name: 'mesh', spec, revision, createRevision: 1 },
        },
      ],
    });
    state.load({ storeId: 's', revision: 0, documents: [], instances: [] });
    state.apply(doc(1, { stopped: true, reason: 'drill' }) as never);
    assert.deepEqual(state.trafficSwitch('mesh'), { stopped: true, reason: 'drill' });
    state.apply(doc(2, { stopped: 'no' }) as never);
    assert.deepEqual(state.trafficSwitch('mesh'), { stopped: true, reason: 'drill' });
    assert.match(state.problems.at(-1) ?? '', /TrafficSwitch\/mesh: spec\.stopped/);
    state.apply({ revision: 3, changes: [{ op: 'delete', kind: 'TrafficSwitch', name: 'mesh' }] } as never);
    assert.equal(state.trafficSwitch('mesh'), undefined);
  });
});

describe('client stop module', () => {
  test('mesh-wide: fails at once with WEFT_TRAFFIC_STOPPED, sends nothing, resumes', async () => {
    const source = new ManualSwitches();
    const c = fakeClient({ destination: 'orders', config: source, policy: { retry: { maxAttempts: 3 } } });
    assert.equal((await c.run()).status, 200);
    source.set('mesh', { stopped: true, reason: 'incident 42' });
    const sentBefore = c.describe().endpoints.reduce((n, e) => n + e.completed + e.failures, 0);
    await assert.rejects(c.run(), (e: unknown) => {
      assert.ok(stoppedError(e));
      assert.match((e as Error).message, /traffic is stopped mesh-wide \(incident 42\)/);
      return true;
    });
    const sentAfter = c.describe().endpoints.reduce((n, e) => n + e.completed + e.failures, 0);
    assert.equal(sentAfter, sentBefore, 'nothing reached an endpoint');
    assert.deepEqual(c.describe().traffic, {
      stopped: true,
      scope: 'mesh',
      reason: 'incident 42',
      refused: 1,
    });
    source.set('mesh', { stopped: false });
    assert.equal((await c.run()).status, 200);
    assert.equal(c.describe().traffic?.stopped, false);
    c.close();
  });

  test("per service: only the destination's own switch (or the mesh's) stops it", async () => {
    const source = new ManualSwitches();
    const orders = fakeClient({ destination: 'orders', config: source });
    const users = fakeClient({ destination: 'users', config: source });
    source.set('orders', { stopped: true });
    await assert.rejects(orders.run(), stoppedError);
    assert.equal((await users.run()).status, 200);
    assert.equal(orders.describe().traffic?.scope, 'service');
    source.set('orders', undefined);
    assert.equal((await orders.run()).status, 200);
    orders.close();
    users.close();
  });

  test('without a config source the module is not in the call path', () => {
    const c = fakeClient({ destination: 'orders' });
    assert.equal(c.describe().traffic, undefined);
    assert.ok(c.describe().stack.some((m) => m.role === 'stop'));
    c.close();
  });
});

class FakeCall extends ServerCall {
  constructor() {
    super('GET', '/x', 0);
  }
  header(): string | undefined {
    return undefined;
  }
  headerNames(): string[] {
    return [];
  }
}

describe('server switch module', () => {
  const replies: string[] = [];
  const binding: ServerBinding = {
    protocol: 'fake',
    durationMetric: 'fake.server.duration',
    rejectionAttributes: {},
    spanName: () => 'fake',
    spanAttributes: () => ({}),
    endAttributes: () => ({}),
    endSpanName: () => undefined,
    reject(call, error) {
      call.status = 503;
      replies.push(`${error.code}: ${error.message}`);
    },
  };
  const server = (config: ManualSwitches, service?: string) => {
    let ran = 0;
    const runtime = new ServerRuntimeBase({
      server: resolveServerBase({ clock: new VirtualClock(), drainSignals: false, config, service }, false),
      binding,
      terminal: (call) => {
        call.started = true;
        ran++;
      },
    });
    const handle = () => {
      const call = new FakeCall();
      runtime.handle(call);
      call.finish('success', 200, 0);
      return call.rejection === undefined;
    };
    return { runtime, handle, ran: () => ran };
  };

  test('refuses every call while the mesh or its service is stopped, counted as stopped', () => {
    const source = new ManualSwitches();
    const orders = server(source, 'orders');
    const anonymous = server(source);
    assert.equal(orders.handle(), true);
    source.set('orders', { stopped: true, reason: 'bad deploy' });
    assert.equal(orders.handle(), false);
    assert.equal(anonymous.handle(), true, 'a server of no named service follows the mesh-wide switch only');
    assert.match(
      replies.at(-1)!,
      /WEFT_TRAFFIC_STOPPED: traffic to orders is stopped \(bad deploy\): not processed/,
    );
    source.set('mesh', { stopped: true });
    assert.equal(anonymous.handle(), false);
    source.set('mesh', undefined);
    source.set('orders', { stopped: false });
    assert.equal(orders.handle(), true);
    assert.equal(orders.runtime.shed.stopped, 1);
    assert.equal(anonymous.runtime.shed.stopped, 1);
    assert.equal(orders.ran(), 2);
    orders.runtime.stopListening();
    source.set('mesh', { stopped: true });
    assert.equal(orders.runtime.traffic?.stopped, false, 'a closed server no longer follows the switch');
  });

  test('refuses a config that is not a config source, and a bad service name', () => {
    const refused = (re: RegExp) => (e: unknown) => e instanceof WeftError && re.test(e.message);
    assert.throws(() => resolveServerBase({ config: {} as never }, false), refused(/invalid option config/));
    assert.throws(
      () => resolveServerBase({ config: new ManualSwitches(), service: 'Not A Name' }, false),
      refused(/invalid option service/),
    );
  });
});
