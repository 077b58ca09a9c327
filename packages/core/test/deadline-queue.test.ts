import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualClock } from '@weft/core/testing';
import { DeadlineQueue, type Expiring } from '../src/deadline/deadline-queue.ts';

function item(deadline: number, expired: number[]): Expiring {
  return {
    deadline,
    prev: undefined,
    next: undefined,
    queue: undefined,
    expire() {
      expired.push(deadline);
    },
  };
}

test('deadline queue: each member expires at its own deadline, one timer for all', async () => {
  const clock = new VirtualClock();
  const queue = new DeadlineQueue(clock);
  const expired: number[] = [];
  const items = [100, 100, 150, 200, 250].map((d) => item(d, expired));
  for (const i of items) queue.add(i);
  assert.equal(clock.pending, 1, 'one timer, however many calls');
  queue.remove(items[0]!); // the head ends early
  queue.remove(items[3]!); // one in the middle too
  await clock.advance(100);
  assert.deepEqual(expired, [100]);
  await clock.advance(50);
  assert.deepEqual(expired, [100, 150]);
  await clock.advance(100);
  assert.deepEqual(expired, [100, 150, 250], 'the removed one never expires');
  assert.equal(clock.pending, 0, 'no timer once the queue is empty');
});

test('deadline queue: emptied before its deadline, it leaves no timer behind', () => {
  const clock = new VirtualClock();
  const queue = new DeadlineQueue(clock);
  const a = item(100, []);
  queue.add(a);
  queue.remove(a);
  queue.remove(a);
  assert.equal(clock.pending, 0);
});
