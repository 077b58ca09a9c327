/**
 * A gRPC call as it travels down the Weft stack: the protocol-neutral call plus the serialized
 * request (unary and server-streaming calls), or the outbound message pipe (client and bidi
 * streams, replayable until the first response message or past a size limit).
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

type WriteCallback = (error?: Error | null) => void;

/** One outbound message and the caller's write callback (acknowledged once it is written). */
interface Entry {
  message: Buffer;
  callback: WriteCallback | undefined;
}

/**
 * The request side of a streaming call. Messages are written to the current attempt's call one at a
 * time (the next once the previous is acknowledged: grpc-js's call holds a single pending write).
 * Until the call commits (its first response message or status) every message written so far is
 * also kept, up to `limitBytes`, so that a retry can replay them in order on a new attempt — the
 * buffered-retry design of gRPC's own retry spec (gRFC A6). Past the limit the call is no longer
 * replayable.
 */
export class Outbound {
  #queue: Entry[] = [];
  #log: Buffer[] | undefined = [];
  #bytes = 0;
  #attempts = 0;
  #generation = 0;
  #writing = false;
  #halfClosed = false;
  #halfSent = false;
  #target: RawCall | undefined;
  #written: { callback: WriteCallback } = { callback: () => {} };
  readonly #limit: number;
  readonly #call: GrpcCall;

  constructor(call: GrpcCall, limitBytes: number) {
    this.#call = call;
    this.#limit = limitBytes;
  }

  send(context: { callback?: WriteCallback }, message: Buffer): void {
    if (this.#log) {
      this.#bytes += message.length;
      if (this.#bytes > this.#limit) this.#stopReplay();
      else this.#log.push(message);
    }
    this.#queue.push({ message, callback: context.callback });
    this.#pump();
  }

  halfClose(): void {
    this.#halfClosed = true;
    this.#pump();
  }

  /** Connects the pipe to an attempt's call: a retry first gets every message sent so far. */
  attach(target: RawCall): void {
    this.#target = target;
    const generation = ++this.#generation;
    // One acknowledgement handler per attempt (not per write); a late one from an abandoned attempt is ignored.
    this.#written = { callback: (error) => this.#acknowledged(generation, error) };
    this.#writing = false;
    this.#halfSent = false;
    if (this.#attempts++ > 0 && this.#log) {
      // The unacknowledged entries are the log's tail: keep their callbacks, replay the rest bare.
      const carried = this.#queue;
      const base = this.#log.length - carried.length;
      this.#queue = this.#log.map((message, i) => ({
        message,
        callback: i >= base ? carried[i - base]?.callback : undefined,
      }));
    }
    this.#pump();
  }

  /** The call is committed to its attempt: stop keeping messages. */
  commit(): void {
    this.#stopReplay();
  }

  #acknowledged(generation: number, error: Error | null | undefined): void {
    if (generation !== this.#generation) return;
    this.#writing = false;
    this.#queue.shift()?.callback?.(error);
    this.#pump();
  }

  #pump(): void {
    const target = this.#target;
    if (!target || this.#writing) return;
    const entry = this.#queue[0];
    if (!entry) {
      if (this.#halfClosed && !this.#halfSent) {
        this.#halfSent = true;
        target.halfClose();
      }
      return;
    }
    this.#writing = true;
    target.sendMessageWithContext(this.#written, entry.message);
  }

  #stopReplay(): void {
    this.#log = undefined;
    this.#call.replayable = false;
  }
}

/** Bytes of request messages a stream keeps for a retry: 256 KiB, gRPC's own per-call default (gRFC A6). */
export const DEFAULT_REPLAY_LIMIT_BYTES = 262_144;

export class GrpcCall extends Call {
  readonly kind: GrpcCallKind;
  /** The caller's metadata (a copy once a route rule edits it); each attempt sends a copy with Weft's headers added. */
  metadata: Metadata;
  /** The serialized request of a unary or server-streaming call. */
  request: Buffer | undefined;
  /** The request stream of a client-streaming or bidi call (replayable until committed). */
  readonly outbound: Outbound | undefined;

  constructor(
    destination: string,
    path: string,
    kind: GrpcCallKind,
    metadata: Metadata,
    signal: AbortSignal | undefined,
    replayLimitBytes = DEFAULT_REPLAY_LIMIT_BYTES,
  ) {
    super(destination, path, path, {}, signal);
    this.kind = kind;
    this.metadata = metadata;
    this.idempotent = false;
    this.longLived = kind !== 'unary';
    const streamingRequest = kind === 'client-stream' || kind === 'bidi';
    this.outbound = streamingRequest ? new Outbound(this, replayLimitBytes) : undefined;
    // A stream's first message may wait for an event (a subscription): not the endpoint's latency.
  }

  /** True when the response is a stream (the attempt resolves at the first message). */
  get responseStream(): boolean {
    return this.kind === 'server-stream' || this.kind === 'bidi';
  }
}
