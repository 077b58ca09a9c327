/**
 * 5. Config propagation: one write to the config service (SQLite store, its own process), 1,000 SSE
 * watchers (the core config client) spread over 4 other processes; time from the write's
 * acknowledgement until each watcher applied the new revision. Several writes, medians across them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { type BenchContext, ms, type Scenario, type ScenarioResult, table } from '../lib/context.ts';
import { type Child, childScript, startChild } from '../lib/proc.ts';
import { median, percentiles } from '../lib/stats.ts';

const CLI = fileURLToPath(new URL('../../../packages/cli/src/main.ts', import.meta.url));

async function startControlPlane(
  dir: string,
  token: string,
): Promise<{ child: Child<unknown>; url: string }> {
  const child = await startChild<unknown>(CLI, {
    args: ['control-plane', '--port', '0', '--data', dir],
    env: { WEFT_ADMIN_TOKEN: token },
  });
  let line = child.ready as { event?: string; url?: string };
  while (line.event !== 'listening') line = (await child.next()) as typeof line;
  return { child, url: line.url! };
}

export const configPropagation: Scenario = {
  id: 'config-propagation',
  title: '5. Config propagation to 1,000 watchers',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const watchers = ctx.quick ? 100 : 1_000;
    const processes = 4;
    const writes = ctx.quick ? 2 : 7;
    const dir = await mkdtemp(join(tmpdir(), 'weft-bench-cp-'));
    const token = `weft_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;
    const kids: Child<unknown>[] = [];
    try {
      const cp = await startControlPlane(dir, token);
      kids.push(cp.child);
      const put = async (timeoutMs: number) => {
        const sent = performance.timeOrigin + performance.now();
        const res = await request(`${cp.url}/v1/documents/DestinationPolicy/bench`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ spec: { timeoutMs } }),
        });
        const body = (await res.body.json()) as { revision: number };
        const acked = performance.timeOrigin + performance.now();
        if (res.statusCode !== 200 && res.statusCode !== 201)
          throw new Error(`PUT answered ${res.statusCode}: ${JSON.stringify(body)}`);
        return { sent, acked, revision: body.revision };
      };
      await put(1_000);
      ctx.log(`config: starting ${watchers} watchers in ${processes} processes`);
      const t0 = performance.now();
      const groups = await Promise.all(
        Array.from({ length: processes }, (_, i) =>
          startChild<{ ready: number }>(childScript('watchers.ts'), {
            args: [
              JSON.stringify({
                url: cp.url,
                token,
                count: Math.floor(watchers / processes) + (i < watchers % processes ? 1 : 0),
              }),
            ],
            readyTimeoutMs: 90_000,
          }),
        ),
      );
      kids.push(...(groups as Child<unknown>[]));
      ctx.log(`config: ${watchers} watchers connected in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      await new Promise((r) => setTimeout(r, 500));
      const perWrite: {
        p50: number;
        p99: number;
        max: number;
        p50FromSend: number;
        p99FromSend: number;
        received: number;
      }[] = [];
      for (let w = 0; w < writes; w++) {
        const { sent, acked, revision } = await put(2_000 + w);
        const reports = await Promise.all(
          groups.map(async (g) => {
            g.send({ revision });
            return (await g.next(15_000)) as { times: number[] };
          }),
        );
        const times = reports.flatMap((r) => r.times);
        const fromAck = Float64Array.from(times.map((t) => t - acked)).sort();
        const fromSend = Float64Array.from(times.map((t) => t - sent)).sort();
        const a = percentiles(fromAck);
        const s = percentiles(fromSend);
        perWrite.push({
          p50: a.p50,
          p99: a.p99,
          max: a.max,
          p50FromSend: s.p50,
          p99FromSend: s.p99,
          received: times.length,
        });
        ctx.log(
          `config: write ${w + 1}/${writes} (revision ${revision}, ack ${(acked - sent).toFixed(1)} ms): ${times.length}/${watchers} applied, p50 ${a.p50.toFixed(1)} p99 ${a.p99.toFixed(1)} max ${a.max.toFixed(1)} ms after the ack`,
        );
        await new Promise((r) => setTimeout(r, 300));
      }
      const m = (f: (x: (typeof perWrite)[number]) => number) => median(perWrite.map(f));
      const p99 = m((x) => x.p99);
      const missing = perWrite.reduce((n, x) => n + (watchers - x.received), 0);
      return {
        id: 'config-propagation',
        title: this.title,
        setup: `The config service (\`weft control-plane\`, SQLite store with an fsync per write) in its own process; ${watchers} watchers (the core config client, one SSE stream each) in ${processes} processes; ${writes} writes of a DestinationPolicy (PUT), one at a time; apply time = when a watcher's subscriber ran with the new revision, minus when the PUT's response arrived (same host, one clock).`,
        tables: [
          table(
            ['per write', 'p50 ms', 'p99 ms', 'max ms', 'p50 from send ms', 'p99 from send ms', 'applied'],
            perWrite.map((x, i) => [
              `write ${i + 1}`,
              ms(x.p50),
              ms(x.p99),
              ms(x.max),
              ms(x.p50FromSend),
              ms(x.p99FromSend),
              `${x.received}/${watchers}`,
            ]),
          ),
          table(
            ['median of writes', 'p50 ms', 'p99 ms', 'max ms'],
            [['', ms(m((x) => x.p50)), ms(p99), ms(m((x) => x.max))]],
          ),
        ],
        goals: [
          {
            text: `p99 time to apply one write across ${watchers} watchers ≤ 200 ms`,
            measured: `${ms(p99)} ms${missing ? ` (${missing} applications missing after 10 s)` : ''}`,
            met: p99 <= 200 && missing === 0,
          },
        ],
        notes: [
          'Apply times can be slightly negative: the service sends the change on the streams as it answers the PUT, and a watcher may apply it before the writer has read the response.',
        ],
        figures: { watchers, processes, writes: perWrite },
      };
    } finally {
      await Promise.all(kids.map((k) => k.kill()));
      await rm(dir, { recursive: true, force: true });
    }
  },
};
