/**
 * Load generators. `closedLoop` keeps a fixed number of requests in flight for a bounded time (and
 * count): it measures throughput at saturation. `paced` sends at a fixed rate whatever the answers
 * (open loop, bounded in flight): it measures latency at a load the client can sustain, without the
 * coordinated omission of a closed loop (Tene, "How NOT to Measure Latency").
 *
 * A request function resolves `false` (or throws) for a failure; latencies of every completed
 * request, failures included, are recorded in ms.
 */
import { performance } from 'node:perf_hooks';
import { type Percentiles, percentiles, Recorder } from './stats.ts';

export type RequestFn = () => Promise<boolean>;

export interface LoadResult extends Percentiles {
  /** Requests completed (successes + failures). */
  completed: number;
  failures: number;
  /** Completed requests per second. */
  rps: number;
  elapsedMs: number;
  /** Client CPU time (user + system) per completed request, in µs. */
  cpuUsPerRequest: number;
  /** Client CPU use over the run, 1 = one core. */
  cpuCores: number;
  /** Requests a paced run could not send because too many were in flight. */
  dropped: number;
  /** The first failure's message, for the log. */
  firstError?: string;
}

export interface ClosedLoopOptions {
  concurrency: number;
  durationMs: number;
  /** Hard cap on requests. Defaults to 5,000,000. */
  maxRequests?: number;
}

export async function closedLoop(fn: RequestFn, options: ClosedLoopOptions): Promise<LoadResult> {
  const max = options.maxRequests ?? 5_000_000;
  const rec = new Recorder(Math.min(max, 4_000_000));
  let started = 0;
  let failures = 0;
  let firstError: string | undefined;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + options.durationMs;
  const worker = async () => {
    while (started < max) {
      const s = performance.now();
      if (s >= end) return;
      started++;
      let ok: boolean;
      try {
        ok = await fn();
      } catch (error) {
        ok = false;
        firstError ??= (error as Error).message;
      }
      rec.record(performance.now() - s);
      if (ok === false) failures++;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return summarize(rec, failures, performance.now() - t0, cpu0, 0, firstError);
}

export interface PacedOptions {
  /** Requests per second. */
  rate: number;
  durationMs: number;
  /** Most requests in flight; beyond it a due request is dropped (counted). Defaults to 2000. */
  maxInFlight?: number;
}

export async function paced(fn: RequestFn, options: PacedOptions): Promise<LoadResult> {
  const maxInFlight = options.maxInFlight ?? 2_000;
  const total = Math.ceil((options.rate * options.durationMs) / 1000);
  const rec = new Recorder(total + 1);
  let sent = 0;
  let inFlight = 0;
  let failures = 0;
  let dropped = 0;
  let firstError: string | undefined;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  let ticking = true;
  const finishIfDone = () => {
    if (!ticking && inFlight === 0) resolveDone();
  };
  const one = async () => {
    const s = performance.now();
    inFlight++;
    try {
      if ((await fn()) === false) failures++;
    } catch (error) {
      failures++;
      firstError ??= (error as Error).message;
    }
    rec.record(performance.now() - s);
    inFlight--;
    finishIfDone();
  };
  // Timers fire at best each millisecond; each tick sends what is due by then.
  const timer = setInterval(() => {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - t0) * options.rate) / 1000));
    while (sent < due) {
      sent++;
      if (inFlight >= maxInFlight) dropped++;
      else void one();
    }
    if (sent >= total || now - t0 > options.durationMs * 1.5) {
      clearInterval(timer);
      ticking = false;
      finishIfDone();
    }
  }, 1);
  // Bounded: anything still in flight 30 s after the end is abandoned.
  const guard = setTimeout(resolveDone, options.durationMs + 30_000);
  await done;
  clearTimeout(guard);
  return summarize(rec, failures, performance.now() - t0, cpu0, dropped, firstError);
}

function summarize(
  rec: Recorder,
  failures: number,
  elapsedMs: number,
  cpu0: NodeJS.CpuUsage,
  dropped: number,
  firstError: string | undefined,
): LoadResult {
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = cpu.user + cpu.system;
  const sorted = rec.sorted();
  return {
    ...percentiles(sorted),
    completed: rec.count,
    failures,
    rps: (rec.count / elapsedMs) * 1000,
    elapsedMs,
    cpuUsPerRequest: rec.count ? cpuUs / rec.count : Number.NaN,
    cpuCores: cpuUs / 1000 / elapsedMs,
    dropped,
    ...(firstError ? { firstError } : {}),
  };
}
