/**
 * Several config-service replicas over one etcd answer for the whole mesh: each process reports to
 * one replica, so each replica shares what it received. Once a time bucket is complete, a replica
 * writes its own cells of it (and the reporters it heard from) to the store under its own names,
 * with a lease that ends when the bucket leaves the 15-min window; every replica lists the names of
 * the others, reads the ones it has not seen and adds them to its window. Nothing is merged twice
 * (a name is read once, and a replica shares only what it received itself), a replica that dies
 * leaves its buckets until they age out, and the others' data is at most one bucket plus one
 * exchange interval behind (20 s with the defaults).
 */
import { randomBytes } from 'node:crypto';
import type { TrafficReportRow } from '@weft/core';
import type { ReplicaBlobs } from '../store/store.ts';
import { type Cell, type Series, type TrafficWindow, WINDOW_MS } from './window.ts';

/** Series per stored value (each well under etcd's request limit). */
export const SERIES_PER_BLOB = 1000;

/** One stored value: a chunk of one replica's bucket. */
interface Blob {
  bucket: number;
  reporters: [string, string, number][];
  series: [
    from: string,
    to: string,
    subset: string,
    endpoint: string,
    requests: number,
    failures: Record<string, number>,
    idx: number[],
    cnt: number[],
    state: TrafficReportRow['state'] | null,
  ][];
}

export interface ReplicaExchange {
  /** This replica's name in the store. */
  readonly replica: string;
  /** Shares the complete buckets and reads the others' new ones (the timer does it too). */
  sync(): Promise<void>;
  stop(): void;
}

export interface ReplicaExchangeOptions {
  /** How often to exchange, in ms. Defaults to the window's bucket width. */
  intervalMs?: number;
  /** Told when an exchange fails (it is tried again at the next interval). */
  onError?: (error: unknown) => void;
}

export function shareWindow(
  window: TrafficWindow,
  blobs: ReplicaBlobs,
  options: ReplicaExchangeOptions = {},
): ReplicaExchange {
  const replica = randomBytes(6).toString('hex');
  const prefix = 'traffic/';
  const seen = new Set<string>();
  let running: Promise<void> | undefined;

  async function publish(): Promise<void> {
    const now = window.now();
    const current = Math.floor(now / window.bucketMs);
    for (const { bucket, cells } of window.takeOwn(current)) {
      const ttlS = Math.ceil((bucket * window.bucketMs + WINDOW_MS + window.bucketMs - now) / 1000);
      if (ttlS <= 1) continue;
      const entries = [...cells];
      const reporters = window.reporterList(bucket * window.bucketMs);
      for (let chunk = 0; chunk * SERIES_PER_BLOB < Math.max(1, entries.length); chunk++) {
        const part = entries.slice(chunk * SERIES_PER_BLOB, (chunk + 1) * SERIES_PER_BLOB);
        const blob: Blob = {
          bucket,
          reporters: chunk === 0 ? reporters : [],
          series: part.map(([s, c]) => encode(s, c)),
        };
        await blobs.put(`${prefix}${replica}/${bucket}/${chunk}`, JSON.stringify(blob), ttlS);
      }
    }
  }

  async function read(): Promise<void> {
    const names = await blobs.names(prefix);
    const listed = new Set(names);
    for (const name of seen) if (!listed.has(name)) seen.delete(name);
    for (const name of names) {
      if (seen.has(name) || name.startsWith(`${prefix}${replica}/`)) continue;
      const text = await blobs.get(name);
      seen.add(name);
      if (text === undefined) continue;
      merge(window, JSON.parse(text) as Blob);
    }
  }

  const sync = () => {
    running ??= (async () => {
      try {
        await publish();
        await read();
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const timer = setInterval(() => {
    sync().catch((error) => options.onError?.(error));
  }, options.intervalMs ?? window.bucketMs);
  timer.unref();
  return { replica, sync, stop: () => clearInterval(timer) };
}

function encode(s: Series, c: Cell): Blob['series'][number] {
  return [
    s.from,
    s.to,
    s.subset,
    s.endpoint,
    c.requests,
    c.failures ?? {},
    c.hist.filter((_, k) => k % 2 === 0),
    c.hist.filter((_, k) => k % 2 === 1),
    s.state ?? null,
  ];
}

function merge(window: TrafficWindow, blob: Blob): void {
  const at = (blob.bucket + 1) * window.bucketMs;
  for (const [id, service, lastAt] of blob.reporters) window.noteReporter(id, service, lastAt);
  for (const [from, to, subset, endpoint, requests, failures, idx, cnt, state] of blob.series) {
    const series = window.seriesFor(from, to, subset, endpoint, at);
    if (series === undefined) continue;
    if (state && series.state === undefined) series.state = state;
    window.addCell(series, blob.bucket, requests, failures, idx, cnt);
  }
}
