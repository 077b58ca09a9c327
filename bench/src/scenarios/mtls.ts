/**
 * 15. mTLS: the same backends (plain node:http servers serving mTLS beside plaintext through Weft's
 * `serveMtls`) called by the Weft dispatcher over plaintext and over mTLS on keep-alive connections,
 * and by raw undici through an HAProxy pair whose two proxies do mutual TLS between them (the
 * sidecar-mTLS setup), with the plaintext pair beside it for scale. Certificates are made for the
 * run by a test CA (ECDSA P-256, as the mesh CA issues), fixed for its duration.
 */
import { spiffe, testCa } from '@weft/control-plane/testing';
import type { MeshIdentity } from '@weft/core';
import { type Backends, startBackends } from '../lib/backends.ts';
import { type BenchClient, CONNECTIONS, rawRequest, weftDispatcher } from '../lib/clients.ts';
import { compact, compareClients, pairedMedian } from '../lib/compare.ts';
import {
  type BenchContext,
  fixed,
  int,
  ms,
  type Scenario,
  type ScenarioResult,
  table,
} from '../lib/context.ts';
import { ensureHaproxy, haproxyVersion, type SidecarPair, startSidecarPair } from '../lib/haproxy.ts';
import { CONCURRENCY, ENDPOINTS } from './overhead.ts';

const MTLS_LABELS = { 'weft/mtls': 'true' };

/** The Weft dispatcher over the backends: plaintext, or mTLS (the endpoints labelled as serving it) with `identity`. */
function dispatcherClient(name: string, backends: Backends, identity?: MeshIdentity): BenchClient {
  const endpoints = backends.ports.map((port) => ({
    address: '127.0.0.1',
    port,
    ...(identity ? { labels: MTLS_LABELS } : {}),
  }));
  return weftDispatcher(endpoints, identity ? { mtls: { identity } } : {}, name);
}

