import { Call } from '@weft/core';
import type { Dispatcher } from 'undici';

/** The request body as undici sends it. */
export type HttpBody = Dispatcher.DispatchOptions['body'];

/** An HTTP call: the protocol-neutral call plus its body. */
export class HttpCall extends Call {
  body: HttpBody;

  constructor(
    destination: string,
    method: string,
    path: string,
    headers: Record<string, string>,
    body: HttpBody,
    signal: AbortSignal | undefined,
  ) {
    super(destination, method, path, headers, signal);
    this.body = body;
    this.replayable = isReplayable(body);
  }
}

/** Strings and byte arrays can be sent again; streams and iterables cannot. */
export function isReplayable(body: HttpBody): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
}
