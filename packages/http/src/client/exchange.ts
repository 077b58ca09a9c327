/**
 * One HTTP attempt as an undici dispatch handler. It resolves when the response head arrives and
 * then holds the body (paused, nothing lost) until a consumer attaches: a WHATWG `Response` for
 * `client.fetch`, or another dispatch handler for the Weft dispatcher. The retry filter decides
 * between the head and the body, so a retried attempt's body is drained, never delivered.
 */

import { ErrorCode, SignalFollower, WeftError } from '@weft/core';
import type { Dispatcher } from 'undici';

type Controller = Dispatcher.DispatchController;
type Headers = Record<string, string | string[] | undefined>;

/** Where the body goes once a consumer attaches. */
interface Sink {
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

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

export class HttpExchange extends SignalFollower implements Dispatcher.DispatchHandler {
  statusCode = 0;
  statusMessage = '';
  headers: Headers = {};
  /** The endpoint that answered (`address:port`). */
  endpoint = '';
  readonly #method: string;
  readonly #destination: string;
  #controller: Controller | undefined;
  #sink: Sink | undefined;
  #buffer: Buffer[] | undefined;
  #trailers: Headers | undefined;
  #error: Error | undefined;
  #sent = false;
  #head = false;
  #done = false;
  #onDone: (() => void)[] | undefined;
  #abortReason: Error | undefined;
  #resolve!: (e: HttpExchange) => void;
  #reject!: (e: unknown) => void;
  /** Resolves with this exchange when the head arrives; rejects with a typed error before that. */
  readonly head: Promise<HttpExchange>;

  constructor(destination: string, method: string) {
    super();
    this.#destination = destination;
    this.#method = method;
    this.head = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Aborting the attempt's signal aborts the request, queued or in flight. */
  protected onAbort(reason: WeftError): void {
    if (this.#controller) this.#controller.abort(reason);
    else {
      // Still queued in the pool: fail now, abort when the pool gets to it.
      this.#abortReason = reason;
      if (!this.#done) {
        this.#done = true;
        this.#reject(reason);
      }
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

  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: Headers,
    statusMessage?: string,
  ): void {
    if (this.#abortReason) return;
    this.#controller = controller;
    this.#sent = true;
    this.#head = true;
    this.statusCode = statusCode;
    this.headers = headers;
    this.statusMessage = statusMessage ?? '';
    controller.pause();
    this.#resolve(this);
  }

  onResponseData(_controller: Controller, chunk: Buffer): void {
    // undici can hand over an empty chunk when the parser resumes; passing it on (and pausing for
    // it) would spin pause/resume forever.
    if (this.#abortReason || chunk.length === 0) return;
    if (this.#sink) this.#sink.data(chunk);
    else if (this.#buffer) this.#buffer.push(chunk);
    else this.#buffer = [chunk];
  }

  onResponseEnd(_controller: Controller, trailers: Headers): void {
    this.#trailers = trailers;
    if (this.#sink) this.#sink.end(trailers);
    this.#finish();
  }

  onResponseError(_controller: Controller, err: Error): void {
    if (!this.#head) {
      if (this.#done) return;
      this.unwatch();
      this.#done = true;
      this.#reject(this.#classify(err));
      return;
    }
    this.#error = err;
    if (this.#sink) this.#sink.error(err);
    this.#finish();
  }

  /** Calls `fn` once the body is finished, failed or abandoned. */
  onDone(fn: () => void): void {
    if (this.#done) fn();
    else if (this.#onDone) this.#onDone.push(fn);
    else this.#onDone = [fn];
  }

  /** Throws the body away without breaking the connection (used when the attempt is retried). */
  discard(): void {
    this.#attach({ data() {}, end() {}, error() {} });
  }

  /** Cancels the body: the connection is aborted. */
  abort(reason: Error): void {
    if (this.#done) return;
    this.#controller?.abort(reason);
  }

  pause(): void {
    this.#controller?.pause();
  }

  resume(): void {
    this.#controller?.resume();
  }

  /** The response as a WHATWG `Response` whose body streams from the connection with backpressure. */
  toResponse(): Response {
    const headers = new Headers();
    for (const name in this.headers) {
      const value = this.headers[name];
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else headers.append(name, value);
    }
    const status = this.statusCode;
    if (NULL_BODY_STATUSES.has(status) || this.#method === 'HEAD') {
      this.discard();
      return new Response(null, { status, statusText: this.statusMessage, headers });
    }
    const body = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.#attach({
            data: (chunk) => {
              c.enqueue(chunk);
              if ((c.desiredSize ?? 0) <= 0) this.pause();
            },
            end: () => c.close(),
            error: (err) => c.error(err),
          });
        },
        pull: () => this.resume(),
        cancel: (reason) =>
          this.abort(
            reason instanceof Error ? reason : new WeftError(ErrorCode.Cancelled, 'response body cancelled'),
          ),
      },
      { highWaterMark: 1 },
    );
    return new Response(body, { status, statusText: this.statusMessage, headers });
  }

  /** Streams the rest of the response into another dispatch handler (the Weft dispatcher's caller). */
  forward(handler: Dispatcher.DispatchHandler, controller: Controller): void {
    handler.onResponseStart?.(controller, this.statusCode, this.headers as never, this.statusMessage);
    this.#attach({
      data: (chunk) => handler.onResponseData?.(controller, chunk),
      end: (trailers) => handler.onResponseEnd?.(controller, trailers as never),
      error: (err) => handler.onResponseError?.(controller, err),
    });
  }

  #attach(sink: Sink): void {
    this.#sink = sink;
    const buffered = this.#buffer;
    this.#buffer = undefined;
    if (buffered) for (const chunk of buffered) sink.data(chunk);
    if (this.#error) sink.error(this.#error);
    else if (this.#trailers) sink.end(this.#trailers);
    else this.resume();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.unwatch();
    const fns = this.#onDone;
    this.#onDone = undefined;
    if (fns) for (const fn of fns) fn();
  }

  /** Maps a transport error to a typed one: before the request was sent it is safe to retry. */
  #classify(err: Error): Error {
    if (err instanceof WeftError) return err;
    const code = (err as { code?: string }).code ?? '';
    const target = `${this.#destination} (${this.endpoint})`;
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
}
