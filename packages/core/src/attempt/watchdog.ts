/**
 * The adaptive per-try timeout: an attempt that could still be retried is abandoned when it has
 * waited `multiplier ×` its endpoint's success latency (peak EWMA of the requests it answered), and
 * at least `minMs`, for its response head. It is the default per-try policy because a per-try
 * timeout is what saves the calls already sent to an endpoint that hangs (they are retried on
 * another one), and only a timeout derived from the endpoint's own latency can be on by default: a
 * fixed one is either too short for a slow service or too long to help a fast one. The last attempt
 * and attempts that cannot be retried are never watched: cutting them short could only turn a late
 * answer into a failure, so the deadline governs them.
 *
 * One watchdog per destination checks its attempts on one timer, which runs only while attempts
 * are watched: no timer, closure or controller per request. An endpoint that has never answered is
 * judged by the slowest success latency among its peers, and by nothing when no endpoint has
 * answered yet.
 */

import { ADAPTIVE_PER_TRY_DEFAULTS } from '../balancer/balance-params.ts';
import type { EndpointSet } from '../balancer/endpoint-set.ts';
import { ErrorCode, WeftError } from '../errors/errors.ts';
import type { Call } from '../stack/call.ts';
import type { Clock, TimerHandle } from '../time/clock.ts';

export type { AdaptivePerTryParams } from '../balancer/balance-params.ts';
export { ADAPTIVE_PER_TRY_DEFAULTS } from '../balancer/balance-params.ts';

export function attemptTimeout(call: Call, ms: number): WeftError {
  return new WeftError(
    ErrorCode.AttemptTimeout,
    `attempt ${call.attempt} to ${call.destination} timed out after ${Math.round(ms)} ms`,
    { retryable: true },
  );
}

export class AttemptWatchdog {
  multiplier = ADAPTIVE_PER_TRY_DEFAULTS.multiplier;
  minMs = ADAPTIVE_PER_TRY_DEFAULTS.minMs;
  readonly #calls = new Set<Call>();
  readonly #clock: Clock;
  readonly #endpoints: EndpointSet;
  #timer: TimerHandle | undefined;
  readonly #tick = () => this.#check();

  constructor(clock: Clock, endpoints: EndpointSet) {
    this.#clock = clock;
    this.#endpoints = endpoints;
  }

  /** Watches `call`'s current attempt, begun at `call.attemptStart` on `call.endpoint`. */
  watch(call: Call): void {
    this.#calls.add(call);
    if (this.#timer === undefined) this.#timer = this.#clock.setTimeout(this.#tick, this.#interval());
  }

  /** The attempt is over (head, error or abort). */
  unwatch(call: Call): void {
    this.#calls.delete(call);
  }

  /** Attempts watched now. */
  get size(): number {
    return this.#calls.size;
  }

  close(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#calls.clear();
  }

  /** The timeout for an endpoint whose success latency is `usual` ms. */
  limitFor(usual: number): number {
    return Math.max(this.minMs, this.multiplier * usual);
  }

  #interval(): number {
    return Math.max(5, this.minMs / 4);
  }

  #check(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    let peers = -1;
    for (const call of this.#calls) {
      const ep = call.endpoint;
      if (ep === undefined) continue;
      let base = ep.successLatency;
      if (base === 0) {
        if (peers < 0) peers = this.#peerLatency();
        base = peers;
        if (base === 0) continue;
      }
      const limit = this.limitFor(base);
      if (now - call.attemptStart < limit) continue;
      this.#calls.delete(call);
      call.inflight?.abortAttempt(attemptTimeout(call, limit));
    }
    if (this.#calls.size > 0) this.#timer = this.#clock.setTimeout(this.#tick, this.#interval());
  }

  /** The slowest success latency among the endpoints that have answered; 0 when none has. */
  #peerLatency(): number {
    let max = 0;
    for (const ep of this.#endpoints.all) if (ep.successLatency > max) max = ep.successLatency;
    return max;
  }
}
