/**
 * Fixed versus adaptive (gradient) concurrency limits on a simulated server, in simulated time:
 * 8 workers, exponential service times (mean 10 ms, so a capacity of 800 requests/s), Poisson
 * arrivals, callers that give up after 100 ms. A request admitted beyond what the workers take
 * waits in a FIFO queue. Goodput counts the responses that arrived before their caller gave up.
 * Deterministic (seeded randomness), and fast: no timers, no sockets.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ConcurrencyLimit, fixedLimit, gradientLimit } from '@weft/core';

const WORKERS = 8;
const MEAN_SERVICE_MS = 10;
const DEADLINE_MS = 100;
const SECONDS = 20;

interface Outcome {
  goodput: number;
  shedPercent: number;
  p99Ms: number;
  finalLimit: number;
}

/** A small seeded generator (mulberry32), so every run is the same. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function simulate(limit: ConcurrencyLimit, ratePerSecond: number): Outcome {
  const random = seeded(42);
  const exp = (mean: number) => -Math.log(1 - random()) * mean;
  const workers: number[] = new Array(WORKERS).fill(0); // when each worker is next free
  const pending: { finish: number; arrival: number }[] = []; // admitted, not yet released
  const latencies: number[] = [];
  let arrivals = 0;
  let shed = 0;
  let good = 0;
  const releaseUntil = (t: number) => {
    pending.sort((x, y) => x.finish - y.finish);
    while (pending.length > 0 && pending[0]!.finish <= t) {
      const { finish, arrival } = pending.shift()!;
      const rtt = finish - arrival;
      if (rtt <= DEADLINE_MS) {
        good++;
        latencies.push(rtt);
      }
      limit.release(rtt, rtt > DEADLINE_MS ? 'dropped' : 'success');
    }
  };
  for (let t = exp(1000 / ratePerSecond); t < SECONDS * 1000; t += exp(1000 / ratePerSecond)) {
    arrivals++;
    releaseUntil(t);
    if (!limit.tryAcquire()) {
      shed++;
      continue;
    }
    let w = 0;
    for (let i = 1; i < WORKERS; i++) if (workers[i]! < workers[w]!) w = i;
    const finish = Math.max(t, workers[w]!) + exp(MEAN_SERVICE_MS);
    workers[w] = finish;
    pending.push({ finish, arrival: t });
  }
  releaseUntil(Number.POSITIVE_INFINITY);
  latencies.sort((x, y) => x - y);
  return {
    goodput: Math.round(good / SECONDS),
    shedPercent: Math.round((shed / arrivals) * 1000) / 10,
    p99Ms: Math.round(latencies[Math.floor(latencies.length * 0.99)] ?? 0),
    finalLimit: limit.limit,
  };
}

describe('concurrency limits under overload (simulated)', () => {
  const capacity = (WORKERS * 1000) / MEAN_SERVICE_MS;
  const results: Record<string, Record<string, Outcome>> = {};
  for (const load of [0.5, 1.5, 3]) {
    const rate = capacity * load;
    results[`${load}×`] = {
      'fixed 1000 (default)': simulate(fixedLimit({ limit: 1000 }), rate),
      'fixed 16 (hand-tuned)': simulate(fixedLimit({ limit: 16 }), rate),
      'gradient (defaults)': simulate(gradientLimit(), rate),
    };
  }

  test('report', () => {
    for (const [load, row] of Object.entries(results))
      for (const [name, o] of Object.entries(row))
        console.log(
          `[admission-sim] load ${load} capacity, ${name}: goodput ${o.goodput}/s, shed ${o.shedPercent}%, ` +
            `p99 ${o.p99Ms} ms, final limit ${o.finalLimit}`,
        );
  });

  test('under light load nothing is shed', () => {
    for (const o of Object.values(results['0.5×']!)) assert.ok(o.shedPercent < 1, JSON.stringify(o));
  });

  test('in overload the gradient limit keeps goodput near capacity, where a loose fixed limit collapses', () => {
    for (const load of ['1.5×', '3×']) {
      const row = results[load]!;
      const loose = row['fixed 1000 (default)']!;
      const adaptive = row['gradient (defaults)']!;
      assert.ok(loose.goodput < capacity * 0.2, `${load} loose fixed: ${JSON.stringify(loose)}`);
      assert.ok(adaptive.goodput > capacity * 0.8, `${load} gradient: ${JSON.stringify(adaptive)}`);
      assert.ok(adaptive.p99Ms < DEADLINE_MS, `${load} gradient p99: ${adaptive.p99Ms}`);
    }
  });
});
