/** docs/benchmarks.md and its chart, from one full run's results. */
import type { Bar, Panel } from './chart.ts';
import { renderChart } from './chart.ts';
import type { ScenarioResult } from './context.ts';
import type { MachineInfo } from './machine.ts';

export interface RunRecord {
  mode: string;
  finishedAt: string;
  durationS: number;
  machine: MachineInfo;
  loadAverageAtEnd?: number[];
  rounds: number;
  note?: string;
  results: ScenarioResult[];
  crashes: { id: string; error: string }[];
}

type Variants = { name: string; rps: number; p99: number; p999: number }[];

function panels(results: readonly ScenarioResult[]): Panel[] {
  const out: Panel[] = [];
  const by = (id: string) => results.find((r) => r.id === id)?.figures as Record<string, unknown> | undefined;
  const overhead = by('overhead');
  if (overhead?.variants)
    out.push({
      title: '1. Overhead: throughput against raw undici',
      unit: 'req/s, higher is better',
      bars: (overhead.variants as Variants).map((v) => ({
        label: v.name,
        value: v.rps,
        weft: v.name.startsWith('Weft'),
      })),
    });
  const sidecar = by('sidecar');
  if (sidecar?.variants)
    out.push({
      title: '2. Throughput: Weft direct vs an HAProxy sidecar pair',
      unit: 'req/s, higher is better',
      bars: (sidecar.variants as Variants).map((v) => ({
        label: v.name,
        value: v.rps,
        weft: v.name.startsWith('Weft'),
      })),
    });
  const slow = by('slow-replica');
  if (slow) {
    const bars: Bar[] = [];
    for (const kind of ['round-robin', 'p2c-least-loaded', 'p2c-ewma'])
      for (const set of ['healthy', 'one slow']) {
        const f = slow[`${kind} / ${set}`] as { p999: number } | undefined;
        if (f) bars.push({ label: `${kind}, ${set}`, value: f.p999, weft: kind === 'p2c-ewma' });
      }
    out.push({ title: '3. One slow replica of ten: p99.9 latency', unit: 'ms, lower is better', bars });
  }
  const retry = by('retry-amplification');
  if (retry?.chain) {
    const chain = retry.chain as Record<string, { perUser: number }[]>;
    const med = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1] ?? Number.NaN;
    out.push({
      title: '4. Total outage behind 3 hops: requests reaching the leaf per user request',
      unit: 'lower is better',
      bars: [
        { label: 'naive, 3 retries per hop', value: med(chain.naive?.map((r) => r.perUser) ?? []) },
        { label: 'Weft default stack', value: med(chain.weft?.map((r) => r.perUser) ?? []), weft: true },
        {
          label: 'Weft, breakers off',
          value: med(chain['weft-no-breaker']?.map((r) => r.perUser) ?? []),
          weft: true,
        },
      ],
      goal: { value: 1.5, label: 'goal 1.5' },
    });
  }
  const config = by('config-propagation');
  if (config?.writes) {
    const writes = config.writes as { p50: number; p99: number; max: number }[];
    const med = (f: (w: (typeof writes)[number]) => number) =>
      writes.map(f).sort((a, b) => a - b)[writes.length >> 1] ?? Number.NaN;
    out.push({
      title: `5. Config propagation to ${config.watchers} watchers`,
      unit: 'ms after the write, lower is better',
      bars: [
        { label: 'p50', value: med((w) => w.p50), weft: true },
        { label: 'p99', value: med((w) => w.p99), weft: true },
        { label: 'max', value: med((w) => w.max), weft: true },
      ],
      goal: { value: 200, label: 'goal p99 200' },
    });
  }
  const pick = by('pick-cost');
  if (pick?.nsPerPick)
    out.push({
      title: '6. Balancer pick cost',
      unit: 'ns per pick, lower is better',
      bars: Object.entries(pick.nsPerPick as Record<string, number>)
        .filter(([k]) => !k.startsWith('weighted'))
        .map(([k, v]) => ({
          label: `${k.replace(' × ', ', ')} endpoints`,
          value: v,
          weft: true,
        })),
    });
  const mem = by('memory');
  if (mem?.raw) {
    const med = (xs: { rss: number }[] | undefined) =>
      (xs ?? []).map((x) => x.rss / 2 ** 20).sort((a, b) => a - b)[(xs?.length ?? 0) >> 1] ?? Number.NaN;
    out.push({
      title: '7. RSS of a service with clients to 100 endpoints',
      unit: 'MiB, lower is better',
      bars: [
        { label: 'service, no clients', value: med(mem.baseline as { rss: number }[]) },
        { label: 'service, undici loaded', value: med(mem['load:undici'] as { rss: number }[]) },
        { label: 'service, Weft loaded', value: med(mem['weft-loaded'] as { rss: number }[]), weft: true },
        { label: 'raw undici, 100 Pools', value: med(mem.raw as { rss: number }[]) },
        { label: 'Weft, one client', value: med(mem.weft as { rss: number }[]), weft: true },
      ],
    });
  }
  const grpc = by('grpc-overhead');
  if (grpc?.variants)
    out.push({
      title: '8. gRPC overhead: throughput against plain grpc-js',
      unit: 'calls/s, higher is better',
      bars: (grpc.variants as Variants).map((v) => ({
        label: v.name,
        value: v.rps,
        weft: v.name.startsWith('Weft'),
      })),
    });
  const breaker = by('breaker');
  if (breaker?.addedNsPerCall)
    out.push({
      title: '9. Circuit breaker cost per call (closed, every call a success)',
      unit: 'ns added per call, lower is better',
      bars: Object.entries(breaker.addedNsPerCall as Record<string, number>)
        .filter(([k]) => !k.startsWith('bare'))
        .map(([k, v]) => ({
          label: k.replace(/`/g, '').split(/ \(|, /)[0]!,
          value: v,
          weft: k.startsWith('Weft'),
        })),
      goal: { value: 1_000, label: 'goal 1 µs' },
    });
  const match = by('route-match');
  if (match?.nsPerMatch) {
    const ns = match.nsPerMatch as Record<string, number>;
    const names: Record<string, string> = { prefix: 'exact/prefix', mixed: 'mixed' };
    out.push({
      title: '10. Route match cost (indexed tables)',
      unit: 'ns per match, lower is better',
      bars: Object.entries(ns)
        .filter(([k]) => !k.startsWith('regex'))
        .map(([k, v]) => {
          const [kind, rules] = k.split(' × ');
          return {
            label: `${names[kind!] ?? kind}, ${rules} rule${rules === '1' ? '' : 's'}`,
            value: v,
            weft: true,
          };
        }),
      goal: { value: 1_000, label: 'goal 1 µs' },
    });
  }
  const mirror = by('mirror');
  if (mirror?.p99RatioToNoMirror) {
    const p99 = (name: string) => (mirror[name] as { p99: number } | undefined)?.p99 ?? Number.NaN;
    out.push({
      title: '12. Primary p99 at 1,000 req/s, all traffic mirrored to a 10× slower subset',
      unit: 'ms, lower is better',
      bars: [
        { label: 'no mirror', value: p99('no mirror') },
        { label: 'mirror 100% to v2', value: p99('mirror 100% to v2'), weft: true },
        { label: 'no mirror, copies sent by hand', value: p99('no mirror, same copies sent by hand') },
      ],
    });
  }
  return out;
}

export function renderReport(run: RunRecord): { markdown: string; svg: string } {
  const svg = renderChart('Weft benchmarks (one run; Weft in blue)', panels(run.results));
  const m = run.machine;
  const goals = run.results.flatMap((r) => r.goals.map((g) => ({ r, g })));
  const met = goals.filter((x) => x.g.met).length;
  const lines: string[] = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench` (bench/src/lib/report.ts); edits here are overwritten by the next run. -->',
    '',
    'A mesh is only worth having if it costs less than the problems it solves. Published Istio',
    'benchmarks put a sidecar pair at 2–3 ms of p99 latency and 40–60 MB per pod; Weft lives in the',
    'process to cost far less. This page measures that, as **ratios against the alternatives a user would',
    'pick, taken in one run on one machine**: absolute figures from a shared machine say little, and',
    'figures from different days should never be compared.',
    '',
    `**${met} of ${goals.length} goals met** in this run (${run.finishedAt.slice(0, 16).replace('T', ' ')} UTC, ${Math.round(run.durationS)} s).`,
    '',
  ];
  if (run.note) lines.push(`> ${run.note}`, '');
  lines.push('| scenario | goal | measured | |', '| --- | --- | --- | --- |');
  for (const { r, g } of goals)
    lines.push(
      `| ${r.title.replace(/^\d+\. /, '')} | ${g.text} | ${g.measured} | ${g.met ? 'met' : '**missed**'} |`,
    );
  if (run.crashes.length) {
    lines.push('', '**Crashed scenarios:**', '');
    for (const c of run.crashes) lines.push(`- ${c.id}: \`${c.error.split('\n')[0]}\``);
  }
  lines.push(
    '',
    '![Benchmark chart](../bench/results/chart.svg)',
    '',
    '## Machine and commands',
    '',
    `- CPU: ${m.cores} × ${m.cpuModel}; memory ${m.memoryGiB} GiB; ${m.os}; Node ${m.node}.`,
    `- Load average (1/5/15 min) at the start: ${m.loadAverageAtStart.join(' / ')}${run.loadAverageAtEnd ? `; at the end: ${run.loadAverageAtEnd.join(' / ')}` : ''}.`,
    `- ${run.rounds} rounds per comparison unless a scenario says otherwise; every figure is the median across rounds.`,
    '',
    '```sh',
    'npm ci',
    'npm run bench                      # full run (~12 min): rewrites this page and bench/results/',
    'npm run bench -- --quick           # smoke run (< 2 min, CI): bench/results/quick.json only',
    'npm run bench -- --only=overhead,sidecar --rounds=3   # some scenarios (no page rewrite)',
    'npm run bench -- --only=grpc-overhead                 # the gRPC overhead scenario alone',
    '```',
    '',
    "The bench installs Debian's `haproxy` itself when it is missing and it runs as root (it says so),",
    'and otherwise reports scenario 2 as not run.',
    '',
    '## Method',
    '',
    '- Backends, proxies, hops and watchers run in their own processes, on 127.0.0.1, ports picked by',
    '  the OS; the client under test runs in the bench process. Every child is killed at the end, also',
    '  on an error or Ctrl-C; every loop is bounded in time and count.',
    '- Variants are interleaved round by round, in a rotating order, so drift on the machine hits them',
    '  all alike; each variant is warmed up first. Ratios and differences are taken within a round, then',
    '  the median across rounds is reported.',
    '- Throughput: a closed loop with a fixed number of requests in flight. Latency: a paced open loop',
    '  at a rate all variants sustain (latency measured from each send; no coordinated omission from',
    '  a closed loop). Per-request latencies go into a preallocated array, sorted at the end',
    '  (nearest-rank percentiles).',
    '- Client CPU per request (`process.cpuUsage`) is the overhead figure least disturbed by the',
    '  backends sharing the cores.',
    '',
  );
  for (const r of run.results) {
    lines.push(`## ${r.title}`, '', r.setup, '');
    for (const t of r.tables) lines.push(t, '');
    for (const g of r.goals) lines.push(`- ${g.met ? 'Met' : '**Missed**'}: ${g.text} — ${g.measured}.`);
    lines.push('');
    for (const n of r.notes) lines.push(n, '');
    if (r.profile) lines.push("### Where the client's time goes", '', r.profile, '');
  }
  return {
    markdown: `${lines
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd()}\n`,
    svg,
  };
}
