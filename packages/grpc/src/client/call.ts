/**
 * A gRPC call as it travels down the Weft stack: the protocol-neutral call plus the serialized
 * request (unary and server-streaming calls, replayable), or the outbound message pipe (client and
 * bidi streams, sent once: they are not replayed).
 */
import type { Metadata } from '@grpc/grpc-js';
import { Call } from '@weft/core';
import type { RawCall } from './raw.ts';

/** The four gRPC call shapes. */
export type GrpcCallKind = 'unary' | 'server-stream' | 'client-stream' | 'bidi';

export function callKind(requestStream: boolean, responseStream: boolean): GrpcCallKind {
  if (requestStream) return responseStream ? 'bidi' : 'client-stream';
  return responseStream ? 'server-stream' : 'unary';
}

/** One outbound message with the write context grpc-js gave it (its callback acknowledges the write). */
interface Pending {
  context: { callback?: (error?: Error | null) => void; flags?: number };
  message: Buffer;
}

/**
 * The request side of a streaming call: messages are queued until the attempt's call exists, then
 * written straight through. A stream is sent on exactly one attempt.
 */
export class Outbound {
  #queue: Pending[] | undefined = [];
  #halfClosed = false;
  #target: RawCall | undefined;

  send(context: Pending['context'], message: Buffer): void {
    if (this.#target) this.#target.sendMessageWithContext(context, message);
    else this.#queue?.push({ context, message });
  }

  halfClose(): void {
    this.#halfClosed = true;
    this.#target?.halfClose();
  }

  /** Connects the pipe to the attempt's call and flushes what was queued. */
  attach(target: RawCall): void {
    this.#target = target;
    const queue = this.#queue ?? [];
    this.#queue = undefined;
    for (const p of queue) target.sendMessageWithContext(p.context, p.message);
    if (this.#halfClosed) target.halfClose();
  }
}

export class GrpcCall extends Call {
  readonly kind: GrpcCallKind;
  /** The caller's metadata; each attempt sends a copy with Weft's headers added. */
  readonly metadata: Metadata;
  /** The serialized request of a unary or server-streaming call. */
  request: Buffer | undefined;
  /** The request stream of a client-streaming or bidi call. */
  readonly outbound: Outbound | undefined;

  constructor(
    destination: string,
    path: string,
    kind: GrpcCallKind,
    metadata: Metadata,
    signal: AbortSignal | undefined,
  ) {
    super(destination, path, path, {}, signal);
    this.kind = kind;
    this.metadata = metadata;
    this.idempotent = false;
    const streamingRequest = kind === 'client-stream' || kind === 'bidi';
    this.outbound = streamingRequest ? new Outbound() : undefined;
    this.replayable = !streamingRequest;
  }

  /** True when the response is a stream (the attempt resolves at the first message). */
  get responseStream(): boolean {
    return this.kind === 'server-stream' || this.kind === 'bidi';
  }
}
