/**
 * The testing kit's protocol binding: a {@link scriptedService} (or any service answering
 * {@link FakeResponse}s) as the terminal, a simple classifier, `weft-deadline-ms` for the deadline as
 * over HTTP, and connection handles that only record that they were opened and closed. Span and
 * metric names are HTTP's unless you give others, so a test can check what a binding's names do.
 */
import type { DestinationPolicy } from '../config/policy.ts';
import { Header } from '../context/wire.ts';
import { type Endpoint, endpointKey } from '../endpoint/endpoint.ts';
import {
  type FaultAbort,
  type ProtocolBinding,
  type ProtocolSemconv,
  writeDeadlineHeader,
} from '../protocol/binding.ts';
import { classifyError } from '../retry/classifier.ts';
import { editRecordHeaders } from '../route/route-module.ts';
import { Call } from '../stack/call.ts';
import type { Classifier } from '../stack/env.ts';
import type { Service } from '../stack/stack.ts';
import { systemClock } from '../time/clock.ts';
import { FakeResponse } from './scripted-service.ts';

/** Statuses the fake classifier retries on idempotent calls, like the HTTP binding's defaults. */
export const FAKE_RETRY_STATUSES: readonly number[] = [502, 503, 504];

/**
 * A classifier for {@link FakeResponse}: `rejected` responses are retryable whatever the method,
 * `retryOnStatuses` are retryable on idempotent calls, other 5xx are failures, the rest succeed;
 * errors go to core's `classifyError`.
 *
 * @param retryOnStatuses - Defaults to {@link FAKE_RETRY_STATUSES}.
 */
export function fakeClassifier(
  retryOnStatuses: readonly number[] = FAKE_RETRY_STATUSES,
): Classifier<Call, FakeResponse> {
  const retryable = new Set(retryOnStatuses);
  return (call, response, error) => {
    if (response === undefined) return classifyError(call, error);
    if (response.rejected) return 'retryable';
    if (retryable.has(response.status) && call.idempotent) return 'retryable';
    return response.status >= 500 ? 'failure' : 'success';
  };
}

/** The fake binding's default names: HTTP's semantic conventions, which tests read most easily. */
export const FAKE_SEMCONV: ProtocolSemconv = {
  spanName: (call) => call.method,
  methodKey: 'http.request.method',
  statusKey: 'http.response.status_code',
  resendCountKey: 'http.request.resend_count',
  attemptDuration: { name: 'http.client.request.duration', unit: 's' },
};

/** The connection handle the fake binding makes per endpoint. */
export interface FakeConnection {
  readonly key: string;
  closed: boolean;
}

export interface FakeBindingOptions {
  /** The protocol's name in `describe()`. Defaults to `fake`. */
  name?: string;
  /** The classifier, whatever the policy. Defaults to `fakeClassifier(policy.retry.retryOnStatuses)`. */
  classify?: Classifier<Call, FakeResponse>;
  /** Span and metric names. Defaults to {@link FAKE_SEMCONV}. */
  semconv?: ProtocolSemconv;
}

/** A fake binding, with the endpoints it connected to and disconnected from. */
export interface FakeBinding extends ProtocolBinding<Call, FakeResponse, FakeConnection> {
  /** Endpoint keys connected to so far, in order. */
  readonly connected: readonly string[];
  /** Endpoint keys disconnected so far, in order. */
  readonly disconnected: readonly string[];
}

/** The classifier of a policy when none is fixed: the policy's `retryOnStatuses`, else the defaults. */
function policyClassifier(policy: DestinationPolicy): Classifier<Call, FakeResponse> {
  return fakeClassifier(policy.retry?.retryOnStatuses);
}

function status(response: FakeResponse): number {
  return response.status;
}

function discard(response: FakeResponse): void {
  response.discard();
}

function onBodyDone(response: FakeResponse, done: () => void): void {
  response.onBodyDone(done);
}

/** A copy of a call whose body can be sent again (a fake call's body is its replayable flag). */
function mirror(call: Call): Call | undefined {
  if (!call.replayable) return undefined;
  const copy = new Call(call.destination, call.method, call.path, { ...call.headers });
  copy.idempotent = call.idempotent;
  return copy;
}

/** An injected abort: a response of the rule's status, from no endpoint (`fault`). */
function faultResponse(_call: Call, abort: FaultAbort): FakeResponse {
  const response = new FakeResponse(abort.status ?? 503, 'fault', 0, false, systemClock, 0, undefined);
  response.headers[Header.fault] = 'abort';
  return response;
}

/** A binding whose terminal is `service` (usually `scriptedService(…).service`). */
export function fakeBinding(
  service: Service<Call, FakeResponse>,
  options: FakeBindingOptions = {},
): FakeBinding {
  const connected: string[] = [];
  const disconnected: string[] = [];
  const fixed = options.classify;
  return {
    name: options.name ?? 'fake',
    semconv: options.semconv ?? FAKE_SEMCONV,
    terminal: () => service,
    classifier: fixed ? () => fixed : policyClassifier,
    connect(endpoint: Endpoint): FakeConnection {
      const key = endpointKey(endpoint);
      connected.push(key);
      return { key, closed: false };
    },
    disconnect(connection: FakeConnection): void {
      connection.closed = true;
      disconnected.push(connection.key);
    },
    writeDeadline: writeDeadlineHeader,
    status,
    discard,
    onBodyDone,
    rewritesPaths: true,
    mirror,
    faultResponse,
    editResponseHeaders: (response, edits) => editRecordHeaders(response.headers, edits),
    connected,
    disconnected,
  };
}
