/**
 * One chaos run: five backends (HTTP or gRPC) under steady open-loop load through a Weft client with
 * its default policy (plus a total deadline), one fault injected into one backend part way, and
 * the user-visible outcome tallied per method — idempotent (GET, EmptyCall) and not (POST,
 * UnaryCall): failures by code, how long calls that failed by deadline took, how soon the faulted
 * endpoint left rotation, and whether any non-idempotent request ran twice.
 */
import { Metadata, type ServiceError, status as Status } from '@grpc/grpc-js';
import { type Endpoint, StaticResolver, WeftError } from '@weft/core';
import { seededRandom } from '@weft/core/testing';
import { createClient } from '@weft/http';
import { createGrpcClient, describeGrpcClient, WEFT_ERROR_KEY } from '../../src/index.ts';
import { TestServiceClient, unary } from '../helpers.ts';
import { type Backend, type Fault, grpcBackend, httpBackend } from './backends.ts';

export type ChaosFault = Fault | 'malformed' | 'none';

export interface ChaosOptions {
  protocol: 'http' | 'grpc';
  fault: ChaosFault;
  /** Defaults to 5. */
  backends?: number;
  /** Calls started per second, half of them idempotent. Defaults to 200. */
  ratePerSecond?: number;
  /** Load before the fault, in ms. Defaults to 500. */
  warmMs?: number;
  /** Load after the fault, in ms. Defaults to 2000. */
  faultMs?: number;
  /** Each backend's usual latency in ms (`slow` is ten times it). Defaults to 2. */
  latencyMs?: number;
  /** Every call's total deadline in ms. Defaults to 1000. */
  deadlineMs?: number;
  /** How long a `restart` stays down, in ms. Defaults to 500. */
  restartMs?: number;
  /** Chooses the faulted backend and seeds the client's randomness. Defaults to 1. */
  seed?: number;
}

export interface MethodFigures {
  calls: number;
  failures: number;
  /** Failures by error code (Weft's, else the gRPC status or the error's code). */
  codes: Record<string, number>;
  /** Calls that failed by deadline: how many, and the shortest and longest time they took (ms). */
  deadline: { count: number; minMs: number; maxMs: number };
}

export interface ChaosResult {
  protocol: 'http' | 'grpc';
  fault: ChaosFault;
  idempotent: MethodFigures;
  nonIdempotent: MethodFigures;
  /** Non-idempotent requests a backend started to process more than once. */
  executedTwice: number;
  /** Time from the fault until the faulted endpoint was first seen out of rotation, if it was. */
  ejectedAfterMs: number | undefined;
  /**
   * For `hang`: how long non-idempotent calls took that a second client, whose only endpoint is the
   * hung one, sent after the fault (they cannot be retried: they must end at their deadline).
   */
  pinnedMs: number[];
}

const figures = (): MethodFigures => ({
  calls: 0,
  failures: 0,
  codes: {},
  deadline: { count: 0, minMs: Number.POSITIVE_INFINITY, maxMs: 0 },
});

