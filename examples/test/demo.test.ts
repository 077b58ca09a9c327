/**
 * The shop demo, headless, as a child process.
 *
 * - `npm start -- --seconds 5 --no-tty`: traffic must have flowed through every service (the load
 *   generator → frontend, frontend → catalog over HTTP, frontend → inventory over gRPC, every v1
 *   instance getting calls and none for catalog v2, which the Route keeps dark), with no failed
 *   request and no process exiting on its own; every service must export its metrics on its
 *   Prometheus endpoint while it runs; afterwards no process of the demo may be left running.
 * - The tour's traffic-control steps (`--steps …`): each is checked on what it measured — the
 *   mirrored copies, the header and override routes, the canary's 10/50/100% split within a
 *   statistical tolerance, the injected delay and its removal.
 * - The tour's rollout steps: the Rollout of catalog v2 is promoted (weight 100, every interval
 *   passed); the broken v3's is rolled back by the config service (weight 0, failed, with a reason
 *   naming v3's success rate), and user requests went on during it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ROLLOUT_STEPS } from '../shop/rollout-tour.ts';
import { type Measured, TRAFFIC_STEPS } from '../shop/traffic-tour.ts';

const start = fileURLToPath(new URL('../start.ts', import.meta.url));

interface Summary {
  readySeconds: number;
  totals: Record<string, { requests: number; failures: number }>;
  calls: Record<string, Record<string, number>>;
  versions: Record<string, Record<string, number>>;
  errors: Record<string, Record<string, number>>;
  tour: Record<string, unknown>;
  unexpectedExits: string[];
  pids: number[];
}

/** Instances that must get calls (catalog-3, v2, gets none: the Route keeps it dark). */
const INSTANCES = {
  frontend: ['frontend'],
  catalog: ['catalog-1', 'catalog-2'],
  inventory: ['inventory-1', 'inventory-2'],
};

/** Metrics each service must export (through the OpenTelemetry SDK and its Prometheus exporter). */
const METRICS: Record<string, string[]> = {
  loadgen: ['weft_client_calls_total', 'http_client_request_duration_count'],
  frontend: ['weft_client_calls_total', 'http_server_request_duration_count', 'rpc_client_duration_count'],
  'catalog-1': ['http_server_request_duration_count'],
  'catalog-2': ['http_server_request_duration_count'],
  'inventory-1': ['rpc_server_duration_count'],
};

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Fetches `/metrics` of every service listed in the demo's "where to look" lines. */
async function scrape(out: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const [, instance, port] of out.matchAll(
    /^ {2}(\S+) .*metrics http:\/\/127\.0\.0\.1:(\d+)\/metrics/gm,
  )) {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
    result[instance!] = res.ok ? await res.text() : '';
  }
  return result;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the demo with `args` until it exits (killed after `limitMs`); `onOutput` sees the output so
 * far at each chunk. Resolves with its output and the parsed summary line.
 */
async function runDemo(
  args: readonly string[],
  limitMs: number,
  onOutput: (out: string) => void = () => {},
): Promise<{ out: string; summary: Summary }> {
  const child = spawn(
    process.execPath,
    ['--conditions=weft-source', '--disable-warning=ExperimentalWarning', start, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
    onOutput(out);
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  try {
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, `the demo exited with ${code}\n${out}\n${err}`);
  } finally {
    clearTimeout(killer);
  }
  const line = out.split('\n').find((l) => l.startsWith('summary '));
  assert.ok(line, `no summary line in the output:\n${out}\n${err}`);
  return { out, summary: JSON.parse(line.slice('summary '.length)) as Summary };
}

/** The printed dashboard link: its page's status and the role of its token. */
async function openDashboard(base: string, token: string): Promise<{ page: number; whoami: string }> {
  const page = (await fetch(`${base}/ui/`, { signal: AbortSignal.timeout(10_000) })).status;
  const me = await fetch(`${base}/v1/whoami`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(10_000),
  });
  return { page, whoami: ((await me.json()) as { role: string }).role };
}

/** Waits until none of `pids` is alive (5 s at most), then checks. */
async function assertGone(pids: readonly number[]): Promise<void> {
  const deadline = Date.now() + 5000;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(pids.filter(alive), [], 'processes of the demo still running');
}

