/**
 * The gRPC binding: what core needs from gRPC over grpc-js. The terminal opens the attempt's call on
 * its endpoint's Channel and sends the deadline natively (`grpc-timeout`), so nothing is written for
 * it as a header; spans and metrics carry the OpenTelemetry RPC conventions' names; `weft-no-retry`
 * and `grpc-retry-pushback-ms` (gRFC A6) are read from the trailers.
 */
import type { status as Status } from '@grpc/grpc-js';
import {
  type Clock,
  discardExchange,
  Header,
  nativeDeadline,
  onExchangeDone,
  type ProtocolBinding,
  type ProtocolSemconv,
  parseGrpcPushback,
} from '@weft/core';
import type { GrpcCall } from './call.ts';
import { grpcClassifier } from './classifier.ts';
import type { GrpcExchange } from './exchange.ts';
import type { GrpcClientMtls } from './mtls.ts';
import {
  editRequestHeaders,
  editResponseHeaders,
  faultResponse,
  mirror,
  requestHeader,
} from './route-hooks.ts';
import { EndpointChannel, sender, type TransportOptions } from './transport.ts';

/**
 * The names of the OpenTelemetry RPC semantic conventions for client spans and metrics. They define
 * no resend count: a retried call's attempts are told apart by the logical span's `weft.attempts`.
 */
export const GRPC_SEMCONV: ProtocolSemconv<GrpcCall> = {
  spanName: (call) => call.path.slice(1),
  methodKey: 'rpc.method',
  statusKey: 'rpc.grpc.status_code',
  resendCountKey: undefined,
  attemptDuration: { name: 'rpc.client.duration', unit: 's' },
};

/** The process clock, for a fault's exchange (it never reads the deadline). */
const performanceNow = () => performance.now();

function terminal(clock: Clock) {
  return sender(() => clock.now());
}

/** A removed endpoint's channel closes once its calls end (grpc-js lets them finish). */
function closeChannel(channel: EndpointChannel): void {
  channel.close();
}

function status(response: GrpcExchange): number {
  return response.status?.code ?? 0;
}

function upstreamExhausted(response: GrpcExchange): boolean {
  return (response.status?.metadata.get(Header.noRetry).length ?? 0) > 0;
}

function notSent(response: GrpcExchange): boolean {
  return response.notSent;
}

function pushbackMs(response: GrpcExchange): number | undefined {
  const value = response.status?.metadata.get('grpc-retry-pushback-ms')[0];
  return parseGrpcPushback(value === undefined ? undefined : String(value));
}

/**
 * The binding of one gRPC client: one grpc-js Channel per endpoint, made with `transport`, and
 * `retryableCodes` retried on idempotent methods whatever the policy; with `mtls`, each channel is
 * mTLS or plaintext as its plan says.
 */
export function grpcBinding(
  transport: TransportOptions,
  retryableCodes: readonly Status[],
  mtls?: GrpcClientMtls,
): ProtocolBinding<GrpcCall, GrpcExchange, EndpointChannel> {
  const classify = grpcClassifier(retryableCodes);
  return {
    name: 'rpc',
    semconv: GRPC_SEMCONV,
    terminal,
    classifier: () => classify,
    connect: (endpoint) => new EndpointChannel(endpoint, transport, mtls),
    disconnect: closeChannel,
    writeDeadline: nativeDeadline,
    status,
    discard: discardExchange,
    onBodyDone: onExchangeDone,
    upstreamExhausted,
    notSent,
    pushbackMs,
    methodKind: 'rpc',
    requestHeader,
    editRequestHeaders,
    editResponseHeaders,
    mirror,
    faultResponse: (call, abort) => faultResponse(call, abort, performanceNow),
  };
}
