/**
 * Progressive delivery end to end: a real config-service process drives Rollouts over real
 * node:http backends v1/v2 while real Weft clients send steady load and report their traffic every
 * second (the shortest report interval). A v2 failing 20% is rolled back within two analysis intervals, and the share of user
 * requests that failed is printed and bounded; a healthy v2 is promoted; a slow v2 is rolled back
 * on latency; a config service killed mid-rollout resumes at the same step after a restart.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, describe, test } from 'node:test';
import { type ServiceProcess, startService, tempDir } from '@weft/control-plane/testing';
import { type ConfigClient, createConfigClient, type LogEntry } from '@weft/core/config';
import { createClient } from '@weft/http';
import { delay, eventually, startServer, type TestServer } from './helpers.ts';

/** What the tests read of a reply. */
// biome-ignore lint/suspicious/noExplicitAny: replies are checked field by field by the assertions
type Json = Record<string, any>;
/** The fields of a RolloutStatus the tests read. */
interface Status {
  phase: string;
  step: number;
  stepStartedAt: number;
  canaryWeight: number;
  failedIntervals: number;
  reason: string;
  intervals: { result: string }[];
}

const ARGS = ['--traffic-bucket-ms', '1000', '--rollout-tick-ms', '200'];
const cleanup: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

async function configService(options: { data?: string; port?: number; token?: string } = {}) {
  const cp = await startService({ ...options, args: ARGS });
  cleanup.push(() => cp.kill());
  return cp;
}