test('the demo runs headless: traffic through every service and instance, no errors, no process left', async () => {
  // Once every process is up, scrape each service's Prometheus endpoint while traffic flows.
  let scraped: Promise<Record<string, string>> | undefined;
  let dashboard: Promise<{ page: number; whoami: string }> | undefined;
  let latest = '';
  // Generous: eight Node processes start on a possibly busy 2-core machine.
  const { out, summary } = await runDemo(['--seconds', '5', '--no-tty', '--rate', '60'], 100_000, (text) => {
    latest = text;
    if (!scraped && /All \d+ processes up/.test(text)) scraped = delay(2500).then(() => scrape(latest));
    const link = /dashboard +(http:\/\/127\.0\.0\.1:\d+)\/ui\/#token=(\S+) +\(read only\)/.exec(text);
    if (!dashboard && link) dashboard = openDashboard(link[1]!, link[2]!);
  });

  assert.ok(scraped, `the demo never said it was up:\n${out}`);
  assert.ok(dashboard, `the demo printed no dashboard address:\n${out}`);
  const { page, whoami } = await dashboard;
  assert.equal(page, 200, 'the dashboard page is served');
  assert.equal(whoami, 'viewer', 'the printed login is a viewer token');
  const metrics = await scraped;
  for (const [instance, names] of Object.entries(METRICS)) {
    const text = metrics[instance];
    assert.ok(text, `no metrics endpoint for ${instance}`);
    for (const name of ['target_info', ...names])
      assert.match(text, new RegExp(`^${name}`, 'm'), `${instance}: no ${name} in its /metrics`);
  }

  const line = JSON.stringify(summary);
  assert.deepEqual(summary.unexpectedExits, []);
  assert.deepEqual(summary.errors, {}, 'no call failed in any window');
  for (const destination of ['frontend', 'catalog', 'inventory']) {
    const t = summary.totals[destination];
    assert.ok(t, `no totals for ${destination}:\n${out}`);
    assert.ok(t.requests >= 50, `${destination}: only ${t.requests} requests`);
    assert.equal(t.failures, 0, `${destination}: ${t.failures} failed`);
  }
  // Every instance got calls, as the callers' Weft clients counted them.
  for (const [destination, instances] of Object.entries(INSTANCES))
    for (const instance of instances)
      assert.ok((summary.calls[destination]?.[instance] ?? 0) > 0, `${instance} got no calls: ${line}`);
  // catalog v2 is dark: the Route sends every call to v1 until the tour's canary.
  assert.equal(summary.calls.catalog?.['catalog-3'] ?? 0, 0, line);
  assert.equal(summary.versions.catalog?.v2 ?? 0, 0, line);
  assert.ok((summary.versions.catalog?.v1 ?? 0) >= 50, line);

  // The launcher stopped every child: none is left.
  assert.equal(summary.pids.length, 8);
  await assertGone(summary.pids);
});

