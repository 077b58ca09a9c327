/**
 * 4. Retry amplification. (a) A total outage behind a 3-hop chain (user → A → B → leaf C, C answers
 * 503 to everything), every hop retrying: requests reaching C per user request, Weft (budgeted
 * retries, no-retry marker, breaker) against a naive client retrying 3 times per hop (4³ = 64).
 * (b) One of five endpoints failing hard (503 at once, or a closed port): user-visible success.
 * Each run starts fresh processes, so no budget or breaker state carries over.
 */

import { Pool, request } from 'undici';
import { type Backends, startBackends } from '../lib/backends.ts';
import { type BenchClient, weftClient } from '../lib/clients.ts';
import { type BenchContext, fixed, int, type Scenario, type ScenarioResult, table } from '../lib/context.ts';
import { freePort } from '../lib/haproxy.ts';
import { paced, type RequestFn } from '../lib/load.ts';
import { childScript, startChild } from '../lib/proc.ts';
import { interleave } from '../lib/rounds.ts';
import { median } from '../lib/stats.ts';

type Mode = 'naive' | 'weft' | 'weft-no-breaker';

interface ChainRun {
  userRequests: number;
  /** Requests reaching A (user attempts), B and the leaf C. */
  atA: number;
  atB: number;
  leafRequests: number;
  perUser: number;
  userFailures: number;
}

/** The naive client: 3 retries on any 5xx or error, round robin, no budget. */
function naiveClient(endpoints: readonly string[]): BenchClient {
  const pools = endpoints.map((e) => new Pool(`http://${e}`, { connections: 16, keepAliveTimeout: 60_000 }));
  let next = 0;
  const fn: RequestFn = async () => {
    for (let attempt = 0; attempt < 4; attempt++) {
      const i = next;
      next = (i + 1) % pools.length;
      try {
        const r = await pools[i]!.request({ path: '/', method: 'GET' });
        await r.body.text();
        if (r.statusCode < 500) return true;
      } catch {}
    }
    return false;
  };
  return {
    name: 'naive',
    fn,
    async close() {
      await Promise.all(pools.map((p) => p.close()));
    },
  };
}

async function chain(mode: Mode, rate: number, durationMs: number): Promise<ChainRun> {
  const leaf = await startBackends([{ status: 503 }]);
  const kids: { kill(): Promise<void> }[] = [];
  let client: BenchClient | undefined;
  try {
    const hopMode = mode === 'naive' ? 'naive' : 'weft';
    const breaker = mode !== 'weft-no-breaker';
    const b = await startChild<{ port: number }>(childScript('hop.ts'), {
      args: [JSON.stringify({ mode: hopMode, upstream: leaf.endpoints[0], breaker })],
    });
    kids.push(b);
    const a = await startChild<{ port: number }>(childScript('hop.ts'), {
      args: [JSON.stringify({ mode: hopMode, upstream: `127.0.0.1:${b.ready.port}`, breaker })],
    });
    kids.push(a);
    const target = [`127.0.0.1:${a.ready.port}`];
    client =
      mode === 'naive'
        ? naiveClient(target)
        : weftClient(target, mode === 'weft-no-breaker' ? { circuitBreaker: false } : {});
    const r = await paced(client.fn, { rate, durationMs, maxInFlight: 5_000 });
    const [leafRequests] = await leaf.counts();
    const hopCount = async (port: number) => {
      const res = await request(`http://127.0.0.1:${port}/__stats`);
      return ((await res.body.json()) as { requests: number }).requests;
    };
    return {
      userRequests: r.completed,
      atA: await hopCount(a.ready.port),
      atB: await hopCount(b.ready.port),
      leafRequests: leafRequests!,
      perUser: leafRequests! / r.completed,
      userFailures: r.failures,
    };
  } finally {
    await client?.close().catch(() => {});
    await Promise.all(kids.map((k) => k.kill()));
    await leaf.close();
  }
}

interface FailRun {
  requests: number;
  successes: number;
  backendRequests: number;
}

async function oneFailing(
  kind: '503' | 'refused',
  client: 'weft' | 'naive',
  rate: number,
  durationMs: number,
): Promise<FailRun> {
  const backends: Backends = await startBackends(
    Array.from({ length: kind === '503' ? 5 : 4 }, (_, i) =>
      kind === '503' && i === 0 ? { status: 503 } : {},
    ),
  );
  const endpoints = [...backends.endpoints];
  if (kind === 'refused') endpoints.unshift(`127.0.0.1:${await freePort()}`); // nothing listens there
  const c = client === 'naive' ? naiveClient(endpoints) : weftClient(endpoints);
  try {
    const r = await paced(c.fn, { rate, durationMs, maxInFlight: 5_000 });
    const counts = await backends.counts();
    return {
      requests: r.completed,
      successes: r.completed - r.failures,
      backendRequests: counts.reduce((a, b) => a + b, 0),
    };
  } finally {
    await c.close().catch(() => {});
    await backends.close();
  }
}