async function api(cp: ServiceProcess, method: string, path: string, body?: unknown) {
  const res = await fetch(`${cp.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${cp.token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

/** A backend of `version`: fails one request in `1 / failEvery` with a 500, answers after `ms`. */
async function backend(version: string, options: { failEvery?: number; ms?: number } = {}) {
  let n = 0;
  const s: TestServer = await startServer(async (req: IncomingMessage, res: ServerResponse) => {
    for await (const _ of req);
    n++;
    if (options.ms) await delay(options.ms);
    res.statusCode = options.failEvery && n % options.failEvery === 0 ? 500 : 200;
    res.end(version);
  });
  cleanup.push(() => s.close());
  const [address, port] = s.endpoint.split(':');
  return { address: address!, port: Number(port), labels: { version } };
}

/**
 * Steady load from a real client of `service` (POSTs, so a failure is not retried away): counts
 * what users saw, by version, from the moment it is asked.
 */
function load(
  config: ConfigClient,
  service: string,
  endpoints: Awaited<ReturnType<typeof backend>>[],
  headers: Record<string, string> = {},
) {
  const client = createClient({ service, endpoints, config });
  const seen = { total: 0, failed: 0, byVersion: {} as Record<string, number> };
  let running = true;
  // Workers that each wait only for their own call, so a slow v2 does not hold back the calls to v1.
  const worker = async () => {
    while (running) {
      try {
        const res = await client.fetch('/', { method: 'POST', body: 'x', headers });
        const text = await res.text();
        seen.total++;
        if (res.status >= 500) seen.failed++;
        else seen.byVersion[text] = (seen.byVersion[text] ?? 0) + 1;
      } catch {
        seen.total++;
        seen.failed++;
      }
      await delay(15);
    }
  };
  const loop = Promise.all(Array.from({ length: 2 }, worker));
  const stop = async () => {
    running = false;
    await loop;
    await client.close();
  };
  cleanup.push(stop);
  return {
    seen,
    reset() {
      seen.total = 0;
      seen.failed = 0;
      seen.byVersion = {};
    },
    stop,
  };
}

const route = {
  subsets: { v1: { version: 'v1' }, v2: { version: 'v2' } },
  rules: [{ backends: [{ subset: 'v1', weight: 100 }] }],
};

const rolloutSpec = (analysis: Record<string, unknown> = {}, pauseS = 4) => ({
  stable: 'v1',
  canary: 'v2',
  steps: [{ weight: 20, pauseS }, { weight: 50, pauseS }, { weight: 100 }],
  analysis: { intervalS: 2, minRequests: 10, successRate: { minPercent: 95 }, failureLimit: 2, ...analysis },
});

async function setUp(cp: ServiceProcess, service: string, v2: { failEvery?: number; ms?: number }) {
  const config = createConfigClient({
    urls: cp.url,
    token: cp.token,
    service: 'web',
    traffic: { reportIntervalMs: 1000 },
  });
  cleanup.push(() => config.close());
  await config.ready();
  assert.equal((await api(cp, 'PUT', `/v1/documents/Route/${service}`, { spec: route })).status, 201);
  await eventually(() => assert.ok(config.route(service)));
  const l = load(config, service, [await backend('v1'), await backend('v2', v2)]);
  return { config, load: l };
}

async function status(cp: ServiceProcess, service: string) {
  const r = await api(cp, 'GET', `/v1/rollouts/${service}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.status as Status | null;
}

/** The default-rule weights of v2 the rollout wrote, oldest first (from the Route's history). */
async function writtenWeights(cp: ServiceProcess, service: string): Promise<number[]> {
  const r = await api(cp, 'GET', `/v1/history?kind=Route&name=${service}&limit=100`);
  const entries = (r.body.entries ?? r.body.history) as LogEntry[];
  return entries
    .filter((e) => e.author?.name === 'rollout')
    .reverse()
    .map((e) => {
      const c = e.changes.find((x) => x.op === 'put' && x.document.kind === 'Route');
      const backends = c?.op === 'put' ? (c.document.spec as typeof route).rules[0]!.backends : [];
      return backends.find((b) => b.subset === 'v2')?.weight ?? -1;
    });
}

describe('Rollouts driven by a real config service over real servers and clients', () => {
  test('a v2 failing 20% of requests is rolled back within two analysis intervals; the users saw few failures', async () => {
    const cp = await configService();
    const { load: l } = await setUp(cp, 'bad', { failEvery: 5 });
    await delay(1000);
    l.reset();
    const started = Date.now();
    assert.equal((await api(cp, 'PUT', '/v1/documents/Rollout/bad', { spec: rolloutSpec() })).status, 201);
    let s: Status | null = null;
    await eventually(async () => {
      s = await status(cp, 'bad');
      assert.equal(s?.phase, 'failed');
    }, 20_000);
    const tookMs = Date.now() - started;
    // Two intervals of 2 s, the first tick, a report interval and a bucket of lag: about 5 s; the
    // bound leaves room for a loaded machine.
    assert.ok(tookMs < 15_000, `rolled back after ${tookMs} ms`);
    assert.equal(s!.canaryWeight, 0);
    assert.match(
      s!.reason,
      /rolled back after 2 failed intervals .*successRate of v2 \d+(\.\d+)?% < minPercent 95% \(interval /,
    );
    assert.deepEqual(await writtenWeights(cp, 'bad'), [20, 0]);
    // Once the clients have the rollback, nothing reaches v2 any more.
    await delay(1000);
    const share = l.seen.failed / l.seen.total;
    console.log(
      `rollout of a v2 failing 20%: rolled back after ${tookMs} ms; ${l.seen.failed} of ${l.seen.total} user requests failed (${(share * 100).toFixed(2)}%)`,
    );
    assert.ok(share < 0.06, `failed share ${share}`);
    const v2Before = l.seen.byVersion.v2 ?? 0;
    await delay(1000);
    assert.equal(l.seen.byVersion.v2 ?? 0, v2Before, 'v2 gets nothing after the rollback');
  });

  test('a healthy v2 is promoted to 100%, one step at a time', async () => {
    const cp = await configService();
    const { load: l } = await setUp(cp, 'good', {});
    assert.equal(
      (await api(cp, 'PUT', '/v1/documents/Rollout/good', { spec: rolloutSpec({}, 3) })).status,
      201,
    );
    await eventually(async () => assert.equal((await status(cp, 'good'))?.phase, 'promoted'), 30_000);
    assert.deepEqual(await writtenWeights(cp, 'good'), [20, 50, 100]);
    const s = (await status(cp, 'good'))!;
    assert.equal(s.canaryWeight, 100);
    assert.equal(s.failedIntervals, 0);
    assert.ok(s.intervals.some((i: { result: string }) => i.result === 'passed'));
    await delay(1000);
    l.reset();
    await delay(1000);
    assert.deepEqual(Object.keys(l.seen.byVersion), ['v2']);
    assert.equal(l.seen.failed, 0);
  });

  test('a v2 slower than latencyP99Ms.max is rolled back, naming the p99', async () => {
    const cp = await configService();
    await setUp(cp, 'slow', { ms: 120 });
    const spec = rolloutSpec({ latencyP99Ms: { max: 60 } });
    assert.equal((await api(cp, 'PUT', '/v1/documents/Rollout/slow', { spec })).status, 201);
    let s: Status | null = null;
    await eventually(async () => {
      s = await status(cp, 'slow');
      assert.equal(s?.phase, 'failed');
    }, 20_000);
    assert.match(s!.reason, /p99 latency of v2 \d+(\.\d+)? ms > latencyP99Ms\.max 60 ms/);
    assert.deepEqual(await writtenWeights(cp, 'slow'), [20, 0]);
  });

  test('header-first: a v2 failing for the calls carrying the override is rolled back before any other call reaches it', async () => {
    const cp = await configService();
    const { config, load: users } = await setUp(cp, 'early', { failEvery: 2 });
    const v1 = await backend('v1');
    const v2 = await backend('v2', { failEvery: 2 });
    const testers = load(config, 'early', [v1, v2], { 'weft-route': 'early=v2' });
    users.reset();
    const spec = { ...rolloutSpec(), headerFirst: { pauseS: 6 } };
    assert.equal((await api(cp, 'PUT', '/v1/documents/Rollout/early', { spec })).status, 201);
    let s: Status | null = null;
    await eventually(async () => {
      s = await status(cp, 'early');
      assert.equal(s?.phase, 'failed');
    }, 20_000);
    assert.equal(s!.step, 0, 'failed in the header-first phase');
    assert.deepEqual(await writtenWeights(cp, 'early'), [0, 0]);
    assert.ok((testers.seen.byVersion.v2 ?? 0) > 0, 'the override reached v2');
    assert.equal(users.seen.byVersion.v2 ?? 0, 0, 'no call without the override reached v2');
    assert.equal(users.seen.failed, 0);
  });

  test('a config service killed mid-rollout resumes at the same step after a restart (SQLite kept)', async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const first = await configService({ data: dir.path });
    const { config } = await setUp(first, 'resume', {});
    const spec = rolloutSpec({}, 5);
    assert.equal((await api(first, 'PUT', '/v1/documents/Rollout/resume', { spec })).status, 201);
    await eventually(async () => assert.equal((await status(first, 'resume'))?.step, 1), 30_000);
    const before = (await status(first, 'resume'))!;
    await first.kill();
    const second = await configService({ data: dir.path, port: first.port, token: first.token });
    const after = (await status(second, 'resume'))!;
    assert.equal(after.step, 1);
    assert.equal(after.stepStartedAt, before.stepStartedAt, 'the step keeps its start');
    await eventually(async () => assert.equal((await status(second, 'resume'))?.phase, 'promoted'), 40_000);
    assert.deepEqual(await writtenWeights(second, 'resume'), [20, 50, 100], 'no step repeated or skipped');
    assert.equal(config.route('resume')?.rules[0]?.backends?.find((b) => b.subset === 'v2')?.weight, 100);
  });
});
