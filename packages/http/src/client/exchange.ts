/**
 * One HTTP attempt as an undici dispatch handler. It resolves when the response head arrives and
 * then holds the body (nothing lost; the connection paused once data waits) until a consumer attaches: a WHATWG `Response` for
 * `client.fetch`, or another dispatch handler for the Weft dispatcher. The retry filter decides
 * between the head and the body, so a retried attempt's body is drained, never delivered.
 *
 * An upgrade request (`upgrade: 'websocket'`) that the server switches (101) resolves with the
 * connection in {@link HttpExchange.socket} and ends the attempt there: the socket belongs to the
 * caller from then on, so no deadline, per-try timeout or endpoint accounting follows it.
 */

import type { Duplex } from 'node:stream';
import { AttemptExchange, ErrorCode, WeftError } from '@weft/core';
import type { Dispatcher } from 'undici';

type Controller = Dispatcher.DispatchController;
type Headers = Record<string, string | string[] | undefined>;
/** A head or trailers as undici received them. */
export type RawHeaders = Controller['rawHeaders'];

/** Where the body goes once a consumer attaches. */
export interface Sink {
  data(chunk: Buffer): void;
  end(trailers: Headers): void;
  error(err: Error): void;
}

/** Error codes from the socket layer that mean the request never reached the server. */
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

/** undici's codes for a request it refuses to send as given: the caller's error, not the endpoint's. */
const INVALID_REQUEST_CODES = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);

/** The sink of a body nobody reads: one for every exchange. */
const DRAIN: Sink = { data() {}, end() {}, error() {} };

export class HttpExchange extends AttemptExchange<HttpExchange> implements Dispatcher.DispatchHandler {
  statusCode = 0;
  statusMessage = '';
  headers: Headers = {};
  /** The head as undici received it (name/value buffers over HTTP/1.1), for handlers that read it. */
  rawHeaders: RawHeaders = null;
  /** The trailers as undici received them. */
  rawTrailers: RawHeaders = null;
  /** The parser saw the first byte of the response (undici's `onResponseStarted`). */
  started = false;
  /** The endpoint that answered (`address:port`). */
  endpoint = '';
  /** The connection, once the server accepted an upgrade: whoever takes the exchange owns it. */
  socket: Duplex | undefined = undefined;
  readonly #destination: string;
  #controller: Controller | undefined;
  #sink: Sink | undefined;
  #buffer: Buffer[] | undefined;
  /** The connection was paused because body data came before any consumer. */
  #held = false;
  #trailers: Headers | undefined;
  #error: Error | undefined;
  #sent = false;
  /** What `abort()` was given: that error reaches the consumer as it is. */
  #cancelledWith: Error | undefined;
  #abortReason: Error | undefined;

  /** `head` resolves with this exchange at the final response head. */
  constructor(destination: string) {
    super();
    this.#destination = destination;
  }

