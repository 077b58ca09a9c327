/**
 * The wire format of Weft's own headers, shared by every protocol binding.
 *
 * - `weft-deadline-ms`: the remaining budget in whole milliseconds. Relative, so clock skew between
 *   hosts does not matter (the idea of gRPC's `grpc-timeout`).
 * - `weft-rejected: 1` on a response: the server shed the request before processing it (admission
 *   control, draining); safe to retry on another endpoint whatever the method.
 * - `weft-no-retry: 1` on a response: the server already retried downstream and gave up; callers
 *   must not retry, or retries multiply at every hop.
 */
export const Header = {
  deadline: 'weft-deadline-ms',
  rejected: 'weft-rejected',
  noRetry: 'weft-no-retry',
  attempt: 'weft-attempt',
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

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** True when `value` is a well-formed W3C traceparent (version 00) with non-zero ids. */
export function isValidTraceparent(value: string): boolean {
  const m = TRACEPARENT.exec(value);
  return m !== null && !/^0+$/.test(m[1]!) && !/^0+$/.test(m[2]!);
}
