import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metadata, status as Status } from '@grpc/grpc-js';
import { Header } from '@weft/core';
import { propertyRuns as fuzz } from '@weft/core/testing';
import fc from 'fast-check';
import type { GrpcCall } from '../src/client/call.ts';
import { grpcClassifier } from '../src/client/classifier.ts';
import type { GrpcExchange } from '../src/client/exchange.ts';

test('retry and rejection markers in gRPC trailers: weft-no-retry is never retried, weft-rejected always is', () => {
  const classify = grpcClassifier();
  const codes = Object.values(Status).filter((v): v is number => typeof v === 'number');
  const trailer = fc.record(
    {
      [Header.rejected]: fc.string({ maxLength: 4 }),
      [Header.noRetry]: fc.string({ maxLength: 4 }),
      'grpc-retry-pushback-ms': fc.oneof(fc.nat().map(String), fc.string({ maxLength: 6 })),
      other: fc.string({ maxLength: 4 }),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.constantFrom(...codes),
      trailer,
      fc.nat({ max: 2 }),
      fc.boolean(),
      (idempotent, code, values, received, notSent) => {
        const metadata = new Metadata();
        for (const [k, v] of Object.entries(values)) metadata.set(k, v);
        const response = {
          status: { code, details: '', metadata },
          received,
          notSent,
        } as unknown as GrpcExchange;
        const outcome = classify({ idempotent } as GrpcCall, response, undefined);
        assert.ok(['success', 'retryable', 'failure'].includes(outcome), outcome);
        const noRetry = values[Header.noRetry] !== undefined;
        const rejected = values[Header.rejected] !== undefined;
        if (code === Status.OK || received > 0)
          assert.equal(outcome, 'success', 'a committed stream is never retried');
        else if (noRetry) assert.equal(outcome, 'failure');
        else if (rejected) assert.equal(outcome, 'retryable');
        if (!idempotent && !rejected && !notSent) assert.notEqual(outcome, 'retryable');
      },
    ),
    fuzz(10),
  );
});