function codeOf(error: unknown): string {
  if (error instanceof WeftError) return error.code;
  const md = (error as ServiceError).metadata;
  const weft = md instanceof Metadata ? md.get(WEFT_ERROR_KEY)[0] : undefined;
  if (weft !== undefined) return String(weft);
  const code = (error as ServiceError).code;
  if (typeof code === 'number') return `grpc ${Status[code]}`;
  return String((error as { code?: string }).code ?? (error as Error).name);
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const o = {
    backends: 5,
    ratePerSecond: 200,
    warmMs: 500,
    faultMs: 2000,
    latencyMs: 2,
    deadlineMs: 1000,
    restartMs: 500,
    seed: 1,
    ...options,
  };
  const make = o.protocol === 'http' ? httpBackend : grpcBackend;
  const backends: Backend[] = await Promise.all(Array.from({ length: o.backends }, () => make(o.latencyMs)));
  const random = seededRandom(o.seed);
  const faulted = backends[Math.floor(random() * backends.length)]!;
  const good: Endpoint[] = backends.map((b) => ({ address: '127.0.0.1', port: b.port }));
  const resolver = new StaticResolver(good);
  const service = `chaos-${o.protocol}-${o.fault}-${o.seed}`;
  const common = { resolver, timeoutMs: o.deadlineMs, random };
  const http = o.protocol === 'http' ? createClient({ service, ...common }) : undefined;
  const grpc = o.protocol === 'grpc' ? createGrpcClient(TestServiceClient, service, common) : undefined;
  const describe = () => (http ? http.describe() : describeGrpcClient(grpc!)!);
  const faultedKey =
    o.fault === 'malformed' ? `[127.0.0.1:${faulted.port}]:${faulted.port}` : faulted.endpoint;

  const result: ChaosResult = {
    protocol: o.protocol,
    fault: o.fault,
    idempotent: figures(),
    nonIdempotent: figures(),
    executedTwice: 0,
    ejectedAfterMs: undefined,
    pinnedMs: [],
  };
  let next = 0;
  const one = async (idempotent: boolean) => {
    const f = idempotent ? result.idempotent : result.nonIdempotent;
    f.calls++;
    const id = `${service}-${next++}`;
    const start = performance.now();
    try {
      if (http) {
        const res = await http.fetch(
          '/work',
          idempotent ? {} : { method: 'POST', headers: { 'x-req-id': id }, body: id },
        );
        await res.text();
        if (res.status >= 500) throw Object.assign(new Error('5xx'), { code: `HTTP ${res.status}` });
      } else {
        const md = new Metadata();
        if (!idempotent) md.set('x-req-id', id);
        await unary(grpc!, idempotent ? 'emptyCall' : 'unaryCall', {}, md);
      }
    } catch (error) {
      f.failures++;
      const code = codeOf(error);
      f.codes[code] = (f.codes[code] ?? 0) + 1;
      if (/DEADLINE/.test(code)) {
        const ms = performance.now() - start;
        f.deadline.count++;
        f.deadline.minMs = Math.min(f.deadline.minMs, ms);
        f.deadline.maxMs = Math.max(f.deadline.maxMs, ms);
      }
    }
  };

  const calls: Promise<void>[] = [];
  const tickMs = 10;
  const perTick = (o.ratePerSecond * tickMs) / 1000;
  let owed = 0;
  let faultAt: number | undefined;
  const started = performance.now();
  const total = o.warmMs + o.faultMs;
  await new Promise<void>((done) => {
    const timer = setInterval(() => {
      const now = performance.now();
      if (faultAt === undefined && now - started >= o.warmMs) {
        faultAt = now;
        if (o.fault === 'malformed')
          resolver.set([...good, { address: `127.0.0.1:${faulted.port}`, port: faulted.port }]);
        else if (o.fault !== 'none') void faulted.inject(o.fault, o.restartMs);
      }
      if (faultAt !== undefined && result.ejectedAfterMs === undefined) {
        const ep = describe().endpoints.find((e) => e.endpoint === faultedKey);
        if (ep && ep.health !== 'healthy') result.ejectedAfterMs = Math.round(now - faultAt);
      }
      if (now - started >= total) {
        clearInterval(timer);
        done();
        return;
      }
      for (owed += perTick; owed >= 1; owed--) calls.push(one(next % 2 === 0));
    }, tickMs);
  });
  await Promise.all(calls);
  if (o.fault === 'hang') result.pinnedMs = await pinned(o.protocol, faulted, o.deadlineMs);

  const seen = new Set<string>();
  for (const b of backends)
    for (const id of b.executed) {
      if (seen.has(id)) result.executedTwice++;
      seen.add(id);
    }
  for (const f of [result.idempotent, result.nonIdempotent]) if (f.deadline.count === 0) f.deadline.minMs = 0;
  if (http) await http.close();
  grpc?.close();
  await Promise.all(backends.map((b) => b.close()));
  return result;
}

/** Failures as a percentage of calls, to two decimals. */
export function failurePercent(f: MethodFigures): number {
  return f.calls === 0 ? 0 : Math.round((10_000 * f.failures) / f.calls) / 100;
}

/** Three non-idempotent calls, one after the other, through a client that knows only `backend`. */
async function pinned(protocol: 'http' | 'grpc', backend: Backend, deadlineMs: number): Promise<number[]> {
  const endpoints = [backend.endpoint];
  const out: number[] = [];
  const http =
    protocol === 'http'
      ? createClient({ service: 'chaos-pinned', endpoints, timeoutMs: deadlineMs })
      : undefined;
  const grpc =
    protocol === 'grpc'
      ? createGrpcClient(TestServiceClient, 'chaos-pinned', { endpoints, timeoutMs: deadlineMs })
      : undefined;
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    try {
      if (http) await (await http.fetch('/work', { method: 'POST', body: 'pinned' })).text();
      else await unary(grpc!, 'unaryCall', {});
    } catch {}
    out.push(Math.round(performance.now() - start));
  }
  if (http) await http.close();
  grpc?.close();
  return out;
}
