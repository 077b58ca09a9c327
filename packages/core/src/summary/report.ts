/**
 * The traffic report a process sends the config service (`POST /v1/traffic/reports`) every few
 * seconds, and its schema, shared by both sides. One row per (destination, subset, endpoint) that
 * saw attempts in the interval; the caller service is the reporter's. Counts are of the interval
 * only (deltas), so the service adds them up and a lost report loses one interval, nothing more.
 */
import { z } from 'zod';
import { NAME_PATTERN } from '../config/document.ts';
import { BUCKETS, HISTOGRAM_SCHEMA } from './histogram.ts';

/** Most rows one report may carry (the service refuses larger ones). */
export const MAX_REPORT_ROWS = 10_000;

/** The caller name for a process that does not say which service it is. */
export const UNKNOWN_SERVICE = 'unknown';

const label = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !/\p{Cc}/u.test(s), 'must not contain control characters');
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const Sparse = z
  .strictObject({
    /** Indices of the non-empty buckets, ascending. */
    i: z
      .array(
        z
          .number()
          .int()
          .min(0)
          .max(BUCKETS - 1),
      )
      .max(BUCKETS),
    /** Their counts. */
    c: z.array(count).max(BUCKETS),
  })
  .refine((h) => h.i.length === h.c.length, 'i and c must have the same length')
  .refine((h) => h.i.every((v, k) => k === 0 || v > h.i[k - 1]!), 'i must be strictly ascending');

export const TrafficReportRow = z.strictObject({
  destination: z.string().regex(NAME_PATTERN, 'must be a service name'),
  /** The Route subset the attempts went to; "" without a Route. */
  subset: z.union([z.literal(''), label(253)]),
  /** `host:port`. */
  endpoint: label(300),
  /** Attempts that ended (cancelled ones are not counted). */
  requests: count,
  /** Failed attempts by the classifier's class (`failure`, `retryable`). */
  failures: z.record(label(64), count),
  /** Latency of every counted attempt, in the shared buckets. */
  latency: Sparse,
  /** The client's view of the endpoint when the report was made. */
  state: z
    .strictObject({
      healthy: z.boolean(),
      ejected: z.boolean(),
      latencyEstimateMs: z.number().min(0).nullable(),
    })
    .optional(),
});
export type TrafficReportRow = z.infer<typeof TrafficReportRow>;

export const TrafficReport = z.strictObject({
  /** The reporting process: a unique id (stable for its life) and the service it is. */
  reporter: z.strictObject({ id: label(200), service: z.string().regex(NAME_PATTERN) }),
  /** The bucket layout of every `latency` (see histogram.ts). */
  histogram: z.literal(HISTOGRAM_SCHEMA),
  /** The interval the counts cover, in ms. */
  intervalMs: z.number().int().min(1).max(3_600_000),
  /** Rows left out of this report by the row cap, and reports dropped since the last one sent. */
  dropped: z.strictObject({ rows: count, reports: count }),
  rows: z.array(TrafficReportRow).max(MAX_REPORT_ROWS),
});
export type TrafficReport = z.infer<typeof TrafficReport>;
