/**
 * A circuit breaker's state machine, driven synchronously by its caller: `allow()` before a call,
 * `record()` after it. No promise, closure or timer per call, and time only from the injected clock
 * (the open period is checked when a call asks, not by a timer), so it costs tens of nanoseconds
 * and runs on virtual time in tests.
 *
 * Closed: every call is let through; results are counted over a rolling window of ten buckets, and
 * the breaker opens once the window holds at least `volumeThreshold` calls of which at least
 * `errorThresholdPercent` % failed (Hystrix's rule; Resilience4j's failure-rate threshold counts
 * the same way). Open: nothing is let through until `resetTimeoutMs` has passed, then exactly one
 * call, the probe, is (half-open). The probe's success closes the breaker with an empty window; its
 * failure opens it again for `resetTimeoutMs`. A probe its caller cancelled gave no verdict: the
 * breaker opens again, and another probe goes after `resetTimeoutMs`.
 *
 * Why not cockatiel's `SamplingBreaker` or opossum (both named by our users): see docs/stack.md,
 * "Circuit breaking". In short: opossum can only be driven through `fire()`, which costs a promise,
 * clock reads and event emits per call; `SamplingBreaker` reads `Date.now()` itself (no injected
 * clock), forgets old windows only one bucket per recorded call, and cannot take a 100% threshold.
 */
import { invalidOption } from '../errors/errors.ts';
import type { Clock } from '../time/clock.ts';

/** What a circuit does with calls: let them all through, none, or one probe. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * How one call ended, for the breaker: `ignored` is a call that says nothing of the destination
 * (the caller's own cancellation); it is not counted, and a probe that ends so gave no verdict.
 */
export type CircuitOutcome = 'success' | 'failure' | 'ignored';

/** The settings of a {@link Circuit}; each may change at any time through `configure`. */
export interface CircuitParams {
  /** Failure percentage of the calls in the window at which the breaker opens, within (0, 100]. */
  errorThresholdPercent: number;
  /** Calls in the window before the breaker may open (an integer ≥ 0). */
  volumeThreshold: number;
  /** Time open before a half-open probe, in ms (> 0). */
  resetTimeoutMs: number;
  /** The rolling window's length in ms (> 0), in ten buckets. */
  rollingWindowMs: number;
}

/** Throws a `WEFT_INVALID_OPTION` naming the first setting out of range. */
export function checkCircuitParams(params: CircuitParams): void {
  const { errorThresholdPercent: t, volumeThreshold: v, resetTimeoutMs: r, rollingWindowMs: w } = params;
  if (!(t > 0 && t <= 100))
    throw invalidOption('circuitBreaker.errorThresholdPercent', 'must be within 1–100');
  if (!(Number.isInteger(v) && v >= 0))
    throw invalidOption('circuitBreaker.volumeThreshold', 'must be an integer ≥ 0');
  if (!(r > 0 && Number.isFinite(r))) throw invalidOption('circuitBreaker.resetTimeoutMs', 'must be > 0');
  if (!(w > 0 && Number.isFinite(w))) throw invalidOption('circuitBreaker.rollingWindowMs', 'must be > 0');
}

/** Buckets of the rolling window: it forgets in steps of a tenth of its length. */
const BUCKETS = 10;

export class Circuit {
  readonly #clock: Clock;
  readonly #onTransition: ((state: CircuitState) => void) | undefined;
  #threshold = 0;
  #volume = 0;
  #resetMs = 0;
  #bucketMs = 0;
  #state: CircuitState = 'closed';
  #generation = 0;
  #openedAt = 0;
  // The rolling window: a ring of buckets, the current one at #head, started at #headStart.
  readonly #bucketCalls = new Float64Array(BUCKETS);
  readonly #bucketFailures = new Float64Array(BUCKETS);
  #head = 0;
  #headStart: number;
  #calls = 0;
  #failures = 0;

  /**
   * @param onTransition - Called with the new state on each change of state (never per call).
   */
  constructor(params: CircuitParams, clock: Clock, onTransition?: (state: CircuitState) => void) {
    this.#clock = clock;
    this.#onTransition = onTransition;
    this.#headStart = clock.now();
    this.configure(params);
  }

  /** The current state. An open circuit whose reset time has passed reads `open` until a call asks. */
  get state(): CircuitState {
    return this.#state;
  }

