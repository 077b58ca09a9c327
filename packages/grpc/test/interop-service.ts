/**
 * The interop suite's TestService, as the spec describes the server side: echo payloads of the
 * requested sizes, honour `response_status`, echo the custom metadata
 * (`x-grpc-test-echo-initial` as a header, `x-grpc-test-echo-trailing-bin` as a trailer), and leave
 * UnimplementedCall unimplemented.
 */
import {
  Metadata,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  status as Status,
  type sendUnaryData,
} from '@grpc/grpc-js';

interface Payload {
  type?: string;
  body: Buffer;
}
interface EchoStatus {
  code: number;
  message: string;
}
interface SimpleRequest {
  responseSize: number;
  payload?: Payload | null;
  responseStatus?: EchoStatus | null;
}
interface StreamingOutputCallRequest {
  responseParameters: { size: number; intervalUs: number }[];
  payload?: Payload | null;
  responseStatus?: EchoStatus | null;
}

const INITIAL = 'x-grpc-test-echo-initial';
const TRAILING = 'x-grpc-test-echo-trailing-bin';

function payload(size: number): Payload {
  return { type: 'COMPRESSABLE', body: Buffer.alloc(size) };
}

function echoHeaders(metadata: Metadata): Metadata {
  const out = new Metadata();
  for (const v of metadata.get(INITIAL)) out.add(INITIAL, v);
  return out;
}

function echoTrailers(metadata: Metadata): Metadata {
  const out = new Metadata();
  for (const v of metadata.get(TRAILING)) out.add(TRAILING, v);
  return out;
}

function failure(status: EchoStatus | null | undefined, trailers: Metadata) {
  if (!status || status.code === 0) return undefined;
  return { code: status.code, details: status.message, metadata: trailers };
}

export const testService = {
  emptyCall(_call: ServerUnaryCall<object, object>, callback: sendUnaryData<object>) {
    callback(null, {});
  },

  unaryCall(call: ServerUnaryCall<SimpleRequest, object>, callback: sendUnaryData<object>) {
    const req = call.request;
    call.sendMetadata(echoHeaders(call.metadata));
    const trailers = echoTrailers(call.metadata);
    const fail = failure(req.responseStatus, trailers);
    if (fail) {
      callback(fail);
      return;
    }
    callback(null, { payload: payload(req.responseSize) }, trailers);
  },

  streamingOutputCall(call: ServerWritableStream<StreamingOutputCallRequest, object>) {
    const params = call.request.responseParameters;
    let i = 0;
    const next = () => {
      if (call.cancelled) return;
      const p = params[i++];
      if (!p) {
        call.end();
        return;
      }
      const send = () => {
        call.write({ payload: payload(p.size) });
        next();
      };
      if (p.intervalUs > 0) setTimeout(send, p.intervalUs / 1000);
      else send();
    };
    next();
  },

  streamingInputCall(
    call: ServerReadableStream<{ payload?: Payload | null }, object>,
    callback: sendUnaryData<object>,
  ) {
    let total = 0;
    call.on('data', (m: { payload?: Payload | null }) => {
      total += m.payload?.body.length ?? 0;
    });
    call.on('end', () => callback(null, { aggregatedPayloadSize: total }));
    call.on('error', () => {});
  },

  fullDuplexCall(call: ServerDuplexStream<StreamingOutputCallRequest, object>) {
    let metadataSent = false;
    const trailers = echoTrailers(call.metadata);
    call.on('data', (req: StreamingOutputCallRequest) => {
      if (!metadataSent) {
        call.sendMetadata(echoHeaders(call.metadata));
        metadataSent = true;
      }
      const fail = failure(req.responseStatus, trailers);
      if (fail) {
        call.emit('error', fail);
        return;
      }
      for (const p of req.responseParameters) call.write({ payload: payload(p.size) });
    });
    call.on('end', () => {
      if (!metadataSent) call.sendMetadata(echoHeaders(call.metadata));
      call.end(trailers);
    });
    call.on('error', () => {});
  },

  halfDuplexCall(call: ServerDuplexStream<StreamingOutputCallRequest, object>) {
    const queued: StreamingOutputCallRequest[] = [];
    call.on('data', (req: StreamingOutputCallRequest) => queued.push(req));
    call.on('end', () => {
      for (const req of queued)
        for (const p of req.responseParameters) call.write({ payload: payload(p.size) });
      call.end();
    });
  },
};

export { Status };
