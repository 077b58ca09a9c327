import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Call,
  classifyError,
  ErrorCode,
  invalidOption,
  isCallerCancellation,
  isIdempotentMethod,
  isWeftError,
  WeftError,
} from '@weft/core';

describe('errors', () => {
  test('codes are stable (users match on them: changing one is a breaking change)', () => {
    assert.deepEqual(ErrorCode, {
      DeadlineExceeded: 'WEFT_DEADLINE_EXCEEDED',
      FaultInjected: 'WEFT_FAULT_INJECTED',
      AttemptTimeout: 'WEFT_ATTEMPT_TIMEOUT',
      CircuitOpen: 'WEFT_CIRCUIT_OPEN',
      NoEndpoints: 'WEFT_NO_ENDPOINTS',
      BudgetExhausted: 'WEFT_BUDGET_EXHAUSTED',
      ConnectFailed: 'WEFT_CONNECT_FAILED',
      Cancelled: 'WEFT_CANCELLED',
      Rejected: 'WEFT_REJECTED',
      UpstreamExhausted: 'WEFT_UPSTREAM_EXHAUSTED',
      RequestFailed: 'WEFT_REQUEST_FAILED',
      InvalidOption: 'WEFT_INVALID_OPTION',
      MtlsRequired: 'WEFT_MTLS_REQUIRED',
      ResolutionFailed: 'WEFT_RESOLUTION_FAILED',
      UnsupportedRuntime: 'WEFT_UNSUPPORTED_RUNTIME',
      Closed: 'WEFT_CLOSED',
      Unauthorized: 'WEFT_UNAUTHORIZED',
      PermissionDenied: 'WEFT_PERMISSION_DENIED',
      TrafficStopped: 'WEFT_TRAFFIC_STOPPED',
    });
  });

  test('WeftError carries code, retryable flag and cause', () => {
    const cause = new Error('ECONNREFUSED');
    const e = new WeftError(ErrorCode.ConnectFailed, 'could not connect', { retryable: true, cause });
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'WeftError');
    assert.equal(e.code, 'WEFT_CONNECT_FAILED');
    assert.equal(e.retryable, true);
    assert.equal(e.cause, cause);
    assert.equal(e.message, 'could not connect');
    assert.match(String(e.stack), /could not connect/);
    const plain = new WeftError(ErrorCode.Closed, 'closed');
    assert.equal(plain.retryable, false, 'not retryable unless said so');
    assert.equal('cause' in plain, false);
  });

  test('isWeftError narrows, optionally by code', () => {
    const e = new WeftError(ErrorCode.CircuitOpen, 'open');
    assert.equal(isWeftError(e), true);
    assert.equal(isWeftError(e, ErrorCode.CircuitOpen), true);
    assert.equal(isWeftError(e, ErrorCode.Closed), false);
    const lookalike = Object.assign(new Error('x'), { code: 'WEFT_CIRCUIT_OPEN', retryable: false });
    assert.equal(isWeftError(lookalike), false);
    for (const v of [undefined, null, 'WEFT_CLOSED', 42, {}]) assert.equal(isWeftError(v), false);
  });

  test('invalidOption names the option and the allowed range', () => {
    const e = invalidOption('retry.maxAttempts', 'must be an integer within 1–10');
    assert.ok(isWeftError(e, ErrorCode.InvalidOption));
    assert.equal(e.message, 'invalid option retry.maxAttempts: must be an integer within 1–10');
  });
});

describe('error classification', () => {
  const get = new Call('svc', 'GET', '/', {});
  const post = new Call('svc', 'POST', '/', {});
  const err = (code: ErrorCode, retryable = false) => new WeftError(code, code, { retryable });

  test('never reached the server, or shed unprocessed: retryable whatever the method', () => {
    for (const code of [ErrorCode.ConnectFailed, ErrorCode.Rejected]) {
      assert.equal(classifyError(get, err(code)), 'retryable');
      assert.equal(classifyError(post, err(code)), 'retryable');
    }
  });

  test('may have reached the server: retryable only when idempotent', () => {
    for (const e of [err(ErrorCode.AttemptTimeout, true), err(ErrorCode.RequestFailed), new Error('EPIPE')]) {
      assert.equal(classifyError(get, e), 'retryable');
      assert.equal(classifyError(post, e), 'failure');
    }
  });

  test('the call’s own limits and upstream verdicts: never retried', () => {
    for (const code of [
      ErrorCode.DeadlineExceeded,
      ErrorCode.CircuitOpen,
      ErrorCode.UpstreamExhausted,
      ErrorCode.NoEndpoints,
      ErrorCode.BudgetExhausted,
    ])
      assert.equal(classifyError(get, err(code, true)), 'failure', code);
  });

  test('the caller’s cancellation is ignored: it counts for nothing, and is not retried', () => {
    assert.equal(classifyError(get, err(ErrorCode.Cancelled, true)), 'ignored');
    assert.equal(classifyError(post, err(ErrorCode.Cancelled)), 'ignored');
  });

  test('other codes follow their retryable flag', () => {
    assert.equal(classifyError(post, err(ErrorCode.ResolutionFailed, true)), 'retryable');
    assert.equal(classifyError(get, err(ErrorCode.ResolutionFailed, false)), 'failure');
  });

  test('caller cancellation and idempotent methods', () => {
    assert.equal(isCallerCancellation(err(ErrorCode.Cancelled)), true);
    assert.equal(isCallerCancellation(err(ErrorCode.DeadlineExceeded)), true);
    assert.equal(isCallerCancellation(err(ErrorCode.AttemptTimeout)), false);
    assert.equal(isCallerCancellation(new Error('abort')), false);
    for (const m of ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])
      assert.equal(isIdempotentMethod(m), true);
    for (const m of ['POST', 'PATCH', 'CONNECT', 'get']) assert.equal(isIdempotentMethod(m), false);
    assert.equal(new Call('svc', 'PUT', '/', {}).idempotent, true);
    assert.equal(post.idempotent, false);
  });
});
