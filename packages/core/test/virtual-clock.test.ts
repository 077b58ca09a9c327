import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sleep } from '@weft/core';
import { VirtualClock } from '@weft/core/testing';

test('virtual clock fires timers in due order as time advances', async () => {
  const clock = new VirtualClock();
  const order: string[] = [];
  clock.setTimeout(() => order.push('b'), 20);
  clock.setTimeout(() => order.push('a'), 10);
  const handle = clock.setTimeout(() => order.push('never'), 15);
  clock.clearTimeout(handle);
  await clock.advance(15);
  assert.deepEqual(order, ['a']);
  assert.equal(clock.now(), 15);
  await clock.advance(10);
  assert.deepEqual(order, ['a', 'b']);
  assert.equal(clock.pending, 0);
});

test('sleep on a virtual clock resolves after the time passes and rejects on abort', async () => {
  const clock = new VirtualClock();
  let done = false;
  const p = sleep(clock, 100).then(() => {
    done = true;
  });
  await clock.advance(99);
  assert.equal(done, false);
  await clock.advance(1);
  await p;
  assert.equal(done, true);
  const ac = new AbortController();
  const q = sleep(clock, 100, ac.signal);
  ac.abort(new Error('stop'));
  await assert.rejects(q, /stop/);
  assert.equal(clock.pending, 0);
});