test("the tour's traffic steps: shadow copies, header and override routes, a 10/50/100% canary, a delay and back", {
  timeout: 240_000,
}, async () => {
  const { summary } = await runDemo(
    ['--steps', TRAFFIC_STEPS.map((s) => s.id).join(','), '--no-tty', '--rate', '100'],
    220_000,
  );
  const line = JSON.stringify(summary.tour);
  const step = (id: string) => {
    const m = summary.tour[id] as Measured | undefined;
    assert.ok(m, `no results for step ${id}: ${line}`);
    return m;
  };
  assert.deepEqual(summary.unexpectedExits, []);
  assert.deepEqual(summary.errors, {}, 'no call failed in any window');

  // Shadow traffic: v1 answered every call, and each was copied to v2, which handled the copies.
  const mirror = step('mirror');
  assert.ok(mirror.requests >= 200, line);
  assert.equal(mirror.versions.v2 ?? 0, 0, line);
  assert.equal(mirror.versions.v1, mirror.requests, line);
  // Copies are counted when sent, answers when done: a few in flight at the windows' edges.
  assert.ok(Math.abs(mirror.mirrored - mirror.requests) <= 0.05 * mirror.requests + 5, line);
  assert.ok((mirror.instances['catalog-3'] ?? 0) >= 0.9 * mirror.mirrored, line);

  // By header and by the travelling override, v2; without either, v1 (v2's weight is 0).
  const answers = summary.tour.header as Record<
    'plain' | 'header' | 'override',
    { version: string; servedBy: string }
  >;
  assert.equal(answers.plain.version, 'v1', line);
  assert.match(answers.plain.servedBy, /^catalog-[12]$/);
  assert.deepEqual(answers.header, { version: 'v2', servedBy: 'catalog-3' });
  assert.deepEqual(answers.override, { version: 'v2', servedBy: 'catalog-3' });

  // The canary: v2's share of the answers, within 5 standard deviations of a binomial draw
  // (plus a point), so that chance alone fails it about once in a million runs.
  for (const percent of [10, 50, 100]) {
    const m = step(`canary-${percent}`) as Measured & { v2Percent: number; answers: number };
    assert.ok(m.answers >= 300, `canary-${percent}: ${m.answers} answers`);
    assert.equal(m.failures, 0);
    const p = percent / 100;
    const tolerance = 500 * Math.sqrt((p * (1 - p)) / m.answers) + 1;
    assert.ok(
      Math.abs(m.v2Percent - percent) <= tolerance,
      `canary-${percent}: v2 answered ${m.v2Percent.toFixed(2)}% (±${tolerance.toFixed(2)} allowed)`,
    );
    if (percent === 100) assert.equal(m.versions.v1 ?? 0, 0, 'v1 has weight 0');
  }

  // The delay: every window's median at least the delay; once removed, the median drops by most of it.
  const drill = step('delay') as Measured & { delayMs: number };
  const normal = step('normal');
  assert.equal(drill.windows, 4);
  assert.equal(drill.failures, 0);
  assert.ok(Math.min(...drill.p50Ms) >= 0.9 * drill.delayMs, line);
  assert.equal(normal.windows, 3);
  assert.ok(Math.max(...normal.p50Ms) < Math.min(...drill.p50Ms) - 0.5 * drill.delayMs, line);

  await assertGone(summary.pids);
});

test("the tour's rollout steps: catalog v2 promoted by its Rollout, a broken v3 rolled back by itself", {
  timeout: 240_000,
}, async () => {
  const { summary } = await runDemo(
    ['--steps', ROLLOUT_STEPS.map((s) => s.id).join(','), '--no-tty', '--rate', '100'],
    220_000,
  );
  const line = JSON.stringify(summary.tour);
  type Result = {
    phase: string;
    canaryWeight?: number;
    failedIntervals?: number;
    reason?: string;
    intervals: string[];
    userRequests?: number;
    userFailures?: number;
  };
  const v2 = summary.tour['rollout-v2'] as Result | undefined;
  const v3 = summary.tour['rollout-v3'] as Result | undefined;
  assert.ok(v2 && v3, `no rollout results: ${line}`);
  assert.deepEqual(summary.unexpectedExits, []);

  // v2 is healthy: promoted to every call of the default rule, no interval failed.
  assert.equal(v2.phase, 'promoted', line);
  assert.equal(v2.canaryWeight, 100, line);
  assert.equal(v2.failedIntervals, 0, line);
  assert.ok(v2.intervals.includes('passed'), line);
  assert.ok(!v2.intervals.includes('failed'), line);

  // v3 fails a share of its requests: rolled back to weight 0, failed, with the reason.
  assert.equal(v3.phase, 'failed', line);
  assert.equal(v3.canaryWeight, 0, line);
  assert.equal(v3.failedIntervals, 2, line);
  assert.match(v3.reason ?? '', /rolled back after 2 failed intervals.*successRate of v3/, line);
  assert.ok((v3.userRequests ?? 0) >= 100, line);
  assert.ok((v3.userFailures ?? 0) < (v3.userRequests ?? 0), line);
  // The user requests that failed are v3's 500s that the retries did not hide; no other failure.
  assert.deepEqual(Object.keys(summary.errors.frontend ?? {}), ['http-500'], JSON.stringify(summary.errors));

  await assertGone(summary.pids);
});
