/**
 * The wire format of Weft's own headers, shared by every protocol binding.
 *
 * - `weft-deadline-ms`: the remaining budget in whole milliseconds. Relative, so clock skew between
 *   hosts does not matter (the idea of gRPC's `grpc-timeout`).
 * - `weft-rejected: 1` on a response: the server shed the request before processing it (admission
 *   control, draining); safe to retry on another endpoint whatever the method.
 * - `weft-route: catalog=v2` on a request: pins subsets of the named services for this request and
 *   every call it causes, where the service's Route allows overrides.
 * - `weft-no-retry: 1` on a response: the server already retried downstream and gave up; callers
 *   must not retry, or retries multiply at every hop.
 */
export const Header = {
  deadline: 'weft-deadline-ms',
  rejected: 'weft-rejected',
  noRetry: 'weft-no-retry',
  attempt: 'weft-attempt',
  /** The travelling subset override: `catalog=v2,users=v3` (see the Route document). */
  route: 'weft-route',
  /** On a mirrored copy: `1`. */
  mirror: 'weft-mirror',
  /** A delay asked for by the request, where the route rule allows header faults. */
  faultDelay: 'weft-fault-delay-ms',
  /** An abort asked for by the request (an HTTP status or a gRPC code), where allowed. */
  faultAbort: 'weft-fault-abort',
  /** On a response a fault injection answered: `abort`. */
  fault: 'weft-fault',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  baggage: 'baggage',
} as const;

/** Largest deadline accepted from the wire: one day. Larger values are treated as malformed. */
export const MAX_WIRE_DEADLINE_MS = 86_400_000;

/**
 * Parses a `weft-deadline-ms` value. Returns the remaining ms, `undefined` when absent, or `NaN`
 * when malformed (the caller counts it and ignores it).
 */
export function parseDeadlineHeader(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || !/^\d{1,9}$/.test(text)) return Number.NaN;
  const ms = Number(text);
  return ms > MAX_WIRE_DEADLINE_MS ? Number.NaN : ms;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})/;
const ZEROS = /^0+$/;

/**
 * Parses a W3C `traceparent` and returns it in version 00, or `undefined` when it is malformed.
 * Version 00 must be exactly 55 characters. A later version is read as the Trace Context spec asks
 * (§ versioning of traceparent): its first 55 characters in the version 00 layout, then nothing or
 * a `-` before fields this version does not know (ignored); only the `sampled` flag is kept, and
 * it is forwarded as version 00, the version this library writes. Version `ff` is invalid, and so
 * are all-zero trace and parent ids.
 */
export function parseTraceparent(value: string): string | undefined {
  const m = TRACEPARENT.exec(value);
  if (m === null) return undefined;
  const [, version, traceId, parentId, flags] = m as unknown as [string, string, string, string, string];
  if (ZEROS.test(traceId) || ZEROS.test(parentId)) return undefined;
  if (version === '00') return value.length === 55 ? value : undefined;
  if (version === 'ff' || (value.length > 55 && value[55] !== '-')) return undefined;
  const sampled = (Number.parseInt(flags, 16) & 1) === 1 ? '01' : '00';
  return `00-${traceId}-${parentId}-${sampled}`;
}

/** True when `value` is a well-formed W3C traceparent (version 00, or a later one read as version 00). */
export function isValidTraceparent(value: string): boolean {
  return parseTraceparent(value) !== undefined;
}
