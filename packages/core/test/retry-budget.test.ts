import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RETRY_BUDGET_DEFAULTS, retryBudget } from '@weft/core';
import { VirtualClock } from '@weft/core/testing';

function drain(budget: { tryWithdraw(): boolean }): number {
  let n = 0;
  while (budget.tryWithdraw()) n++;
  return n;
}

describe('retry budget', () => {
  test('defaults: 20% of requests plus a reserve of 10/s over 10 s (Finagle)', () => {
    assert.deepEqual(RETRY_BUDGET_DEFAULTS, { percent: 20, minRetriesPerSecond: 10, ttlMs: 10_000 });
    const clock = new VirtualClock();
    const budget = retryBudget({}, clock);
    assert.equal(budget.balance(), 100, 'the reserve alone: 10/s × 10 s');
    for (let i = 0; i < 50; i++) budget.deposit();
    assert.equal(budget.balance(), 110);
    assert.equal(drain(budget), 110);
    assert.equal(budget.tryWithdraw(), false);
  });

  test('percent: one retry per five requests without a reserve', () => {
    const clock = new VirtualClock();
    const budget = retryBudget({ percent: 20, minRetriesPerSecond: 0 }, clock);
    assert.equal(budget.tryWithdraw(), false, 'nothing deposited, no reserve: no retry');
    for (let i = 0; i < 4; i++) budget.deposit();
    assert.equal(budget.tryWithdraw(), false, '4 × 20% = 0.8 is less than one retry');
    budget.deposit();
    assert.equal(budget.tryWithdraw(), true);
    assert.equal(budget.tryWithdraw(), false);
    for (let i = 0; i < 10; i++) budget.deposit();
    assert.equal(drain(budget), 2);
  });

  test('the reserve alone, for clients with little traffic', () => {
    const budget = retryBudget({ percent: 0, minRetriesPerSecond: 2, ttlMs: 5000 }, new VirtualClock());
    assert.equal(drain(budget), 10);
  });

  test('deposits and withdrawals expire after the window slides past them', async () => {
    const clock = new VirtualClock(0);
    const budget = retryBudget({ percent: 50, minRetriesPerSecond: 0, ttlMs: 10_000 }, clock);
    for (let i = 0; i < 10; i++) budget.deposit(); // worth 5 retries, in the slice [0, 1000)
    await clock.advance(5000);
    for (let i = 0; i < 4; i++) budget.deposit(); // worth 2 more, in the slice [5000, 6000)
    assert.equal(budget.balance(), 7);
    assert.equal(budget.tryWithdraw(), true); // spent at 5000
    assert.equal(budget.balance(), 6);
    await clock.advance(4999); // t = 9999: everything still counts
    assert.equal(budget.balance(), 6);
    await clock.advance(1); // t = 10000: the first slice expires
    assert.equal(budget.balance(), 1, '2 from the later deposits − 1 withdrawal');
    await clock.advance(5000); // t = 15000: the rest expires, the withdrawal too
    assert.equal(budget.balance(), 0);
    for (let i = 0; i < 2; i++) budget.deposit();
    assert.equal(budget.balance(), 1);
    await clock.advance(1_000_000); // a long idle gap clears everything
    assert.equal(budget.balance(), 0);
  });

  test('a clock not starting at zero works', async () => {
    const clock = new VirtualClock(123_456.7);
    const budget = retryBudget({ percent: 100, minRetriesPerSecond: 0, ttlMs: 1000 }, clock);
    budget.deposit();
    assert.equal(budget.balance(), 1);
    await clock.advance(1000);
    assert.equal(budget.balance(), 0);
  });

  test('options are validated with the option named', () => {
    const clock = new VirtualClock();
    assert.throws(() => retryBudget({ percent: -1 }, clock), /retry\.budget\.percent: must be within 0–1000/);
    assert.throws(
      () => retryBudget({ minRetriesPerSecond: -1 }, clock),
      /retry\.budget\.minRetriesPerSecond/,
    );
    assert.throws(() => retryBudget({ ttlMs: 0 }, clock), /retry\.budget\.ttlMs: must be ≥ 1/);
  });
});
