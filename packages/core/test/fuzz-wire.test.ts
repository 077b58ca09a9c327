import assert from 'node:assert/strict';
import { test } from 'node:test';
import { propertyRuns as fuzz } from '@weft/core/testing';
import fc from 'fast-check';
import { isValidTraceparent, MAX_WIRE_DEADLINE_MS, parseDeadlineHeader } from '../src/context/wire.ts';
import { MAX_BAGGAGE_LENGTH, MAX_TRACESTATE_LENGTH, readInbound } from '../src/server/inbound.ts';

/** Header values as they can arrive: any string, printable junk, digits, or a repeated header. */
const headerValue = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.stringMatching(/^[0-9 +.eE-]{0,12}$/),
  fc.nat().map(String),
  fc.array(fc.string({ maxLength: 12 }), { maxLength: 3 }),
  fc.constant(undefined),
);

const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
const traceparent = fc
  .tuple(hex(32), hex(16), hex(2))
  .map(([trace, span, flags]) => `00-${trace}-${span}-${flags}`);

test('weft-deadline-ms: absent, NaN or an integer in 0..one day, never a throw', () => {
  fc.assert(
    fc.property(headerValue, (value) => {
      const ms = parseDeadlineHeader(value);
      if (value === undefined) return ms === undefined;
      return (
        Number.isNaN(ms) ||
        (Number.isInteger(ms) && (ms as number) >= 0 && (ms as number) <= MAX_WIRE_DEADLINE_MS)
      );
    }),
    fuzz(5),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: MAX_WIRE_DEADLINE_MS }),
      (ms) => parseDeadlineHeader(String(ms)) === ms,
    ),
    fuzz(),
  );
});

test('traceparent: a version-00 value with non-zero ids is valid; junk is not; never a throw', () => {
  fc.assert(
    fc.property(traceparent, (tp) => {
      const zero = /^00-0{32}-/.test(tp) || /-0{16}-[0-9a-f]{2}$/.test(tp);
      return isValidTraceparent(tp) === !zero;
    }),
    fuzz(),
  );
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
      const valid = isValidTraceparent(s);
      return !valid || /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}/.test(s);
    }),
    fuzz(5),
  );
});

test('inbound deadline, traceparent, tracestate and baggage: malformed values are dropped and reported, never thrown', () => {
  const values = fc.record(
    {
      deadline: headerValue,
      traceparent: fc.oneof(traceparent, headerValue),
      tracestate: fc.oneof(fc.string({ unit: 'binary', maxLength: 600 }), headerValue),
      baggage: fc.oneof(
        fc.string({ maxLength: 100 }),
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.constant('k=v'.repeat(3000)),
        headerValue,
      ),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(values, (v) => {
      const reported: string[] = [];
      const r = readInbound(v, (field) => reported.push(field));
      assert.equal(new Set(reported).size, reported.length, 'each field reported at most once');
      if (r.remainingMs !== undefined) assert.ok(Number.isInteger(r.remainingMs) && r.remainingMs >= 0);
      if (r.traceparent !== undefined) assert.ok(isValidTraceparent(r.traceparent));
      if (r.tracestate !== undefined) {
        assert.ok(r.traceparent !== undefined, 'no tracestate without a traceparent');
        assert.ok(r.tracestate.length <= MAX_TRACESTATE_LENGTH && /^[\x20-\x7e]*$/.test(r.tracestate));
      }
      if (r.baggage !== undefined)
        assert.ok(r.baggage.length <= MAX_BAGGAGE_LENGTH && /^[\x20-\x7e]*$/.test(r.baggage));
      // A value that was present and is gone was reported (tracestate may go silently with its traceparent).
      for (const field of ['deadline', 'traceparent', 'baggage'] as const) {
        const out = field === 'deadline' ? r.remainingMs : r[field];
        if (v[field] !== undefined && out === undefined) assert.ok(reported.includes(field), field);
      }
    }),
    fuzz(5),
  );
});
