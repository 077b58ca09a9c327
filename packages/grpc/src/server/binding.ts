/**
 * What gRPC tells the server stack: the RPC semantic-convention names (`rpc.server.duration`, span
 * `pkg.Service/Method` with `rpc.system`, `rpc.service`, `rpc.method`, `rpc.grpc.status_code`), and
 * how a refusal is answered, by the error's code: UNAVAILABLE + `weft-rejected: 1` (not processed,
 * safe to retry elsewhere whatever the method), DEADLINE_EXCEEDED + `weft-no-retry: 1`,
 * PERMISSION_DENIED, UNAUTHENTICATED, UNAVAILABLE + `weft-no-retry: 1` for the kill switch
 * (`WEFT_TRAFFIC_STOPPED`: every endpoint is stopped, none is worth a retry), anything else INTERNAL.
 */
import { Metadata, status as Status } from '@grpc/grpc-js';
import type { Attributes } from '@opentelemetry/api';
import {
  ErrorCode,
  Header,
  rejectionReason,
  SERVER_REJECTIONS,
  type ServerBinding,
  type ServerCall,
  type WeftError,
} from '@weft/core';
import { type GrpcServerCall, isServerError } from './call.ts';

const REJECTION_ATTRIBUTES: Attributes = { 'rpc.system': 'grpc' };

/** The status refusing a call with `error`. */
export function rejectionStatus(error: WeftError): { code: Status; details: string; metadata: Metadata } {
  const metadata = new Metadata();
  switch (error.code) {
    case ErrorCode.Rejected:
      metadata.set(Header.rejected, '1');
      return {
        code: Status.UNAVAILABLE,
        details: `call not processed (${rejectionReason(error)}); safe to retry on another endpoint`,
        metadata,
      };
    case ErrorCode.DeadlineExceeded:
      metadata.set(Header.noRetry, '1');
      return {
        code: Status.DEADLINE_EXCEEDED,
        details:
          error === SERVER_REJECTIONS.deadline
            ? 'the deadline of the call had passed on arrival'
            : error.message,
        metadata,
      };
    case ErrorCode.PermissionDenied:
      // Another endpoint would decide the same: never retried.
      metadata.set(Header.noRetry, '1');
      return { code: Status.PERMISSION_DENIED, details: error.message, metadata };
    case ErrorCode.Unauthorized:
      return { code: Status.UNAUTHENTICATED, details: error.message, metadata };
    case ErrorCode.TrafficStopped:
      metadata.set(Header.noRetry, '1');
      return { code: Status.UNAVAILABLE, details: error.message, metadata };
    default:
      return { code: Status.INTERNAL, details: 'refused before the handler ran', metadata };
  }
}

export const grpcServerBinding: ServerBinding = {
  protocol: 'grpc',
  methodKind: 'rpc',
  durationMetric: 'rpc.server.duration',
  rejectionAttributes: REJECTION_ATTRIBUTES,
  spanName: (call) => call.path.slice(1),
  spanAttributes(c) {
    const call = c as GrpcServerCall;
    return { 'rpc.system': 'grpc', 'rpc.service': call.service, 'rpc.method': call.rpcMethod };
  },
  endAttributes(c: ServerCall): Attributes {
    const call = c as GrpcServerCall;
    const code = call.status as number;
    const attributes: Attributes = {
      'rpc.system': 'grpc',
      'rpc.service': call.service,
      'rpc.method': call.rpcMethod,
      'rpc.grpc.status_code': code,
    };
    if (call.outcome === 'cancelled') attributes['error.type'] = 'cancelled';
    else if (isServerError(code)) attributes['error.type'] = Status[code] ?? String(code);
    return attributes;
  },
  endSpanName: () => undefined,
  reject(c, error) {
    const call = c as GrpcServerCall;
    const status = rejectionStatus(error);
    call.status = status.code;
    call.inner.sendStatus(status);
  },
};
