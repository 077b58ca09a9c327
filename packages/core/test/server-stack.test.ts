/**
 * The server stack without a protocol: a fake binding and call drive the runtime, so the order of
 * the modules, the finishers, refusals and the latency-sample rule are checked on their own.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, test } from 'node:test';
import {
  currentContext,
  defaultServerStack,
  ErrorCode,
  latencySample,
  resolveServerBase,
  type ServerBinding,
  ServerCall,
  type ServerModule,
  type ServerOutcome,
  ServerRuntimeBase,
  type ServerStack,
  WeftError,
} from '@weft/core';
import { VirtualClock } from '@weft/core/testing';

class FakeCall extends ServerCall {
  readonly headers: Record<string, string>;
  ran = false;
  constructor(headers: Record<string, string>, start: number) {
    super('GET', '/x', start);
    this.headers = headers;
  }
  header(name: string): string | undefined {
    return this.headers[name];
  }
  headerNames(): string[] {
    return Object.keys(this.headers);
  }
}

const replies: { status: number; code: string }[] = [];
const binding: ServerBinding = {
  protocol: 'fake',
  durationMetric: 'fake.server.duration',
  rejectionAttributes: {},
  spanName: () => 'fake',
  spanAttributes: () => ({}),
  endAttributes: (call) => ({ status: String(call.status) }),
  endSpanName: () => undefined,
  reject(call, error) {
    call.status = error.code === ErrorCode.Rejected ? 503 : 403;
    replies.push({ status: call.status, code: error.code });
  },
};

function runtime(clock: VirtualClock, stack?: (s: ServerStack) => ServerStack, concurrency = 10) {
  const server = resolveServerBase({ clock, concurrency, drainSignals: false, stack }, false);
  return new ServerRuntimeBase({
    server,
    binding,
    terminal: (call) => {
      call.started = true;
      (call as FakeCall).ran = currentContext() === call.ctx;
    },
  });
}

function trace(role: string, log: string[]): ServerModule {
  return {
    role,
    description: `logs ${role}`,
    params: {},
    make: (_p, next) => {
      const finisher = { finish: () => log.push(`${role} out`) };
      return (call) => {
        log.push(`${role} in`);
        call.defer(finisher);
        next(call);
      };
    },
  };
}

describe('server stack', () => {
  test('the default order, and describe lists it with descriptions', () => {
    assert.deepEqual(defaultServerStack().roles, [
      'drain',
      'deadline',
      'switch',
      'admission',
      'authorization',
      'telemetry',
      'context',
    ]);
    const described = defaultServerStack().effective().modules;
    assert.ok(described.every((m) => m.description.length > 10));
  });

  test('the handler runs in the context; finishers run once, last in first out, when the call ends', async () => {
    const clock = new VirtualClock(100);
    const log: string[] = [];
    const rt = runtime(clock, (s) =>
      s.insertAfter('drain', trace('a', log)).insertAfter('admission', trace('b', log)),
    );
    const call = new FakeCall({ 'weft-deadline-ms': '50' }, clock.now());
    rt.handle(call);
    assert.equal(call.ran, true, 'the terminal ran inside the call context');
    assert.equal(call.deadline, 150);
    assert.equal(rt.drainState.inflight, 1);
    assert.deepEqual(log, ['a in', 'b in']);
    await clock.advance(20);
    call.finish('success', 200, clock.now());
    call.finish('failure', 500, clock.now());
    assert.deepEqual(log, ['a in', 'b in', 'b out', 'a out']);
    assert.equal(rt.drainState.inflight, 0);
    assert.deepEqual(rt.admission.snapshot().released, { success: 1, dropped: 0, ignored: 0 });
  });

  test('a refusal ends the call at once: the modules above it finish, the binding replies, it is counted', () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const deny: ServerModule = {
      role: 'deny',
      description: 'denies everything',
      params: {},
      make: () => () => {
        throw new WeftError(ErrorCode.PermissionDenied, 'no');
      },
    };
    const rt = runtime(clock, (s) => s.insertAfter('drain', trace('a', log)).replace('authorization', deny));
    replies.length = 0;
    const call = new FakeCall({}, clock.now());
    rt.handle(call);
    assert.equal(call.ran, false);
    assert.equal(call.outcome, 'rejected');
    assert.deepEqual(replies, [{ status: 403, code: 'WEFT_PERMISSION_DENIED' }]);
    assert.deepEqual(log, ['a in', 'a out']);
    assert.equal(rt.shed.permission_denied, 1);
    assert.deepEqual(rt.admission.snapshot().released, { success: 0, dropped: 0, ignored: 1 });
    assert.equal(rt.drainState.inflight, 0);
  });

  test('built-in refusals: draining, deadline passed, over the limit', async () => {
    const clock = new VirtualClock();
    const rt = runtime(clock, undefined, 1);
    replies.length = 0;
    rt.handle(new FakeCall({ 'weft-deadline-ms': '0' }, clock.now()));
    const held = new FakeCall({}, clock.now());
    rt.handle(held);
    rt.handle(new FakeCall({}, clock.now()));
    held.finish('success', 200, clock.now());
    void rt.drainState.drain();
    rt.handle(new FakeCall({}, clock.now()));
    assert.deepEqual(
      replies.map((r) => r.code),
      ['WEFT_DEADLINE_EXCEEDED', 'WEFT_REJECTED', 'WEFT_REJECTED'],
    );
    assert.deepEqual(rt.shed, { concurrency: 1, rate: 0, draining: 1, deadline: 1 });
  });

  test('a module that throws something else is refused as an internal error and published', () => {
    const clock = new VirtualClock();
    const bug: ServerModule = {
      role: 'bug',
      description: 'throws a TypeError',
      params: {},
      make: () => () => {
        throw new TypeError('oops');
      },
    };
    const rt = runtime(clock, (s) => s.insertAfter('context', bug));
    const published: unknown[] = [];
    const listener = (message: unknown) => published.push(message);
    subscribe('weft:server:error', listener);
    try {
      replies.length = 0;
      const call = new FakeCall({}, clock.now());
      rt.handle(call);
      assert.equal(call.rejection?.code, 'WEFT_REQUEST_FAILED');
      assert.ok(call.rejection?.cause instanceof TypeError);
      assert.equal(rt.shed.error, 1);
      assert.equal((published[0] as { error: Error }).error.message, 'oops');
      assert.equal(rt.drainState.inflight, 0, 'the modules above finished');
    } finally {
      unsubscribe('weft:server:error', listener);
    }
  });

  test('a module that reads the context, placed above context, is refused naming both', () => {
    const audit: ServerModule = {
      role: 'audit',
      description: 'reads call.ctx',
      params: {},
      needs: ['context'],
      make: (_p, next) => next,
    };
    assert.throws(
      () => runtime(new VirtualClock(), (s) => s.insertBefore('telemetry', audit)),
      (e: WeftError) =>
        e.code === 'WEFT_INVALID_OPTION' &&
        /stack refused: module audit needs call\.context, but module context, which sets it, is below it/.test(
          e.message,
        ),
    );
    assert.doesNotThrow(() => runtime(new VirtualClock(), (s) => s.insertAfter('context', audit)));
  });

  test('the latency-sample rule', () => {
    const sample = (outcome: ServerOutcome, endedAt: number, deadline = 100) => {
      const call = new FakeCall({}, 0);
      call.deadline = deadline;
      call.finish(outcome, 0, endedAt);
      return latencySample(call);
    };
    assert.equal(sample('success', 50), 'success');
    assert.equal(sample('success', 100), 'dropped', 'complete, but at its deadline');
    assert.equal(sample('cancelled', 120), 'dropped', 'abandoned by a caller who gave up');
    assert.equal(sample('expired', 10), 'dropped');
    assert.equal(sample('failure', 50), 'ignored');
    assert.equal(sample('cancelled', 50), 'ignored');
    assert.equal(sample('rejected', 150), 'ignored');
    assert.equal(sample('success', 1e9, Number.POSITIVE_INFINITY), 'success');
  });
});

test('server stack: configure refuses a key no server module has (their settings are the server options)', () => {
  assert.throws(
    () => defaultServerStack().configure('admission', { concurrency: 10 } as never),
    /admission\.concurrency: is not a param of module admission \(it has no params\)/,
  );
});
