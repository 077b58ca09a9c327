/**
 * What gRPC gives the route and fault modules: metadata reads and edits, response metadata edits,
 * copies of unary and server-streaming calls for mirroring (their one request message can be sent
 * twice; a request stream cannot), and the status of an injected abort, answered without a server.
 */
import { Metadata, type status as Status } from '@grpc/grpc-js';
import { type CompiledEdits, type FaultAbort, Header } from '@weft/core';
import { GrpcCall } from './call.ts';
import { GrpcExchange, makeStatus } from './exchange.ts';
import type { RawCall } from './raw.ts';

export function requestHeader(call: GrpcCall, name: string): string | undefined {
  const own = call.headers[name];
  if (own !== undefined) return own;
  if (name.endsWith('-bin')) return undefined;
  const value = call.metadata.get(name)[0];
  return typeof value === 'string' ? value : undefined;
}

/** Edits the call's metadata (a copy of the caller's, made on the first edit). */
export function editRequestHeaders(call: GrpcCall, edits: CompiledEdits): void {
  const md = call.metadata.clone();
  for (const name of edits.remove) {
    md.remove(name);
    delete call.headers[name];
  }
  for (const [name, value] of edits.set) {
    md.set(name, value);
    delete call.headers[name];
  }
  for (const [name, value] of edits.add) md.add(name, value);
  call.metadata = md;
}

export function editResponseHeaders(exchange: GrpcExchange, edits: CompiledEdits): void {
  const md = exchange.headers ?? new Metadata();
  for (const name of edits.remove) md.remove(name);
  for (const [name, value] of edits.set) md.set(name, value);
  for (const [name, value] of edits.add) md.add(name, value);
  exchange.headers = md;
}

/** A copy of a unary or server-streaming call (its serialized request is sent again). */
export function mirror(call: GrpcCall): GrpcCall | undefined {
  if (call.outbound !== undefined || call.request === undefined) return undefined;
  const copy = new GrpcCall(call.destination, call.path, call.kind, call.metadata.clone(), undefined);
  copy.request = call.request;
  copy.headers = { ...call.headers };
  copy.idempotent = call.idempotent;
  return copy;
}

/**
 * The gRPC code for an HTTP status, as gRPC's own mapping of HTTP statuses does
 * (doc/http-grpc-status-mapping.md in grpc/grpc): 400 INTERNAL, 401 UNAUTHENTICATED,
 * 403 PERMISSION_DENIED, 404 UNIMPLEMENTED, 429/502/503/504 UNAVAILABLE, others UNKNOWN.
 */
export function grpcCodeOfHttp(status: number): Status {
  switch (status) {
    case 400:
      return 13 as Status;
    case 401:
      return 16 as Status;
    case 403:
      return 7 as Status;
    case 404:
      return 12 as Status;
    case 429:
    case 502:
    case 503:
    case 504:
      return 14 as Status;
    default:
      return 2 as Status;
  }
}

/** The raw call of an answer no server gives: nothing to cancel, read or write. */
const LOCAL = {
  cancelWithStatus() {},
  getPeer: () => '',
  startRead() {},
  sendMessageWithContext() {},
  halfClose() {},
} as unknown as RawCall;

/** An injected abort's answer: the rule's code (`weft-fault: abort` in the trailers), from no server. */
export function faultResponse(call: GrpcCall, abort: FaultAbort, now: () => number): GrpcExchange {
  const exchange = new GrpcExchange(LOCAL, 'fault', call, now);
  const code = (abort.grpcStatus as Status | undefined) ?? grpcCodeOfHttp(abort.status ?? 503);
  const trailers = new Metadata();
  trailers.set(Header.fault, 'abort');
  exchange.onReceiveStatus(makeStatus(code, `fault injected by the route of ${call.destination}`, trailers));
  return exchange;
}
