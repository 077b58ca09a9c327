/**
 * `npm run bench` (full run, ~12 minutes: writes docs/benchmarks.md and bench/results/latest.json)
 * and `npm run bench -- --quick` (CI smoke run, under 2 minutes: writes bench/results/quick.json
 * only). `--only=overhead,sidecar` runs some scenarios; `--rounds=N` overrides the round count;
 * `--note="…"` adds a remark (e.g. on the machine's state) to the page.
 *
 * Exit status: 0 when every scenario ran (goals met or not: a missed goal is reported, not fatal),
 * 1 when a scenario crashed or the run overran its time limit.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { BenchContext, Scenario, ScenarioResult } from './lib/context.ts';
import { machineInfo } from './lib/machine.ts';
import { installCleanup, killAll } from './lib/proc.ts';
import { renderReport } from './lib/report.ts';
import { breakerCost } from './scenarios/breaker-cost.ts';
import { configPropagation } from './scenarios/config-propagation.ts';
import { grpcOverhead } from './scenarios/grpc-overhead.ts';
import { memory } from './scenarios/memory.ts';
import { mirror } from './scenarios/mirror.ts';
import { overhead } from './scenarios/overhead.ts';
import { pickCost } from './scenarios/pick-cost.ts';
import { retryAmplification } from './scenarios/retry-amplification.ts';
import { routeMatch } from './scenarios/route-match.ts';
import { sidecar } from './scenarios/sidecar.ts';
import { slowReplica } from './scenarios/slow-replica.ts';
import { splitAccuracy } from './scenarios/split-accuracy.ts';
import { summaryCost } from './scenarios/summary-cost.ts';
import { trafficWindow } from './scenarios/traffic-window.ts';

const SCENARIOS: Scenario[] = [
  overhead,
  sidecar,
  slowReplica,
  retryAmplification,
  configPropagation,
  pickCost,
  memory,
  grpcOverhead,
  breakerCost,
  routeMatch,
  splitAccuracy,
  mirror,
  summaryCost,
  trafficWindow,
];

const args = process.argv.slice(2);
const flag = (name: string) => args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
const value = (name: string) => flag(name)?.split('=').slice(1).join('=') || undefined;
const quick = flag('quick') !== undefined;
const only = value('only')?.split(',');
const unknown = only?.filter((id) => !SCENARIOS.some((s) => s.id === id));
if (unknown?.length) {
  console.error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  process.exit(2);
}
const note = value('note');
const rounds = Number(value('rounds') ?? (quick ? 1 : 5));
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) {
  console.error('--rounds must be an integer within 1–50');
  process.exit(2);
}

const started = Date.now();
const stamp = () => `${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s`;
const ctx: BenchContext = {
  quick,
  rounds,
  scale: quick ? 0.25 : 1,
  profile: !quick,
  log: (message) => console.log(`[${stamp()}] ${message}`),
};

installCleanup();
// Bounded: a hung scenario must not hang CI.
const limitMs = quick ? 150_000 : 20 * 60_000;
const watchdog = setTimeout(() => {
  console.error(`bench: over the ${limitMs / 1000} s limit, stopping`);
  void killAll().finally(() => process.exit(1));
}, limitMs);
watchdog.unref();

const root = fileURLToPath(new URL('../../', import.meta.url));
const machine = machineInfo();
console.log(
  `Weft bench (${quick ? 'quick' : 'full'}): ${machine.cores} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}`,
);

const results: ScenarioResult[] = [];
const crashes: { id: string; error: string }[] = [];
for (const s of SCENARIOS) {
  if (only && !only.includes(s.id)) continue;
  ctx.log(`── ${s.title}`);
  try {
    const result = await s.run(ctx);
    results.push(result);
    for (const g of result.goals) ctx.log(`   ${g.met ? 'MET   ' : 'MISSED'} ${g.text}: ${g.measured}`);
  } catch (error) {
    const message = (error as Error).stack ?? String(error);
    crashes.push({ id: s.id, error: message });
    console.error(`bench: scenario ${s.id} crashed: ${message}`);
  } finally {
    await killAll();
  }
}

const finishedAt = new Date();
const durationS = (Date.now() - started) / 1000;
const json = {
  mode: quick ? 'quick' : 'full',
  finishedAt: finishedAt.toISOString(),
  durationS,
  machine,
  loadAverageAtEnd: loadavg().map((x) => Math.round(x * 100) / 100),
  rounds,
  ...(note ? { note } : {}),
  results,
  crashes,
};
await mkdir(`${root}bench/results`, { recursive: true });
await writeAtomic(
  `${root}bench/results/${quick ? 'quick' : 'latest'}.json`,
  `${JSON.stringify(json, null, 2)}\n`,
);
if (!quick && !only) {
  const { markdown, svg } = renderReport(json);
  await mkdir(`${root}docs`, { recursive: true });
  await writeAtomic(`${root}bench/results/chart.svg`, svg);
  await writeAtomic(`${root}docs/benchmarks.md`, markdown);
  // The repository's formatter has the last word on layout (table alignment, JSON arrays), so that
  // the committed output passes its lint.
  const biome = `${root}node_modules/.bin/biome`;
  const files = ['docs/benchmarks.md', 'bench/results/latest.json', 'bench/results/chart.svg'];
  const fmt = spawnSync(biome, ['format', '--write', ...files], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (fmt.status !== 0)
    ctx.log(`biome format did not run cleanly: ${(fmt.stderr || fmt.stdout || '').slice(0, 300)}`);
  ctx.log('wrote docs/benchmarks.md, bench/results/chart.svg and bench/results/latest.json');
}
const met = results.flatMap((r) => r.goals).filter((g) => g.met).length;
const all = results.flatMap((r) => r.goals).length;
ctx.log(`done in ${durationS.toFixed(0)} s: ${met}/${all} goals met, ${crashes.length} crashed`);
process.exit(crashes.length ? 1 : 0);

/** Writes through a temporary file and a rename, so a crash never leaves half a document. */
async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}
