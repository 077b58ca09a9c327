/**
 * The calls of one deadline module that run under its own `timeoutMs`, in the order they started.
 * Their deadlines are `start + timeoutMs` with one `timeoutMs`, so the order of starting is the
 * order of expiry: a doubly linked list whose head expires first, watched by ONE timer. A call
 * joins at the tail and leaves from anywhere in O(1) when it ends; the timer is re-armed only when
 * it fires (for the head then in place), so a destination serving thousands of calls a second sets
 * a timer about once per `timeoutMs`, not once per call. Calls with another deadline (a per-call
 * timeout, an inherited deadline) keep a timer of their own.
 */
import type { Clock, TimerHandle } from '../time/clock.ts';

/** A member of the queue: its deadline, and what to do when it passes. */
export interface Expiring {
  deadline: number;
  prev: Expiring | undefined;
  next: Expiring | undefined;
  /** Set while queued: the queue it is in. */
  queue: DeadlineQueue | undefined;
  expire(): void;
}

export class DeadlineQueue {
  readonly #clock: Clock;
  #head: Expiring | undefined;
  #tail: Expiring | undefined;
  #timer: TimerHandle | undefined;
  readonly #fire = () => this.#onTimer();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Adds `item`, whose deadline is no earlier than any queued one's. */
  add(item: Expiring): void {
    item.queue = this;
    item.next = undefined;
    item.prev = this.#tail;
    if (this.#tail) this.#tail.next = item;
    else this.#head = item;
    this.#tail = item;
    if (this.#timer === undefined) this.#arm(item.deadline);
  }

  /** Removes `item` (it ended before its deadline). */
  remove(item: Expiring): void {
    if (item.queue !== this) return;
    item.queue = undefined;
    const { prev, next } = item;
    if (prev) prev.next = next;
    else this.#head = next;
    if (next) next.prev = prev;
    else this.#tail = prev;
    item.prev = item.next = undefined;
    if (this.#head === undefined && this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #arm(deadline: number): void {
    this.#timer = this.#clock.setTimeout(this.#fire, Math.max(0, deadline - this.#clock.now()));
  }

  #onTimer(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    let item = this.#head;
    while (item !== undefined && item.deadline <= now) {
      this.remove(item);
      item.expire();
      item = this.#head;
    }
    if (item !== undefined && this.#timer === undefined) this.#arm(item.deadline);
  }
}
