/**
 * A bounded soak (60 s, as the issue that asked for it set for CI) of the HTTP → gRPC → HTTP chain: no call fails, and while the load stays
 * the same, nothing grows — heap after GC, file descriptors, timers and sockets. The bench runs the
 * same chain for ten minutes (`npm run bench:soak -w @weft/bench`), figures in docs/reliability.md.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSoak } from './soak/chain.ts';

test('HTTP → gRPC → HTTP under steady load: 0 errors, heap, fds and timers flat', async () => {
  const samples = await runSoak({ seconds: 60, ratePerSecond: 100, sampleEveryMs: 10_000 });
  const during = samples.slice(0, -1);
  const first = during[0]!;
  const last = during.at(-1)!;
  const what = JSON.stringify(samples);
  assert.ok(last.calls >= 4500, `load was sent: ${what}`);
  assert.equal(samples.at(-1)!.errors, 0, what);
  assert.ok(last.heapMiB <= first.heapMiB + 15, `heap after GC flat: ${what}`);
  // Keep-alive connections opened while a loaded machine stalls stay open idle (the pools cap them),
  // so a few dozen more descriptors are not a leak; a leak of one per 150 of the 6,000 calls would be.
  if (first.fds >= 0) assert.ok(last.fds <= first.fds + 40, `fds flat: ${what}`);
  for (const kind of ['Timeout', 'TCPSocketWrap'])
    assert.ok((last.resources[kind] ?? 0) <= (first.resources[kind] ?? 0) + 20, `${kind} flat: ${what}`);
});
