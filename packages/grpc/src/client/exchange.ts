/**
 * One gRPC attempt on one endpoint's channel. It resolves `head` when the attempt's outcome is
 * known enough to classify: at the final status for unary responses, at the first message (or the
 * status) for streaming responses — so a stream is retried only before its first response message.
 * Until a consumer attaches, response headers and messages are held (read one at a time, so flow
 * control still applies); then they are delivered in order, the status last.
 */
import { Metadata, status as Status, type StatusObject } from '@grpc/grpc-js';
import { AttemptExchange, ErrorCode, WeftError } from '@weft/core';
import type { GrpcCall } from './call.ts';
import type { RawCall, RawListener } from './raw.ts';

/** Where the response goes once the stack has decided to keep this attempt. */
export interface ExchangeSink {
  metadata(metadata: Metadata): void;
  message(message: Buffer): void;
  status(status: StatusObject): void;
}

/**
 * grpc-js's deadline timer (wall clock, whole ms) and Weft's (stack clock) fire within a few ms of
 * each other; a DEADLINE_EXCEEDED this close to the call's deadline is the call's own.
 */
const DEADLINE_SLACK_MS = 20;

const NOT_SENT = /^(?:[a-z_]+: )?(?:No connection established|Name resolution failed)/;

export class GrpcExchange extends AttemptExchange<GrpcExchange> implements RawListener {
  /** The endpoint that answered (`address:port`). */
  readonly endpoint: string;
  /** Response headers, once received. */
  headers: Metadata | undefined;
  /** The final status, once received. */
  status: StatusObject | undefined;
  /** Messages received so far. */
  received = 0;
  /**
   * True when grpc-js failed the attempt before giving it to a connection: the request cannot have
   * been processed, so it is safe to retry whatever the method.
   */
  notSent = false;
  readonly #raw: RawCall;
  readonly #streaming: boolean;
  readonly #call: GrpcCall;
  readonly #now: () => number;
  #queue: Buffer[] = [];
  #sink: ExchangeSink | undefined;
  #readPending = true;
  #statusDelivered = false;

  /** `now` is the stack's clock, the scale of `call.deadline`. */
  constructor(raw: RawCall, endpoint: string, call: GrpcCall, now: () => number) {
    super();
    this.#raw = raw;
    this.endpoint = endpoint;
    this.#call = call;
    this.#now = now;
    this.#streaming = call.responseStream;
  }

  /** Aborting the attempt's signal cancels the call, before or after the head. */
  protected onAbort(reason: WeftError): void {
    if (this.done) return;
    this.rejectHead(reason);
    this.#raw.cancelWithStatus(
      reason.code === ErrorCode.DeadlineExceeded ? Status.DEADLINE_EXCEEDED : Status.CANCELLED,
      reason.message,
    );
  }

  onReceiveMetadata(metadata: Metadata): void {
    this.headers = metadata;
    this.#sink?.metadata(metadata);
  }

  onReceiveMessage(message: Buffer): void {
    this.received++;
    this.#readPending = false;
    if (this.#sink) {
      this.#sink.message(message);
      this.#flushStatus();
      return;
    }
    this.#queue.push(message);
    if (this.#streaming) this.resolveHead(this);
  }

  onReceiveStatus(status: StatusObject): void {
    this.status = status;
    const local = this.received === 0 && this.headers === undefined;
    // grpc-js's picker fails a call it could not give to any connection, or whose target did not
    // resolve, with this wording (1.14): the request never left this process.
    this.notSent = local && status.code === Status.UNAVAILABLE && NOT_SENT.test(status.details);
    this.finish();
    if (!this.headSettled) {
      if (
        local &&
        status.code === Status.DEADLINE_EXCEEDED &&
        this.#call.deadline - this.#now() <= DEADLINE_SLACK_MS
      ) {
        // The call's own deadline, enforced by grpc-js's timer a moment before Weft's: the same
        // outcome as Weft's (a caller's deadline says nothing about the endpoint).
        this.rejectHead(
          new WeftError(
            ErrorCode.DeadlineExceeded,
            `deadline exceeded calling ${this.#call.destination} ${this.#call.path}`,
          ),
        );
      } else this.resolveHead(this);
    }
    this.#flushStatus();
  }

  /** Delivers the rest of the response to `sink`: held headers, held messages, then the status. */
  attach(sink: ExchangeSink): void {
    this.#sink = sink;
    if (this.headers) sink.metadata(this.headers);
    if (!this.#streaming) {
      // A unary response is delivered whole, as grpc-js does for unary methods.
      for (const m of this.#queue) sink.message(m);
      this.#queue = [];
    }
    this.#flushStatus();
  }

  /** The consumer wants one more message (streaming responses). */
  read(): void {
    const next = this.#queue.shift();
    if (next !== undefined) {
      this.#sink?.message(next);
      this.#flushStatus();
      return;
    }
    if (this.status !== undefined) {
      this.#flushStatus();
      return;
    }
    if (!this.#readPending) {
      this.#readPending = true;
      this.#raw.startRead();
    }
  }

  /** Abandons the attempt (it is being retried): the call is cancelled if it still runs. */
  discard(): void {
    this.#queue = [];
    if (!this.done) this.#raw.cancelWithStatus(Status.CANCELLED, 'attempt abandoned for a retry');
  }

  /** Cancels the call on behalf of the consumer. */
  cancel(code: Status, details: string): void {
    if (!this.done) this.#raw.cancelWithStatus(code, details);
  }

  get peer(): string {
    return this.#raw.getPeer();
  }

  #flushStatus(): void {
    const sink = this.#sink;
    if (!sink || this.#statusDelivered || this.status === undefined || this.#queue.length > 0) return;
    this.#statusDelivered = true;
    sink.status(this.status);
  }
}

/** A status with fresh metadata (grpc-js expects a Metadata instance on every status). */
export function makeStatus(code: Status, details: string, metadata = new Metadata()): StatusObject {
  return { code, details, metadata };
}
