/**
 * The soak chain: HTTP → gRPC → HTTP with Weft on every hop. An Express app (A) with Weft's
 * middleware calls a Weft gRPC server (B) through `createGrpcClient`; B's handler calls another
 * Express app (C) through `@weft/http`. A client drives A at a steady rate for a while and samples
 * the process every few seconds: calls and errors, heap after a full GC, open file descriptors, and
 * the active handles and timers — none of which may grow while the load stays the same.
 */
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { createClient } from '@weft/http';
import { weft } from '@weft/http/express';
import express from 'express';
import { createGrpcClient, createGrpcServer } from '../../src/index.ts';
import { TestServiceClient, testServiceDefinition, unary } from '../helpers.ts';

export interface SoakSample {
  /** Seconds since the load started. */
  at: number;
  calls: number;
  errors: number;
  /** Heap used after a full GC, in MiB. */
  heapMiB: number;
  /** Open file descriptors (Linux; -1 elsewhere). */
  fds: number;
  /** Active handles and requests by kind (`Timeout`, `TCPSocketWrap`, …). */
  resources: Record<string, number>;
}

export interface SoakOptions {
  /** Defaults to 60. */
  seconds?: number;
  /** Calls per second into A. Defaults to 200. */
  ratePerSecond?: number;
  /** Defaults to 5000. */
  sampleEveryMs?: number;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function fds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

function resources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

async function listen(app: express.Express): Promise<{ server: Server; endpoint: string }> {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, endpoint: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export async function runSoak(options: SoakOptions = {}): Promise<SoakSample[]> {
  const seconds = options.seconds ?? 60;
  const rate = options.ratePerSecond ?? 200;
  const every = options.sampleEveryMs ?? 5000;

  const cApp = express();
  const cMesh = weft({ drainSignals: false });
  cApp.use(cMesh);
  cApp.get('/c', (_req, res) => {
    res.json({ ok: true });
  });
  const c = await listen(cApp);
  cMesh.attach(c.server);
  const toC = createClient({ service: 'soak-c', endpoints: [c.endpoint] });

  const b = createGrpcServer();
  b.addService(testServiceDefinition, {
    unaryCall: (_call: ServerUnaryCall<object, object>, cb: sendUnaryData<object>) => {
      toC
        .fetch('/c')
        .then((r) => r.json())
        .then(
          () => cb(null, { username: 'ok' }),
          (e: Error) => cb(e),
        );
    },
  } as never);
  const bPort = await b.listen('127.0.0.1:0');
  const toB = createGrpcClient(TestServiceClient, 'soak-b', { endpoints: [`127.0.0.1:${bPort}`] });

  const aApp = express();
  const aMesh = weft({ drainSignals: false });
  aApp.use(aMesh);
  aApp.get('/a', (_req, res, next) => {
    unary(toB, 'unaryCall', {}).then(() => res.json({ ok: true }), next);
  });
  const a = await listen(aApp);
  aMesh.attach(a.server);
  const toA = createClient({ service: 'soak-a', endpoints: [a.endpoint], timeoutMs: 2000 });

  let calls = 0;
  let errors = 0;
  const inflight = new Set<Promise<void>>();
  const one = () => {
    calls++;
    const p = toA
      .fetch('/a')
      .then(async (r) => {
        await r.arrayBuffer();
        if (r.status !== 200) errors++;
      })
      .catch(() => {
        errors++;
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };

  const samples: SoakSample[] = [];
  const started = performance.now();
  const sample = () => {
    gc();
    samples.push({
      at: Math.round((performance.now() - started) / 1000),
      calls,
      errors,
      heapMiB: Math.round((process.memoryUsage().heapUsed / 1048576) * 10) / 10,
      fds: fds(),
      resources: resources(),
    });
  };
  const tickMs = 10;
  const endMs = seconds * 1000;
  await new Promise<void>((done) => {
    let nextSample = every;
    let sampling = false;
    let pausedMs = 0;
    const timer = setInterval(() => {
      if (sampling) return;
      // Time spent sampling is not load time: the open loop below owes no calls for it.
      const elapsed = performance.now() - started - pausedMs;
      // Each sample waits until no call is in flight, so it counts what outlives the calls (a leak)
      // rather than how many calls a loaded machine happens to hold at that instant; sending pauses
      // meanwhile and resumes at the same rate.
      if (elapsed >= nextSample) {
        nextSample += every;
        sampling = true;
        const pausedAt = performance.now();
        void Promise.all(inflight).then(() => {
          sample();
          pausedMs += performance.now() - pausedAt;
          sampling = false;
        });
        return;
      }
      // Open loop: the calls due by now, so a late tick (a loaded machine) sends what it owes
      // instead of the rate silently dropping with the tick rate.
      const due = Math.floor((Math.min(elapsed, endMs) * rate) / 1000);
      while (calls < due) one();
      if (elapsed >= endMs) {
        clearInterval(timer);
        done();
      }
    }, tickMs);
  });
  await Promise.all(inflight);
  sample();

  await toA.close();
  toB.close();
  await toC.close();
  await b.drain();
  for (const s of [a.server, c.server]) {
    s.closeAllConnections();
    s.close();
  }
  return samples;
}
