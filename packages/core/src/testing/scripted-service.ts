/**
 * A scriptable fake service: the terminal of a stack in tests, answering each endpoint from a
 * script on an injected (usually virtual) clock. It stands where the protocol's transport stands,
 * so every filter above it runs for real: latency feeds the balancer, errors feed retries and
 * outlier detection, hangs meet deadlines and per-try timeouts.
 */

import { abortError } from '../errors/errors.ts';
import type { Call } from '../stack/call.ts';
import type { Service } from '../stack/stack.ts';
import type { Clock, TimerHandle } from '../time/clock.ts';

/** What one attempt does. */
export interface Step {
  /** Time until the response head (or the error), in ms on the clock. Defaults to 0. */
  latencyMs?: number;
  /** The response status. Defaults to 200. */
  status?: number;
  /**
   * Fail the attempt with this error instead of answering. A function is called per attempt, so
   * each attempt gets a fresh error. Defaults to none.
   */
  error?: unknown;
  /** Never answer: the attempt waits until its signal aborts. Defaults to false. */
  hang?: boolean;
  /** Time the response body takes after the head, in ms; 0 for no body. Defaults to 0. */
  bodyMs?: number;
  /** Mark the response as shed unprocessed (retryable whatever the method). Defaults to false. */
  rejected?: boolean;
}

/**
 * How an endpoint behaves: one step for every attempt, a sequence (attempt `n` to this endpoint
 * takes step `n`; the last step repeats), or a function of the call and the endpoint's attempt
 * count (0-based).
 */
export type Script = Step | readonly Step[] | ((call: Call, n: number) => Step);

/** One attempt as the fake service saw it. */
export interface AttemptRecord {
  /** The endpoint's key (`address:port`), or `''` when the stack picked none. */
  readonly endpoint: string;
  /** The call's attempt number (1-based), as set by the retry filter. */
  readonly attempt: number;
  readonly method: string;
  readonly path: string;
  /** A copy of the headers as sent. */
  readonly headers: Readonly<Record<string, string>>;
  /** The clock's time when the attempt arrived. */
  readonly at: number;
}

type BodyListener = () => void;

/** A fake response. Its body (when the step has `bodyMs`) streams on the clock. */
export class FakeResponse {
  readonly status: number;
  readonly endpoint: string;
  readonly attempt: number;
  readonly rejected: boolean;
  /** True once the retry filter (or anyone) discarded it. */
  discarded = false;
  /** Response headers (a route rule's `responseHeaders` edits them). */
  headers: Record<string, string> = {};
  /** Why the body stopped early (abort reason), if it did. */
  bodyError: unknown;
  #bodyDone: boolean;
  #timer: TimerHandle | undefined;
  #listeners: BodyListener[] = [];
  #clock: Clock;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;

