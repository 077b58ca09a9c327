import { Call } from '@weft/core';
import type { Dispatcher } from 'undici';
import { ReplayableBody } from './body.ts';

/** The request body as undici sends it. */
export type HttpBody = Dispatcher.DispatchOptions['body'];

/** An HTTP call: the protocol-neutral call plus its body. */
export class HttpCall extends Call {
  body: HttpBody;
  /** The body came as a stream: fetch never sends it twice for a redirect, even when it was kept. */
  readonly streamed: boolean;
  /**
   * The protocol asked for in an upgrade request (`websocket`), sent as undici's `upgrade` option;
   * undefined for an ordinary request. Set with {@link askUpgrade}.
   */
  upgrade: string | undefined = undefined;

  constructor(
    destination: string,
    method: string,
    path: string,
    headers: Record<string, string>,
    body: HttpBody,
    signal: AbortSignal | undefined,
  ) {
    super(destination, method, path, headers, signal);
    this.streamed = isStreamed(body);
    if (this.streamed) {
      // Replayable until it is first read, and again once it was sent whole (see body.ts).
      this.body = new ReplayableBody(body as AsyncIterable<Uint8Array>, this) as unknown as HttpBody;
    } else {
      this.body = body;
      this.replayable = isReplayable(body);
    }
  }
}

/**
 * Makes `call` an upgrade request for `protocol`. It is not idempotent: once sent, the server may
 * have switched the connection, so it is retried only when it never left (a refused connection) or
 * a Weft server shed it unprocessed, never after an answer.
 */
export function askUpgrade(call: HttpCall, protocol: string): void {
  call.upgrade = protocol;
  call.idempotent = false;
}

/** Strings, byte arrays and Blobs can be sent again. */
export function isReplayable(body: HttpBody): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof Uint8Array ||
    body instanceof Blob
  );
}

/** Streams and (async) iterables: sent by reading them, so they need {@link ReplayableBody}. */
function isStreamed(body: HttpBody): boolean {
  return (
    typeof body === 'object' &&
    body !== null &&
    !(body instanceof Uint8Array) &&
    (Symbol.asyncIterator in body || Symbol.iterator in body)
  );
}
