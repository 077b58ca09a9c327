/**
 * A process of config-service watchers: argv[2] is JSON `{ url, token, count }`. Starts `count`
 * config clients (the core client, one SSE stream each), prints `{ ready }` once all have their first
 * snapshot, then answers stdin lines `{ revision }` with `{ revision, times }`: the wall-clock time
 * (ms since the epoch, sub-ms precision) at which each client applied that revision.
 */
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createConfigClient } from '@weft/core/config';

const { url, token, count } = JSON.parse(process.argv[2]!) as { url: string; token: string; count: number };
const now = () => performance.timeOrigin + performance.now();
const applied = new Map<number, number[]>();
const waiting = new Map<number, () => void>();

const clients = Array.from({ length: count }, () => {
  const client = createConfigClient({ urls: url, token, startTimeoutMs: 60_000 });
  let last = -1; // the first call is the initial snapshot, not a change
  client.subscribe(({ revision }) => {
    const t = now();
    // One entry per revision this client passed (a client could receive several in one batch).
    for (let r = last + 1; last >= 0 && r <= revision; r++) {
      let list = applied.get(r);
      if (!list) {
        list = [];
        applied.set(r, list);
      }
      list.push(t);
      if (list.length === count) waiting.get(r)?.();
    }
    last = revision;
  });
  return client;
});
await Promise.all(clients.map((c) => c.ready()));
process.stdout.write(`${JSON.stringify({ ready: count })}\n`);

const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  const { revision } = JSON.parse(line) as { revision: number };
  if ((applied.get(revision)?.length ?? 0) < count) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 10_000);
      waiting.set(revision, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  waiting.delete(revision);
  process.stdout.write(`${JSON.stringify({ revision, times: applied.get(revision) ?? [] })}\n`);
});
rl.on('close', async () => {
  await Promise.all(clients.map((c) => c.close()));
  process.exit(0);
});
process.on('SIGTERM', () => process.exit(0));