export const mtls: Scenario = {
  id: 'mtls',
  title: '15. mTLS: Weft plaintext vs Weft mTLS vs an HAProxy pair doing mTLS',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const ca = await testCa('Weft bench CA');
    const [serverLeaf, clientLeaf] = await Promise.all([ca.leaf(spiffe('bench')), ca.leaf(spiffe('caller'))]);
    const identity: MeshIdentity = {
      credentials: {
        key: clientLeaf.key,
        certificate: clientLeaf.cert,
        chain: [],
        spiffeId: spiffe('caller'),
        notAfter: new Date(Date.now() + 86_400_000),
        trustBundle: { trustDomain: 'weft.local', certificates: [ca.ca], generation: 1 },
      },
      onChange: () => () => {},
    };
    const backends = await startBackends(
      Array.from({ length: ENDPOINTS }, () => ({})),
      1,
      { key: serverLeaf.key, cert: serverLeaf.cert, ca: ca.ca },
    );
    const bin = ensureHaproxy(ctx.log);
    const pairs: SidecarPair[] = [];
    const clients: BenchClient[] = [];
    try {
      const plain = dispatcherClient('Weft dispatcher, plaintext', backends);
      const secure = dispatcherClient('Weft dispatcher, mTLS', backends, identity);
      clients.push(plain, secure);
      let tlsPair: BenchClient | undefined;
      if (bin) {
        const pairTls = await startSidecarPair(bin, backends.ports, {
          ca: ca.ca,
          client: clientLeaf,
          server: serverLeaf,
        });
        pairs.push(pairTls);
        const pairPlain = await startSidecarPair(bin, backends.ports);
        pairs.push(pairPlain);
        tlsPair = rawRequest(
          [`127.0.0.1:${pairTls.port}`],
          CONNECTIONS * ENDPOINTS,
          'raw undici via HAProxy mTLS pair',
        );
        clients.push(tlsPair);
        clients.push(
          rawRequest(
            [`127.0.0.1:${pairPlain.port}`],
            CONNECTIONS * ENDPOINTS,
            'raw undici via HAProxy plaintext pair',
          ),
        );
      }
      const pairPids = (name: string) =>
        name.includes('mTLS pair') ? pairs[0]!.pids : name.includes('plaintext pair') ? pairs[1]!.pids : [];
      const o = {
        concurrency: CONCURRENCY,
        saturationMs: 2_000 * ctx.scale,
        pacedShare: 0.5,
        otherPids: (name: string) => [...backends.pids, ...pairPids(name)],
        pacedMs: 1_500 * ctx.scale,
        warmupMs: 1_000 * ctx.scale,
      };
      const { variants: res, pacedRate } = await compareClients(ctx, 'mtls', clients, o);
      const base = res.get(plain.name)!;
      const rows = [...res.values()].map((v) => [
        v.name,
        int(v.rps),
        fixed(pairedMedian(v, base, (x, y) => x.sat.rps / y.sat.rps)),
        fixed(v.cpuUsPerRequest, 1),
        fixed(v.totalCpuUsPerRequest, 1),
        ms(v.satP50),
        ms(v.satP99),
        ms(v.p50),
        ms(v.p99),
        ms(v.p999),
      ]);
      const m = res.get(secure.name)!;
      const ratio = pairedMedian(m, base, (x, y) => x.sat.rps / y.sat.rps);
      const goals = [
        {
          text: 'Weft with mTLS ≥ 0.85× Weft plaintext throughput (keep-alive)',
          measured: `${fixed(ratio)}×`,
          met: ratio >= 0.85,
        },
      ];
      const figures: Record<string, unknown> = {
        options: { ...o, pacedRate },
        variants: [...res.values()].map(compact),
        'mTLS vs plaintext': { ratio },
      };
      if (tlsPair) {
        const p = res.get(tlsPair.name)!;
        const vsPair = pairedMedian(m, p, (x, y) => x.sat.rps / y.sat.rps);
        figures.haproxy = haproxyVersion(bin!);
        figures['mTLS vs HAProxy mTLS pair'] = { ratio: vsPair };
        goals.push({
          text: 'Weft with mTLS: more throughput than the HAProxy mTLS pair',
          measured: `${fixed(vsPair)}×`,
          met: vsPair > 1,
        });
        goals.push({
          text: `Weft with mTLS: lower p99 than the HAProxy mTLS pair at ${pacedRate} req/s paced`,
          measured: `p99 ${ms(m.p99)} vs ${ms(p.p99)} ms`,
          met: m.p99 < p.p99,
        });
      }
      return {
        id: 'mtls',
        title: this.title,
        setup: `${ENDPOINTS} endpoints in one backend process (node:http behind Weft's \`serveMtls\`, PERMISSIVE: the same servers answer both Weft variants), ECDSA P-256 certificates, TLS 1.3, keep-alive connections (${CONNECTIONS} per endpoint); ${bin ? `${haproxyVersion(bin)} pairs as in scenario 2, the mTLS one with \`ssl … verify required\` on the leg between the proxies;` : 'no HAProxy (not installed): the pair variants were not run;'} ${CONCURRENCY} in flight for ${o.saturationMs} ms, then ${pacedRate} req/s paced for ${o.pacedMs} ms; ${ctx.rounds} interleaved rounds.`,
        tables: [
          table(
            [
              'variant',
              'req/s',
              '× Weft plaintext',
              'client CPU µs/req',
              'all processes CPU µs/req',
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
        notes: [
          'Handshakes are outside the measurement: the connections are made in the warm-up and kept alive, as a mesh keeps them; what is measured is the cost of encrypting and decrypting each request and response (and, for the pair, the two proxy hops).',
          'HAProxy verifies the chain and a DNS name; it cannot check a SPIFFE URI SAN as Weft does, so the pair does less identity checking than Weft here.',
        ],
        figures,
      };
    } finally {
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
      await Promise.all(pairs.map((p) => p.close()));
      await backends.close();
    }
  },
};