export const retryAmplification: Scenario = {
  id: 'retry-amplification',
  title: '4. Retry amplification and one endpoint failing hard',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const rounds = Math.min(ctx.rounds, 3);
    const weftRate = ctx.quick ? 100 : 300;
    const weftMs = 6_000 * ctx.scale;
    const naiveRate = ctx.quick ? 50 : 100;
    const naiveMs = 2_000 * ctx.scale;
    const labels: Record<Mode, string> = {
      naive: 'naive: 3 retries per hop, no budget',
      weft: 'Weft default stack',
      'weft-no-breaker': 'Weft, breakers off (budget and marker alone)',
    };
    const chainRuns = await interleave<ChainRun>(
      ctx,
      'outage chain',
      (['naive', 'weft', 'weft-no-breaker'] as const).map((mode) => ({
        name: mode,
        async run() {
          const r =
            mode === 'naive' ? await chain(mode, naiveRate, naiveMs) : await chain(mode, weftRate, weftMs);
          ctx.log(
            `  ${r.userRequests} user requests → ${r.atA} at A → ${r.atB} at B → ${r.leafRequests} at the leaf (${r.perUser.toFixed(2)} each)`,
          );
          return r;
        },
      })),
      rounds,
    );
    const per = (mode: Mode) => median(chainRuns.get(mode)!.map((r) => r.perUser));

    const failRate = ctx.quick ? 500 : 2_000;
    const failMs = 5_000 * ctx.scale;
    const failVariants = (['503', 'refused'] as const).flatMap((kind) =>
      (['weft', 'naive'] as const).map((client) => ({
        name: `${client} / ${kind}`,
        async run() {
          const r = await oneFailing(kind, client, failRate, failMs);
          ctx.log(`  ${r.successes}/${r.requests} succeeded, ${r.backendRequests} backend requests`);
          return r;
        },
      })),
    );
    const failRuns = await interleave<FailRun>(ctx, 'one of five failing', failVariants, rounds);
    const pooled = (name: string) => {
      const runs = failRuns.get(name)!;
      const requests = runs.reduce((n, r) => n + r.requests, 0);
      const successes = runs.reduce((n, r) => n + r.successes, 0);
      const backend = runs.reduce((n, r) => n + r.backendRequests, 0);
      return { requests, successes, rate: successes / requests, attempts: backend / requests };
    };
    const hop = (f: (r: ChainRun) => number) => median(chainRuns.get('weft-no-breaker')!.map(f));
    const weftPer = per('weft');
    const weftNoBreaker = per('weft-no-breaker');
    const w503 = pooled('weft / 503');
    const wRef = pooled('weft / refused');
    const figures: Record<string, unknown> = {
      chain: Object.fromEntries([...chainRuns].map(([k, v]) => [k, v])),
      weftRate,
      weftMs,
      naiveRate,
      naiveMs,
      oneFailing: Object.fromEntries(failVariants.map((v) => [v.name, pooled(v.name)])),
      failRate,
      failMs,
    };
    const pct = (x: number) => `${(x * 100).toFixed(3)}%`;
    return {
      id: 'retry-amplification',
      title: this.title,
      setup: `(a) user → A → B → C in four processes (hops: Express + Weft middleware + Weft client, or node:http + naive client); C answers 503 to everything; Weft users send ${weftRate} req/s for ${weftMs} ms, naive ${naiveRate} req/s for ${naiveMs} ms (64 leaf requests each would swamp the machine at the higher rate); fresh processes each run; ${rounds} rounds, medians. (b) five endpoints, one answering 503 at once or one closed port; ${failRate} req/s for ${failMs} ms from the user's client; ${rounds} rounds, counts pooled.`,
      tables: [
        table(
          [
            'client',
            'leaf requests per user request (median)',
            'each run: user requests → at A → at B → at C',
          ],
          (['naive', 'weft', 'weft-no-breaker'] as const).map((m) => [
            labels[m],
            fixed(per(m)),
            chainRuns
              .get(m)!
              .map((r) => [r.userRequests, r.atA, r.atB, r.leafRequests].map(int).join(' → '))
              .join('; '),
          ]),
        ),
        table(
          ['client / failing endpoint', 'user-visible success', 'requests', 'backend attempts per request'],
          failVariants.map((v) => {
            const p = pooled(v.name);
            return [v.name, pct(p.rate), int(p.requests), fixed(p.attempts)];
          }),
        ),
      ],
      goals: [
        {
          text: 'outage behind 3 hops: leaf requests per user request ≤ 1.5 (Weft default stack)',
          measured: fixed(weftPer),
          met: weftPer <= 1.5,
        },
        {
          text: 'the same with breakers off (budget and no-retry marker alone) ≤ 1.5',
          measured: fixed(weftNoBreaker),
          met: weftNoBreaker <= 1.5,
        },
        {
          text: '1 of 5 endpoints answering 503: user-visible success ≥ 99.99%',
          measured: pct(w503.rate),
          met: w503.rate >= 0.9999,
        },
        {
          text: '1 of 5 endpoints refusing connections: user-visible success ≥ 99.99%',
          measured: pct(wRef.rate),
          met: wRef.rate >= 0.9999,
        },
      ],
      notes: [
        `The naive chain's ${fixed(per('naive'))} is 4³: every hop multiplies. Weft's retry budget allows 20% of requests plus a reserve of 10 retries/s over 10 s, so a short outage run is charged the reserve too: over ${weftMs / 1000} s at ${weftRate} req/s the reserve alone is up to 100 retries per hop.`,
        `Per hop with breakers off (medians): user → A ×${fixed(hop((r) => r.atA / r.userRequests))}, A → B ×${fixed(hop((r) => r.atB / r.atA))}, B → C ×${fixed(hop((r) => r.leafRequests / r.atB))}. Only the hop next to the outage retries, under its budget; it marks its failure \`weft-no-retry\`, and the hops above it pass the marker on instead of retrying.`,
        "With the default stack the breakers open within the first few dozen failed calls (more than half failing, at least 20 calls); from then on calls fail fast — the user's own breaker included — and almost nothing reaches the leaf, so the failing service is left alone to recover and users get a fast error instead of a slow one.",
      ],
      figures,
    };
  },
};