  /** Aborting the attempt's signal aborts the request, queued or in flight. */
  protected onAbort(reason: WeftError): void {
    if (this.#controller) this.#controller.abort(reason);
    else {
      // Still queued in the pool: fail now, abort when the pool gets to it.
      this.#abortReason = reason;
      this.rejectHead(reason);
      this.finish();
    }
  }

  onRequestStart(controller: Controller): void {
    this.#controller = controller;
    if (this.#abortReason) controller.abort(this.#abortReason);
  }

  onRequestSent(): void {
    this.#sent = true;
  }

  onBodySent(): void {
    this.#sent = true;
  }

  onResponseStarted(): void {
    this.started = true;
  }

  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: Headers,
    statusMessage?: string,
  ): void {
    if (this.#abortReason) return;
    this.#controller = controller;
    this.#sent = true;
    // An interim response (100, 102, 103 Early Hints): the final head is still to come.
    if (statusCode < 200) return;
    this.statusCode = statusCode;
    this.headers = headers;
    this.statusMessage = statusMessage ?? '';
    this.rawHeaders = controller.rawHeaders ?? null;
    // Not paused here: a small response's body and end usually arrive in the same read as its head,
    // and are held until a consumer attaches; the connection is paused only when body data comes
    // before the consumer (see onResponseData), so most responses cost no pause/resume cycle.
    this.resolveHead(this);
  }

  /**
   * The server switched protocols: the head and the socket are the answer, and the attempt is over
   * (its endpoint has answered; what the socket carries next is the caller's, not a response).
   */
  onRequestUpgrade(controller: Controller, statusCode: number, headers: Headers, socket: Duplex): void {
    if (this.#abortReason || this.done) {
      socket.destroy();
      return;
    }
    this.#controller = controller;
    this.#sent = true;
    this.statusCode = statusCode;
    this.headers = headers;
    this.rawHeaders = controller.rawHeaders ?? null;
    this.socket = socket;
    this.resolveHead(this);
    this.finish();
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    // undici can hand over an empty chunk when the parser resumes; passing it on (and pausing for
    // it) would spin pause/resume forever.
    if (this.#abortReason || chunk.length === 0) return;
    if (this.#sink) {
      this.#sink.data(chunk);
      return;
    }
    if (this.#buffer) this.#buffer.push(chunk);
    else this.#buffer = [chunk];
    // Nobody reads yet: hold what came, and no more until a consumer attaches.
    if (!this.#held) {
      this.#held = true;
      this.#controller?.pause();
    }
  }

  onResponseEnd(controller: Controller, trailers: Headers): void {
    this.#trailers = trailers;
    this.rawTrailers = (controller as Controller | null)?.rawTrailers ?? null;
    if (this.#sink) this.#sink.end(trailers);
    this.finish();
  }

  onResponseError(_controller: Controller, err: Error): void {
    if (this.done) return;
    if (!this.headSettled) {
      this.rejectHead(this.#classify(err));
      this.finish();
      return;
    }
    // After the head the error belongs to the body: typed, unless it is the reason it was cancelled.
    const error = err === this.#cancelledWith || err instanceof WeftError ? err : this.#bodyError(err);
    this.#error = error;
    if (this.#sink) this.#sink.error(error);
    this.finish();
  }

  /**
   * Throws the body away without breaking the connection (used when the attempt is retried). An
   * upgraded connection nobody takes is closed.
   */
  discard(): void {
    if (this.socket) this.socket.destroy();
    else this.attach(DRAIN);
  }

  /** Cancels the body: the connection is aborted. */
  abort(reason: Error): void {
    if (this.done) return;
    this.#cancelledWith = reason;
    this.#controller?.abort(reason);
  }

  pause(): void {
    this.#controller?.pause();
  }

  resume(): void {
    this.#controller?.resume();
  }

  /** Hands the body, buffered and still to come, to `sink`; the connection resumes. */
  attach(sink: Sink): void {
    this.#sink = sink;
    const buffered = this.#buffer;
    this.#buffer = undefined;
    if (buffered) for (const chunk of buffered) sink.data(chunk);
    if (this.#error) sink.error(this.#error);
    else if (this.#trailers) sink.end(this.#trailers);
    else if (this.#held) {
      this.#held = false;
      this.resume();
    }
  }

  /** Maps a transport error to a typed one: before the request was sent it is safe to retry. */
  #classify(err: Error): Error {
    if (err instanceof WeftError) return err;
    const code = (err as { code?: string }).code ?? '';
    const target = `${this.#destination} (${this.endpoint})`;
    if (INVALID_REQUEST_CODES.has(code)) {
      return new WeftError(
        ErrorCode.InvalidOption,
        `invalid request to ${this.#destination}: ${err.message}`,
        {
          cause: err,
        },
      );
    }
    if (!this.#sent || CONNECT_CODES.has(code)) {
      return new WeftError(ErrorCode.ConnectFailed, `could not send request to ${target}: ${err.message}`, {
        retryable: true,
        cause: err,
      });
    }
    return new WeftError(ErrorCode.RequestFailed, `request to ${target} failed: ${err.message}`, {
      cause: err,
    });
  }

  /** A failure while the body streams (a reset connection, a truncated body). */
  #bodyError(err: Error): WeftError {
    return new WeftError(
      ErrorCode.RequestFailed,
      `response body from ${this.#destination} (${this.endpoint}) failed: ${err.message}`,
      { cause: err },
    );
  }
}
