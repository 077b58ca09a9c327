/**
 * The base of a transport's attempt object that must act when the attempt's signal aborts. The
 * object itself is the abort listener (`handleEvent`), so following a signal costs no closure per
 * attempt, and the reason it is given is already typed: Weft's own (deadline, per-try timeout) as
 * is, a caller's abort as `WEFT_CANCELLED` (see `abortError`).
 */
import { abortError, type WeftError } from '../errors/errors.ts';
import type { AttemptHandle } from './call.ts';

export abstract class SignalFollower implements AttemptHandle {
  #signal: AbortSignal | undefined;

  /** Follows `signal`: `onAbort` runs at once if it has already aborted, or when it does. */
  watch(signal: AbortSignal | undefined): void {
    if (!signal) return;
    this.#signal = signal;
    if (signal.aborted) this.handleEvent();
    else signal.addEventListener('abort', this);
  }

  /** The abort listener. */
  handleEvent(): void {
    this.onAbort(abortError(this.#signal?.reason));
  }

  /** Ends the attempt now with `reason`, as its signal would (the adaptive per-try timeout). */
  abortAttempt(reason: WeftError): void {
    this.unwatch();
    this.onAbort(reason);
  }

  /** Stops following the signal (the attempt is over). */
  protected unwatch(): void {
    this.#signal?.removeEventListener('abort', this);
  }

  /** What the attempt does when its signal aborts. */
  protected abstract onAbort(reason: WeftError): void;
}