  /**
   * Changes with every transition. Read it right after {@link Circuit.allow} and hand it back to
   * {@link Circuit.record}: a result from an earlier generation (a call let in before the circuit
   * last changed state) is not counted, so a late answer to a call from before the breaker opened
   * can never be taken for the probe's verdict.
   */
  get generation(): number {
    return this.#generation;
  }

  /** Calls counted in the rolling window now (successes and failures). */
  get calls(): number {
    this.#slide(this.#clock.now());
    return this.#calls;
  }

  /** Failures counted in the rolling window now. */
  get failures(): number {
    this.#slide(this.#clock.now());
    return this.#failures;
  }

  /**
   * Applies new settings and keeps the state: an open circuit stays open (its reset time now counted
   * with the new `resetTimeoutMs`), and the window keeps its counts. When `rollingWindowMs` changes,
   * the buckets keep their counts and order, and the current one starts now: they age out over the
   * new window.
   */
  configure(params: CircuitParams): void {
    checkCircuitParams(params);
    const { errorThresholdPercent: t, volumeThreshold: v, resetTimeoutMs: r, rollingWindowMs: w } = params;
    this.#threshold = t;
    this.#volume = v;
    this.#resetMs = r;
    const bucketMs = w / BUCKETS;
    if (bucketMs !== this.#bucketMs) {
      const now = this.#clock.now();
      if (this.#bucketMs > 0) this.#slide(now);
      this.#bucketMs = bucketMs;
      this.#headStart = now;
    }
  }

  /**
   * Whether a call may go now. Closed: yes. Open: no, until `resetTimeoutMs` has passed; then yes,
   * once: that call is the half-open probe. Half-open (the probe in flight): no.
   */
  allow(): boolean {
    if (this.#state === 'closed') return true;
    if (this.#state === 'half-open') return false;
    if (this.#clock.now() - this.#openedAt < this.#resetMs) return false;
    this.#transition('half-open');
    return true;
  }

  /**
   * Counts the result of a call that {@link Circuit.allow} let through in `generation` (the value
   * of {@link Circuit.generation} right after `allow()`), and opens or closes the circuit when the
   * result decides it.
   */
  record(outcome: CircuitOutcome, generation: number): void {
    if (generation !== this.#generation) return;
    if (this.#state === 'closed') {
      if (outcome === 'ignored') return;
      const now = this.#clock.now();
      this.#slide(now);
      const head = this.#head;
      this.#bucketCalls[head]!++;
      const calls = ++this.#calls;
      if (outcome === 'failure') {
        this.#bucketFailures[head]!++;
        this.#failures++;
      }
      if (calls >= this.#volume && this.#failures * 100 >= this.#threshold * calls) this.#open(now);
      return;
    }
    if (this.#state !== 'half-open') return;
    if (outcome === 'success') {
      this.#clear();
      this.#headStart = this.#clock.now();
      this.#transition('closed');
    } else {
      // A failed probe, or one that gave no verdict (cancelled): open for another reset period.
      this.#open(this.#clock.now());
    }
  }

  #open(now: number): void {
    this.#openedAt = now;
    this.#transition('open');
  }

  #transition(state: CircuitState): void {
    this.#state = state;
    this.#generation++;
    this.#onTransition?.(state);
  }

  /** Moves the window to `now`: buckets older than the window are emptied (at most ten steps). */
  #slide(now: number): void {
    const elapsed = now - this.#headStart;
    if (elapsed < this.#bucketMs) return;
    const steps = Math.floor(elapsed / this.#bucketMs);
    this.#headStart += steps * this.#bucketMs;
    if (steps >= BUCKETS) {
      this.#clear();
      return;
    }
    for (let i = 0; i < steps; i++) {
      const head = this.#head + 1 === BUCKETS ? 0 : this.#head + 1;
      this.#head = head;
      this.#calls -= this.#bucketCalls[head]!;
      this.#failures -= this.#bucketFailures[head]!;
      this.#bucketCalls[head] = 0;
      this.#bucketFailures[head] = 0;
    }
  }

  #clear(): void {
    this.#bucketCalls.fill(0);
    this.#bucketFailures.fill(0);
    this.#calls = 0;
    this.#failures = 0;
  }
}
