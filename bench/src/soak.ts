/**
 * `npm run bench:soak -w @weft/bench` — the HTTP → gRPC → HTTP chain of
 * packages/grpc/test/soak.test.ts under steady load for ten minutes (`--seconds=600`, `--rate=200`),
 * sampled every 30 s: calls, errors, heap after GC, file descriptors, timers and sockets. Prints a
 * markdown table for docs/reliability.md.
 */
import { runSoak } from '../../packages/grpc/test/soak/chain.ts';

const args = process.argv.slice(2);
const value = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const seconds = Number(value('seconds') ?? 600);
const rate = Number(value('rate') ?? 200);
const every = Number(value('every') ?? 30) * 1000;

const samples = await runSoak({ seconds, ratePerSecond: rate, sampleEveryMs: every });
console.log(`\nHTTP → gRPC → HTTP, ${rate} calls/s offered for ${seconds} s (last row: after the load)\n`);
console.log('| at (s) | calls | errors | heap after GC (MiB) | fds | timers | sockets |');
console.log('|---|---|---|---|---|---|---|');
for (const s of samples)
  console.log(
    `| ${s.at} | ${s.calls} | ${s.errors} | ${s.heapMiB} | ${s.fds} | ${s.resources.Timeout ?? 0} | ${s.resources.TCPSocketWrap ?? 0} |`,
  );
