import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import {
  createContext,
  currentContext,
  ErrorCode,
  isValidTraceparent,
  isWeftError,
  MAX_WIRE_DEADLINE_MS,
  parseDeadlineHeader,
  parseTraceparent,
  readInbound,
  runWithContext,
} from '@weft/core';
import { fakeClient } from '@weft/core/testing';

describe('request context', () => {
  test('createContext fills neutral values', () => {
    assert.deepEqual(createContext(), {
      deadline: Number.POSITIVE_INFINITY,
      signal: undefined,
      otel: undefined,
      baggage: undefined,
      traceparent: undefined,
      tracestate: undefined,
      downstreamExhausted: false,
      route: undefined,
    });
  });

  test('currentContext follows runWithContext through awaits; nested contexts shadow', async () => {
    assert.equal(currentContext(), undefined);
    const outer = createContext({ baggage: 'a=1' });
    const inner = createContext({ baggage: 'a=2' });
    await runWithContext(outer, async () => {
      assert.equal(currentContext(), outer);
      await new Promise((r) => setImmediate(r));
      assert.equal(currentContext(), outer, 'kept across an await');
      await runWithContext(inner, async () => {
        await Promise.resolve();
        assert.equal(currentContext(), inner);
      });
      assert.equal(currentContext(), outer);
    });
    assert.equal(currentContext(), undefined);
  });

  test('an outbound call inside runWithContext inherits the deadline and the signal', async () => {
    const c = fakeClient({ fallback: { hang: true }, policy: { retry: { enabled: false } } });
    await c.clock.advance(1000);
    // The deadline.
    const ctx = createContext({ deadline: 1300 });
    const call = c.makeCall();
    const pending = runWithContext(ctx, async () => {
      await Promise.resolve(); // the call is made after an await, as in a real handler
      return c.call(call);
    });
    await assert.rejects(c.clock.run(pending), (e) => isWeftError(e, ErrorCode.DeadlineExceeded));
    assert.equal(call.parent, ctx);
    assert.equal(call.deadline, 1300);
    assert.equal(c.clock.now(), 1300);
    assert.equal(c.server.log[0]!.headers['weft-deadline-ms'], '300');
    // The signal.
    const inbound = new AbortController();
    const cancelled = runWithContext(createContext({ signal: inbound.signal }), () => c.call());
    await c.clock.advance(5);
    inbound.abort(new Error('inbound request cancelled'));
    await assert.rejects(cancelled, (e: unknown) => {
      assert.ok(isWeftError(e, ErrorCode.Cancelled));
      assert.match(String((e.cause as Error).message), /inbound request cancelled/);
      return true;
    });
    assert.equal(c.server.inFlight, 0);
    c.close();
  });

  test('concurrent requests keep their own contexts', async () => {
    const c = fakeClient({ fallback: { latencyMs: 10 } });
    const a = createContext({ deadline: 500 });
    const b = createContext({ deadline: 900 });
    const callA = c.makeCall();
    const callB = c.makeCall();
    const both = Promise.all([
      runWithContext(a, async () => {
        await new Promise((r) => setImmediate(r)); // interleave with b
        return c.call(callA);
      }),
      runWithContext(b, () => c.call(callB)),
    ]);
    await c.clock.run(both);
    assert.equal(callA.parent, a);
    assert.equal(callB.parent, b);
    assert.equal(callA.deadline, 500);
    assert.equal(callB.deadline, 900);
    c.close();
  });

  test('the context module hands the inbound OpenTelemetry context to the call', async () => {
    const c = fakeClient();
    const otel = ROOT_CONTEXT.setValue(Symbol.for('weft.test'), 1);
    const call = c.makeCall();
    await runWithContext(createContext({ otel }), () => c.run(call));
    assert.equal(call.otel?.getValue(Symbol.for('weft.test')), 1);
    const outside = c.makeCall();
    await c.run(outside);
    assert.equal(outside.parent, undefined);
    c.close();
  });
});

describe('wire format', () => {
  test('weft-deadline-ms: whole milliseconds up to one day; anything else is malformed', () => {
    assert.equal(parseDeadlineHeader(undefined), undefined);
    assert.equal(parseDeadlineHeader('250'), 250);
    assert.equal(parseDeadlineHeader('0'), 0);
    assert.equal(parseDeadlineHeader(['75', '80']), 75);
    assert.equal(parseDeadlineHeader(String(MAX_WIRE_DEADLINE_MS)), MAX_WIRE_DEADLINE_MS);
    for (const bad of ['', '-1', '1.5', '1e3', ' 10', 'abc', '9999999999', String(MAX_WIRE_DEADLINE_MS + 1)])
      assert.ok(Number.isNaN(parseDeadlineHeader(bad)), bad);
  });

  test('traceparent validation', () => {
    assert.equal(isValidTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'), true);
    assert.equal(isValidTraceparent('00-00000000000000000000000000000000-b7ad6b7169203331-01'), false);
    assert.equal(isValidTraceparent('00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01'), false);
    assert.equal(isValidTraceparent('00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01'), false);
    assert.equal(isValidTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x'), false);
  });

  test('a later traceparent version is read as version 00 (W3C versioning), extra fields ignored', () => {
    const ids = '0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331';
    assert.equal(parseTraceparent(`01-${ids}-01`), `00-${ids}-01`);
    assert.equal(parseTraceparent(`cc-${ids}-09-what-the-future-will-be-like`), `00-${ids}-01`);
    assert.equal(parseTraceparent(`02-${ids}-02`), `00-${ids}-00`, 'only the sampled flag is known');
    assert.equal(parseTraceparent(`01-${ids}-01x`), undefined, 'a longer value needs a "-" after the flags');
    assert.equal(parseTraceparent(`ff-${ids}-01`), undefined, 'version ff is invalid');
    assert.equal(parseTraceparent(`01-${ids}-0`), undefined);
    assert.equal(parseTraceparent(`01-00000000000000000000000000000000-b7ad6b7169203331-01`), undefined);
    const dropped: string[] = [];
    const inbound = readInbound({ traceparent: `01-${ids}-01-extra`, tracestate: 'a=1' }, (f) =>
      dropped.push(f),
    );
    assert.deepEqual(dropped, []);
    assert.equal(inbound.traceparent, `00-${ids}-01`, 'forwarded in the version this library writes');
    assert.equal(inbound.tracestate, 'a=1', 'its tracestate is kept');
  });
});
