import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Header } from '@weft/core';
import { propertyRuns as fuzz } from '@weft/core/testing';
import fc from 'fast-check';
import type { HttpCall } from '../src/client/call.ts';
import { httpClassifier } from '../src/client/classifier.ts';
import type { HttpExchange } from '../src/client/exchange.ts';

const headerValue = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }),
);

test('retry and rejection markers on HTTP responses: weft-no-retry is never retried, weft-rejected always is', () => {
  const classify = httpClassifier();
  const response = fc.record({
    statusCode: fc.oneof(fc.integer({ min: 100, max: 599 }), fc.constantFrom(429, 500, 502, 503, 504)),
    headers: fc.record(
      {
        [Header.rejected]: headerValue,
        [Header.noRetry]: headerValue,
        'retry-after': fc.oneof(fc.nat().map(String), fc.string({ maxLength: 10 })),
        other: headerValue,
      },
      { requiredKeys: [] },
    ),
  });
  fc.assert(
    fc.property(fc.boolean(), response, (idempotent, res) => {
      const outcome = classify({ idempotent } as HttpCall, res as unknown as HttpExchange, undefined);
      assert.ok(['success', 'retryable', 'failure'].includes(outcome), outcome);
      const noRetry = res.headers[Header.noRetry] !== undefined;
      const rejected = res.headers[Header.rejected] !== undefined;
      if (res.statusCode >= 500 && noRetry) assert.equal(outcome, 'failure');
      else if (res.statusCode >= 500 && rejected) assert.equal(outcome, 'retryable');
      if (noRetry) assert.notEqual(outcome, 'retryable');
      if (res.statusCode < 400 && !rejected) assert.equal(outcome, 'success');
      if (!idempotent && !rejected) assert.notEqual(outcome, 'retryable', 'only a rejection retries a POST');
    }),
    fuzz(10),
  );
});
