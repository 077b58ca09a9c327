/**
 * The base of a protocol's attempt object (its "exchange"): what every transport needs between
 * sending an attempt and the end of its response, whatever the protocol.
 *
 * - `head`: a promise settled once — resolved with the exchange when the response is far enough
 *   along to classify, or rejected with a typed error before that;
 * - `onDone(fn)` callbacks, run once when the response is over (body finished, failed or abandoned),
 *   and at once when registered after that;
 * - following the attempt's abort signal (see {@link SignalFollower}: the exchange is the listener);
 * - `discard()`, for a response the retry filter will not use.
 *
 * The protocol subclass (HTTP's undici handler, gRPC's call listener) says when the head arrives
 * and when the response ends; bindings whose responses are exchanges use {@link discardExchange}
 * and {@link onExchangeDone} as their `discard` and `onBodyDone`.
 */
import { SignalFollower } from '../stack/signal-follower.ts';

export abstract class AttemptExchange<Self = unknown> extends SignalFollower {
  /** Resolves when the response head arrives (the subclass decides when); rejects with a typed error before that. */
  readonly head: Promise<Self>;
  #resolve!: (value: Self) => void;
  #reject!: (reason: unknown) => void;
  #headSettled = false;
  #done = false;
  #onDone: (() => void)[] | undefined;

  constructor() {
    super();
    this.head = new Promise<Self>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** True once `head` was resolved or rejected. */
  get headSettled(): boolean {
    return this.#headSettled;
  }

  /** True once the response is over ({@link AttemptExchange.finish} ran). */
  get done(): boolean {
    return this.#done;
  }

  /** Calls `fn` once the response is finished, failed or abandoned; at once if it already is. */
  onDone(fn: () => void): void {
    if (this.#done) fn();
    else if (this.#onDone) this.#onDone.push(fn);
    else this.#onDone = [fn];
  }

  /** Throws away a response that will not be used (its attempt is being retried). */
  abstract discard(): void;

  /** Resolves `head` with `value`, unless it is already settled. */
  protected resolveHead(value: Self): void {
    if (this.#headSettled) return;
    this.#headSettled = true;
    this.#resolve(value);
  }

  /** Rejects `head` with `reason`, unless it is already settled. */
  protected rejectHead(reason: unknown): void {
    if (this.#headSettled) return;
    this.#headSettled = true;
    this.#reject(reason);
  }

  /** Ends the exchange once: stops following the signal and runs the `onDone` callbacks. */
  protected finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.unwatch();
    const fns = this.#onDone;
    this.#onDone = undefined;
    if (fns) for (const fn of fns) fn();
  }
}

/** A binding's `discard` for exchange responses. */
export function discardExchange(response: Pick<AttemptExchange, 'discard'>): void {
  response.discard();
}

/** A binding's `onBodyDone` for exchange responses. */
export function onExchangeDone(response: Pick<AttemptExchange, 'onDone'>, done: () => void): void {
  response.onDone(done);
}