  constructor(
    status: number,
    endpoint: string,
    attempt: number,
    rejected: boolean,
    clock: Clock,
    bodyMs: number,
    signal: AbortSignal | undefined,
  ) {
    this.status = status;
    this.endpoint = endpoint;
    this.attempt = attempt;
    this.rejected = rejected;
    this.#clock = clock;
    this.#bodyDone = bodyMs <= 0;
    if (!this.#bodyDone) {
      this.#timer = clock.setTimeout(() => this.#finish(undefined), bodyMs);
      if (signal) {
        this.#signal = signal;
        this.#onAbort = () => this.#finish(abortError(signal.reason));
        signal.addEventListener('abort', this.#onAbort, { once: true });
      }
    }
  }

  /** True once the body finished, was aborted, or was discarded. */
  get bodyDone(): boolean {
    return this.#bodyDone;
  }

  /** Calls `listener` when the body is done (at once if it already is). */
  onBodyDone(listener: BodyListener): void {
    if (this.#bodyDone) listener();
    else this.#listeners.push(listener);
  }

  /** Resolves when the body has been read to its end; rejects with the abort reason if it was cut. */
  consume(): Promise<void> {
    return new Promise((resolve, reject) =>
      this.onBodyDone(() => (this.bodyError === undefined ? resolve() : reject(this.bodyError))),
    );
  }

  /** Abandons the response (the body stops at once). */
  discard(): void {
    this.discarded = true;
    this.#finish(undefined);
  }

  #finish(error: unknown): void {
    if (this.#bodyDone) return;
    this.#bodyDone = true;
    this.bodyError = error;
    this.#clock.clearTimeout(this.#timer);
    if (this.#onAbort) this.#signal?.removeEventListener('abort', this.#onAbort);
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const l of listeners) l();
  }
}

export interface ScriptedServiceOptions {
  /** The clock latencies run on: a `VirtualClock` in tests. */
  clock: Clock;
  /** Scripts by endpoint key (`address:port`). Defaults to none. */
  scripts?: Readonly<Record<string, Script>>;
  /** The script of endpoints without their own. Defaults to `{ status: 200 }`. */
  fallback?: Script;
}

/** The fake service: its terminal {@link ScriptedService.service} and what it observed. */
export interface ScriptedService {
  /** The terminal service to put under a stack. It answers for `call.endpoint`. */
  readonly service: Service<Call, FakeResponse>;
  /** Every attempt received, in order of arrival. */
  readonly log: readonly AttemptRecord[];
  /** Every response sent, in order (discarded ones carry `discarded: true`). */
  readonly responses: readonly FakeResponse[];
  /** Attempts that arrived and have not answered or failed yet. */
  readonly inFlight: number;
  /** Replaces the script of one endpoint (its attempt count is kept). */
  script(endpoint: string, script: Script): void;
  /** Replaces the script of endpoints without their own. */
  setFallback(script: Script): void;
  /** Attempts received by `endpoint`, or by all endpoints when omitted. */
  attempts(endpoint?: string): number;
  /** Attempts per endpoint key. */
  counts(): Map<string, number>;
  /** Forgets the log, responses and counts (scripts stay). */
  reset(): void;
}

/** Default step: an instant 200. */
export const OK: Step = { status: 200 };

/**
 * Creates a scripted fake service.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * const fake = scriptedService({
 *   clock,
 *   scripts: {
 *     '10.0.0.1:8080': { latencyMs: 5 },
 *     '10.0.0.2:8080': [{ status: 503 }, { latencyMs: 50 }], // 503 first, then slow successes
 *   },
 * });
 * const service = stack.build(fake.service, env);
 * ```
 */
export function scriptedService(options: ScriptedServiceOptions): ScriptedService {
  const { clock } = options;
  const scripts = new Map<string, Script>(Object.entries(options.scripts ?? {}));
  let fallback: Script = options.fallback ?? OK;
  const counts = new Map<string, number>();
  const log: AttemptRecord[] = [];
  const responses: FakeResponse[] = [];
  let inFlight = 0;

  const stepFor = (call: Call, key: string, n: number): Step => {
    const script = scripts.get(key) ?? fallback;
    if (typeof script === 'function') return script(call, n);
    if (Array.isArray(script)) {
      const steps = script as readonly Step[];
      return steps[Math.min(n, steps.length - 1)] ?? OK;
    }
    return script as Step;
  };

  const service: Service<Call, FakeResponse> = (call) => {
    const key = call.endpoint?.key ?? '';
    const n = counts.get(key) ?? 0;
    counts.set(key, n + 1);
    log.push({
      endpoint: key,
      attempt: call.attempt,
      method: call.method,
      path: call.path,
      headers: { ...call.headers },
      at: clock.now(),
    });
    const step = stepFor(call, key, n);
    const signal = call.attemptSignal ?? call.signal;
    inFlight++;
    return new Promise<FakeResponse>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      let settled = false;
      const onAbort = () => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        settle();
        reject(abortError(signal?.reason));
      };
      const settle = () => {
        inFlight--;
        signal?.removeEventListener('abort', onAbort);
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      // The adaptive per-try timeout abandons the attempt through this handle.
      call.inflight = {
        abortAttempt(reason) {
          if (settled) return;
          settled = true;
          clock.clearTimeout(timer);
          settle();
          reject(reason);
        },
      };
      if (step.hang) return;
      timer = clock.setTimeout(() => {
        settled = true;
        settle();
        if (step.error !== undefined) {
          reject(typeof step.error === 'function' ? (step.error as (c: Call) => unknown)(call) : step.error);
          return;
        }
        const response = new FakeResponse(
          step.status ?? 200,
          key,
          call.attempt,
          step.rejected ?? false,
          clock,
          step.bodyMs ?? 0,
          call.signal,
        );
        responses.push(response);
        resolve(response);
      }, step.latencyMs ?? 0);
    });
  };

  return {
    service,
    log,
    responses,
    get inFlight() {
      return inFlight;
    },
    script(endpoint, script) {
      scripts.set(endpoint, script);
    },
    setFallback(script) {
      fallback = script;
    },
    attempts(endpoint) {
      if (endpoint !== undefined) return counts.get(endpoint) ?? 0;
      let total = 0;
      for (const c of counts.values()) total += c;
      return total;
    },
    counts: () => new Map(counts),
    reset() {
      counts.clear();
      log.length = 0;
      responses.length = 0;
    },
  };
}
