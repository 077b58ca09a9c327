/**
 * A process's traffic summary: the destinations of its clients (each a {@link DestinationSummary}),
 * and the timer that turns their counts into a report every `reportIntervalMs` and hands it to
 * `send` (the config client POSTs it). Never on the request path; bounded (`maxRowsPerReport`, the
 * rest counted as dropped); and a report that cannot go — the config service is unreachable, or the
 * previous report is still on its way — is dropped and counted, never queued, so an outage costs
 * no memory and a recovered service is not flooded.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { EndpointSet } from '../balancer/endpoint-set.ts';
import { invalidOption } from '../errors/errors.ts';
import type { Clock, TimerHandle } from '../time/clock.ts';
import { HISTOGRAM_SCHEMA } from './histogram.ts';
import { DestinationSummary } from './recorder.ts';
import type { TrafficReport, TrafficReportRow } from './report.ts';

export interface TrafficSummaryOptions {
  /** How often a report is made, in ms (1000–300000). Defaults to 5000. */
  reportIntervalMs?: number;
  /** Most rows in one report (1–10000); the others of that interval are dropped and counted. Defaults to 2000. */
  maxRowsPerReport?: number;
}

export const TRAFFIC_SUMMARY_DEFAULTS = { reportIntervalMs: 5000, maxRowsPerReport: 2000 } as const;

/** What a summary has done since it started. */
export interface TrafficSummaryStats {
  readonly reportsSent: number;
  /** Reports dropped: the service was unreachable, refused them, or the previous one was still in flight. */
  readonly reportsDropped: number;
  /** Rows left out by `maxRowsPerReport`. */
  readonly rowsDropped: number;
  readonly lastError: string | undefined;
}

export interface TrafficSummaryHost {
  /** The service this process is (the caller of every row). */
  readonly service: string;
  readonly clock: Clock;
  /** False while there is no point in trying (the config service is known to be away). */
  canSend(): boolean;
  /** Sends one report; rejects when it was not accepted. */
  send(report: TrafficReport): Promise<void>;
}

function checked(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw invalidOption(name, `must be an integer from ${min} to ${max}, got ${value}`);
  return value;
}

/** `options` with their defaults, checked; throws a `WEFT_INVALID_OPTION` error naming a bad one. */
export function resolveTrafficSummaryOptions(
  options: TrafficSummaryOptions = {},
): Required<TrafficSummaryOptions> {
  const d = TRAFFIC_SUMMARY_DEFAULTS;
  return {
    reportIntervalMs: checked(
      'traffic.reportIntervalMs',
      options.reportIntervalMs ?? d.reportIntervalMs,
      1000,
      300_000,
    ),
    maxRowsPerReport: checked(
      'traffic.maxRowsPerReport',
      options.maxRowsPerReport ?? d.maxRowsPerReport,
      1,
      10_000,
    ),
  };
}

export class TrafficSummary {
  /** This process, as reports name it: `host:pid:random`, unique across restarts. */
  readonly id = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  readonly intervalMs: number;
  readonly maxRows: number;
  readonly #host: TrafficSummaryHost;
  readonly #destinations = new Set<DestinationSummary>();
  #timer: TimerHandle | undefined;
  #inflight = false;
  #closed = false;
  #stats = { reportsSent: 0, reportsDropped: 0, rowsDropped: 0, lastError: undefined as string | undefined };
  /** Dropped and not yet told in a report that arrived: carried in the next one. */
  #unsent = { rows: 0, reports: 0 };

  constructor(host: TrafficSummaryHost, options: TrafficSummaryOptions = {}) {
    const resolved = resolveTrafficSummaryOptions(options);
    this.intervalMs = resolved.reportIntervalMs;
    this.maxRows = resolved.maxRowsPerReport;
    this.#host = host;
    this.#schedule();
  }

  get service(): string {
    return this.#host.service;
  }

  get stats(): TrafficSummaryStats {
    return { ...this.#stats };
  }

  /** The summary of one client destination; the client closes it when it closes. */
  open(destination: string, endpoints: EndpointSet): DestinationSummary {
    const summary = new DestinationSummary(destination, endpoints);
    if (!this.#closed) this.#destinations.add(summary);
    return summary;
  }

  /** The report of the interval now ending, resetting every counter (exposed for tests and benchmarks). */
  collect(): TrafficReport {
    const rows: TrafficReportRow[] = [];
    let left = 0;
    const now = this.#host.clock.now();
    for (const d of this.#destinations) {
      left += d.drain(rows, this.maxRows, now);
      if (d.closed) this.#destinations.delete(d);
    }
    this.#stats.rowsDropped += left;
    this.#unsent.rows += left;
    return {
      reporter: { id: this.id, service: this.#host.service },
      histogram: HISTOGRAM_SCHEMA,
      intervalMs: this.intervalMs,
      dropped: { ...this.#unsent },
      rows,
    };
  }

  /** Makes this interval's report and sends it, or drops it (see the module's note). */
  async flush(): Promise<void> {
    const report = this.collect();
    if (this.#inflight || !this.#host.canSend()) {
      this.#drop(this.#inflight ? 'the previous report is still in flight' : undefined);
      return;
    }
    this.#inflight = true;
    try {
      await this.#host.send(report);
      this.#stats.reportsSent++;
      // What it carried has been told; drops since it was made have not.
      this.#unsent.rows -= report.dropped.rows;
      this.#unsent.reports -= report.dropped.reports;
    } catch (error) {
      this.#drop((error as Error).message);
    } finally {
      this.#inflight = false;
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#host.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#destinations.clear();
  }

  #drop(reason: string | undefined): void {
    this.#stats.reportsDropped++;
    this.#unsent.reports++;
    if (reason !== undefined) this.#stats.lastError = reason;
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = this.#host.clock.setTimeout(
      () => {
        this.#schedule();
        void this.flush();
      },
      this.intervalMs,
      true,
    );
  }
}
