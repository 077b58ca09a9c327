/**
 * The demo's traffic-summary timing, shorter than Weft's defaults so that the tour's rollouts
 * (rollout-tour.ts) judge intervals of a few seconds: the config service keeps its traffic window in
 * buckets of {@link TRAFFIC_BUCKET_MS} and the demo's config clients report every
 * {@link TRAFFIC_REPORT_INTERVAL_MS}. With the defaults (10 s buckets, 5 s reports) an interval must
 * span at least 10 s and the same rollouts would take minutes.
 */

/** Width of a bucket of the demo config service's traffic window, in ms (Weft's default: 10000). */
export const TRAFFIC_BUCKET_MS = 2000;
/** How often the demo's config clients report their traffic summary, in ms (Weft's default: 5000). */
export const TRAFFIC_REPORT_INTERVAL_MS = 1000;
