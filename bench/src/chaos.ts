/**
 * `npm run bench:chaos -w @weft/bench` — the chaos schedules of packages/grpc/test/chaos.test.ts,
 * longer and at a higher rate, for the figures in docs/reliability.md: five backends per protocol,
 * one fault at a time in one of them, steady open-loop load, every call with a 1 s deadline and
 * otherwise the default policy. Prints a markdown table per protocol and writes
 * bench/results/chaos.json.
 *
 * Options: `--rate=500` calls per second (half idempotent), `--seconds=10` of load after the fault,
 * `--seeds=1` (each seed picks the faulted backend and seeds the client), `--only=hang,kill`.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  type ChaosFault,
  type ChaosResult,
  failurePercent,
  type MethodFigures,
  runChaos,
} from '../../packages/grpc/test/chaos/run.ts';

const args = process.argv.slice(2);
const value = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const rate = Number(value('rate') ?? 500);
const seconds = Number(value('seconds') ?? 10);
const seeds = Number(value('seeds') ?? 1);
const only = value('only')?.split(',');

const FAULTS: Record<'http' | 'grpc', ChaosFault[]> = {
  http: ['none', 'kill', 'hang', 'reset-before-head', 'reset-after-head', 'slow', 'restart', 'malformed'],
  grpc: ['none', 'kill', 'hang', 'reset-before-head', 'slow', 'restart', 'malformed'],
};

/** Sums figures over seeds. */
function add(a: MethodFigures, b: MethodFigures): MethodFigures {
  const codes = { ...a.codes };
  for (const [k, v] of Object.entries(b.codes)) codes[k] = (codes[k] ?? 0) + v;
  const count = a.deadline.count + b.deadline.count;
  return {
    calls: a.calls + b.calls,
    failures: a.failures + b.failures,
    codes,
    deadline: {
      count,
      minMs:
        a.deadline.count === 0
          ? b.deadline.minMs
          : b.deadline.count === 0
            ? a.deadline.minMs
            : Math.min(a.deadline.minMs, b.deadline.minMs),
      maxMs: Math.max(a.deadline.maxMs, b.deadline.maxMs),
    },
  };
}

const cell = (f: MethodFigures) =>
  `${f.failures} / ${f.calls} (${failurePercent(f).toFixed(2)}%)${
    f.failures
      ? ` ${Object.entries(f.codes)
          .map(([k, v]) => `${k}×${v}`)
          .join(', ')}`
      : ''
  }`;
const deadlineCell = (a: MethodFigures, b: MethodFigures) => {
  const n = a.deadline.count + b.deadline.count;
  if (n === 0) return '–';
  const min = Math.min(...[a, b].filter((f) => f.deadline.count).map((f) => f.deadline.minMs));
  const max = Math.max(a.deadline.maxMs, b.deadline.maxMs);
  return `${n}: ${min.toFixed(0)}–${max.toFixed(0)} ms`;
};

const all: ChaosResult[] = [];
for (const protocol of ['http', 'grpc'] as const) {
  const rows: string[] = [];
  for (const fault of FAULTS[protocol]) {
    if (only && !only.includes(fault)) continue;
    let merged: ChaosResult | undefined;
    const ejections: string[] = [];
    const pinned: number[] = [];
    for (let seed = 1; seed <= seeds; seed++) {
      const r = await runChaos({
        protocol,
        fault,
        ratePerSecond: rate,
        warmMs: 1000,
        faultMs: seconds * 1000,
        deadlineMs: 1000,
        seed,
      });
      all.push(r);
      ejections.push(r.ejectedAfterMs === undefined ? '–' : `${r.ejectedAfterMs} ms`);
      pinned.push(...r.pinnedMs);
      merged = merged
        ? {
            ...merged,
            idempotent: add(merged.idempotent, r.idempotent),
            nonIdempotent: add(merged.nonIdempotent, r.nonIdempotent),
            executedTwice: merged.executedTwice + r.executedTwice,
          }
        : r;
      console.error(`${protocol} ${fault} seed ${seed}: ${JSON.stringify(r)}`);
    }
    const m = merged!;
    rows.push(
      `| ${fault} | ${cell(m.idempotent)} | ${cell(m.nonIdempotent)} | ${deadlineCell(m.idempotent, m.nonIdempotent)} | ${m.executedTwice} | ${ejections.join(', ')} |${pinned.length ? ` pinned to the hung endpoint: ${pinned.join(', ')} ms` : ''}`,
    );
  }
  const [idem, non] = protocol === 'http' ? ['GET', 'POST'] : ['EmptyCall (idempotent)', 'UnaryCall'];
  console.log(
    `\n${protocol === 'http' ? 'HTTP (Express backends)' : 'gRPC (grpc-js backends behind a TCP fault proxy)'}\n`,
  );
  console.log(
    `| fault | ${idem} failed | ${non} failed | ended by deadline | executed twice | out of rotation after |`,
  );
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

const root = fileURLToPath(new URL('../../', import.meta.url));
await mkdir(`${root}bench/results`, { recursive: true });
await writeFile(
  `${root}bench/results/chaos.json`,
  `${JSON.stringify({ rate, seconds, seeds, node: process.version, results: all }, null, 2)}\n`,
);
// The repository's formatter has the last word on layout, so that the committed output passes lint.
spawnSync(`${root}node_modules/.bin/biome`, ['format', '--write', 'bench/results/chaos.json'], {
  cwd: root,
  timeout: 60_000,
});
