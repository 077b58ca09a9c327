/**
 * What every module of one destination's stack shares: the destination's name, clock, randomness,
 * endpoint set, the protocol's classifier and binding, telemetry instruments, and a keyed store for
 * state that must outlive a rebuild of the stack (retry budget, breaker), so a config change never
 * resets history.
 */
import type { EndpointSet } from '../balancer/endpoint-set.ts';
import type { ProtocolBinding } from '../protocol/binding.ts';
import type { RouteTable } from '../route/route-table.ts';
import type { DestinationSummary } from '../summary/recorder.ts';
import type { Instruments } from '../telemetry/instruments.ts';
import type { Clock, Random } from '../time/clock.ts';
import type { TrafficGate } from '../traffic/traffic-gate.ts';
import type { Call } from './call.ts';

/**
 * How a response or error counts: a success, a failure worth retrying, a final failure, or
 * `ignored` — the caller's own cancellation, which says nothing of the destination and counts for
 * no endpoint, breaker or retry budget.
 */
export type Outcome = 'success' | 'retryable' | 'failure' | 'ignored';

/**
 * The outcome of `response` (or `error`) for `call`, decided once: the first module to ask (the
 * lowest, per attempt) classifies, the modules above reuse the verdict for the same result. Only a
 * result no module below saw (an error raised above it: an open breaker, a spent budget) is
 * classified again.
 */
export function outcomeOf<Req extends Call, Res>(
  classify: Classifier<Req, Res>,
  call: Req,
  response: Res | undefined,
  error: unknown,
): Outcome {
  const subject = response === undefined ? error : response;
  if (call.settled === subject && call.outcome !== undefined) return call.outcome;
  const outcome = classify(call, response, error);
  call.settled = subject;
  call.outcome = outcome;
  return outcome;
}

/**
 * Classifies one attempt's result. Exactly one of `response` and `error` is set. The protocol
 * binding supplies it; users may replace it (a `Classifier(req, res|err)` as in Finagle's
 * `ResponseClassifier`).
 */
export type Classifier<Req = Call, Res = unknown> = (
  call: Req,
  response: Res | undefined,
  error: unknown,
) => Outcome;

export interface StackEnv<Req = Call, Res = unknown> {
  readonly destination: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly endpoints: EndpointSet;
  readonly classify: Classifier<Req, Res>;
  /** The protocol: wire encoding, semantic-convention names, response handling. */
  readonly binding: ProtocolBinding<Req & Call, Res>;
  readonly instruments: Instruments;
  /** The destination's `Route`, compiled; undefined when it has none (the route modules then do nothing). */
  readonly route: RouteTable | undefined;
  /** The kill switch of this destination (mesh-wide or its own); undefined without a config source (`stop` then does nothing). */
  readonly traffic?: TrafficGate;
  /** Where the `endpoint` module counts each attempt for the traffic summary; undefined when nothing reports. */
  readonly summary?: DestinationSummary | undefined;
  /** Returns the value stored under `key`, creating it on first use; it survives stack rebuilds. */
  shared<T>(key: string, create: () => T): T;
}

/**
 * A keyed store for {@link StackEnv.shared}. Around a rebuild (`beginBuild`/`endBuild`), values the
 * new stack no longer uses are closed after a grace period, so calls still running on the old stack
 * finish with what they started with.
 */
export class SharedState {
  readonly #values = new Map<string, unknown>();
  #used: Set<string> | undefined;
  /** How long a value the new stack dropped stays open, in ms. Defaults to 30000. */
  readonly graceMs: number;

  constructor(graceMs = 30_000) {
    this.graceMs = graceMs;
  }

  get<T>(key: string, create: () => T): T {
    this.#used?.add(key);
    if (this.#values.has(key)) return this.#values.get(key) as T;
    const value = create();
    this.#values.set(key, value);
    return value;
  }

  /** The value under `key`, if one was made (never makes one). */
  peek<T>(key: string): T | undefined {
    return this.#values.get(key) as T | undefined;
  }

  beginBuild(): void {
    this.#used = new Set();
  }

  /** Ends a build that failed: nothing is dropped, the values the working stack uses stay open. */
  abortBuild(): void {
    this.#used = undefined;
  }

  endBuild(): void {
    const used = this.#used;
    this.#used = undefined;
    if (!used) return;
    const dropped: unknown[] = [];
    for (const [key, value] of this.#values) {
      if (!used.has(key)) {
        dropped.push(value);
        this.#values.delete(key);
      }
    }
    if (dropped.length) setTimeout(() => dropped.forEach(dispose), this.graceMs).unref();
  }

  clear(): void {
    for (const value of this.#values.values()) dispose(value);
    this.#values.clear();
  }
}

function dispose(value: unknown): void {
  const close = (value as { close?: () => void } | null)?.close;
  if (typeof close === 'function') close.call(value);
}
