/**
 * 8. gRPC overhead: `createGrpcClient` with its full default stack against a plain grpc-js client
 * round robin over one client per endpoint, on the same servers (one backend process, four
 * endpoints, a unary call with a 16-byte answer). Throughput ratio at saturation, client CPU per
 * call, and latency at a paced load.
 */

import { startGrpcBackends } from '../lib/backends.ts';
import type { BenchClient } from '../lib/clients.ts';
import { compact, compareClients, overheadOptions, overheadRow, pairedMedian } from '../lib/compare.ts';
import { type BenchContext, fixed, type Scenario, type ScenarioResult, table } from '../lib/context.ts';
import { plainGrpcClient, weftGrpcClient } from '../lib/grpc-clients.ts';

const ENDPOINTS = 4;
const CONCURRENCY = 32;
/** The goal: Weft's throughput at saturation, as a share of plain grpc-js's. */
const GOAL_RATIO = 0.9;

export const grpcOverhead: Scenario = {
  id: 'grpc-overhead',
  title: '8. Overhead of the Weft gRPC stack vs plain grpc-js',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const backends = await startGrpcBackends(ENDPOINTS);
    const clients: BenchClient[] = [];
    try {
      const plain = plainGrpcClient(backends.endpoints);
      const weft = weftGrpcClient(backends.endpoints);
      clients.push(plain, weft);
      const o = overheadOptions(ctx, CONCURRENCY, () => backends.pids);
      const { variants: res, pacedRate } = await compareClients(ctx, 'grpc-overhead', clients, o);
      const p = res.get(plain.name)!;
      const w = res.get(weft.name)!;
      const rows = [...res.values()].map((v) => overheadRow(v, p));
      const ratio = pairedMedian(w, p, (x, y) => x.sat.rps / y.sat.rps);
      const cpuRatio = pairedMedian(w, p, (x, y) => x.sat.cpuUsPerRequest / y.sat.cpuUsPerRequest);
      const addCpu = pairedMedian(w, p, (x, y) => x.sat.cpuUsPerRequest - y.sat.cpuUsPerRequest);
      const addP50 = pairedMedian(w, p, (x, y) => x.lat.p50 - y.lat.p50) * 1000;
      const addP99 = pairedMedian(w, p, (x, y) => x.lat.p99 - y.lat.p99) * 1000;
      const failures = p.failures + w.failures;
      const goals = [
        {
          text: `Weft gRPC unary stack ≥ ${fixed(GOAL_RATIO)}× plain grpc-js throughput`,
          measured: `${fixed(ratio)}×`,
          met: ratio >= GOAL_RATIO,
        },
      ];
      const notes = [
        `Client CPU per call: ${fixed(w.cpuUsPerRequest, 1)} µs for Weft against ${fixed(p.cpuUsPerRequest, 1)} µs for plain grpc-js, ${fixed(cpuRatio)}× (+${fixed(addCpu, 1)} µs per call). When the client process is the bottleneck at saturation (the client on one core, the servers on the other), Weft's throughput can reach at most about ${fixed(1 / cpuRatio)}× plain whatever the machine; the 0.90× goal needs the stack to add no more than about 11% of grpc-js's own CPU per call (${fixed(p.cpuUsPerRequest / 9, 1)} µs here).`,
        `At ${pacedRate} calls/s paced, Weft adds ${addP50.toFixed(0)} µs at p50 and ${addP99.toFixed(0)} µs at p99 (medians of per-round differences); where the rounds' p99 spread is large, the p50 difference and the CPU per call are the figures to trust.`,
        'Both variants use the same generated-style client and one HTTP/2 connection per endpoint; the plain client picks round robin, Weft picks by P2C-EWMA over the same endpoints and runs its whole default stack (context, telemetry through the OpenTelemetry API with no SDK installed, deadline, breaker, budgeted retries, per-endpoint accounting). The messages are raw bytes, so no protobuf encoding is in either figure.',
        ...(failures
          ? [`**${failures} calls failed** across the rounds; the figures above include them.`]
          : []),
      ];
      return {
        id: 'grpc-overhead',
        title: this.title,
        setup: `${ENDPOINTS} endpoints in one backend process (one grpc-js server each, a unary method answering 16 bytes at once), client in the bench process; ${CONCURRENCY} calls in flight for ${o.saturationMs} ms (throughput), then ${pacedRate} calls/s paced for ${o.pacedMs} ms (latency); ${ctx.rounds} interleaved rounds after ${o.warmupMs} ms warm-up per variant.`,
        tables: [
          table(
            [
              'variant',
              'calls/s',
              '× plain',
              'client CPU µs/call',
              'sat. p50 ms',
              'sat. p99 ms',
              'paced p50 ms',
              'paced p99 ms',
              'paced p99.9 ms',
            ],
            rows,
          ),
        ],
        goals,
        notes,
        figures: {
          options: { ...o, pacedRate },
          variants: [...res.values()].map(compact),
          [`${weft.name} vs ${plain.name}`]: {
            ratio,
            cpuRatio,
            addedCpuUs: addCpu,
            addedP50Us: addP50,
            addedP99Us: addP99,
          },
        },
      };
    } finally {
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
      await backends.close();
    }
  },
};
