/**
 * Server pushback: HTTP `Retry-After` and gRPC `grpc-retry-pushback-ms` (gRFC A6) on a retryable
 * response say how long the server that sent it wants to be left alone. Weft honours it within
 * the deadline, where it applies: the endpoint that pushed back costs more than any other until the
 * time is up (so the retry goes elsewhere at once, as a shed request should), and when no other
 * endpoint can take the retry, the retry waits for the pushback — or is not made when the wait
 * would not end before the deadline. A pushback that says "do not retry" (gRPC: a negative or
 * malformed value) ends the call with the response it came with.
 */
import type { EndpointSet } from '../balancer/endpoint-set.ts';
import type { ProtocolBinding } from '../protocol/binding.ts';
import type { Call } from '../stack/call.ts';

/** The pushback a wire value asks for: ms to wait, `-1` for "do not retry", `undefined` for none. */
export type Pushback = number | undefined;

/** Largest pushback honoured, in ms (longer ones are capped: the deadline decides anyway). */
export const MAX_PUSHBACK_MS = 86_400_000;

/**
 * Applies a retryable response's pushback: holds the endpoint that sent it, and returns how long
 * the next attempt must wait (0 when another endpoint can take it now), `-1` when the server asked
 * not to be retried, or `undefined` when the response carries no pushback.
 */
export function applyPushback<Res>(
  call: Call,
  response: Res,
  binding: Pick<ProtocolBinding<Call, Res>, 'pushbackMs'>,
  endpoints: EndpointSet,
  now: number,
): number | undefined {
  const ms = binding.pushbackMs?.(response);
  if (ms === undefined || ms < 0) return ms;
  const sent = call.endpoint;
  sent?.hold(now + ms);
  for (const ep of endpoints.available) if (ep !== sent && !ep.held(now)) return 0;
  return ms;
}

/** Parses an HTTP `Retry-After` value (delay-seconds or an HTTP-date) into ms from `nowMs` (wall clock). */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): Pushback {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  if (/^\s*\d{1,10}\s*$/.test(text)) return Math.min(Number(text) * 1000, MAX_PUSHBACK_MS);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - nowMs), MAX_PUSHBACK_MS);
}

/** Parses a gRPC `grpc-retry-pushback-ms` value: anything but a non-negative integer means "do not retry". */
export function parseGrpcPushback(value: string | undefined): Pushback {
  if (value === undefined) return undefined;
  return /^\d{1,10}$/.test(value) ? Math.min(Number(value), MAX_PUSHBACK_MS) : -1;
}
