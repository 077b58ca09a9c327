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
