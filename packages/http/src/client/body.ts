/**
 * Request bodies that arrive as streams (a `ReadableStream`, an async iterable, and every body that
 * fetch hands a dispatcher) can still be retried in the two cases where that is safe: nothing of the
 * stream was read yet (the connection was refused before the body was written), or all of it was
 * sent and kept. Bytes are kept up to a limit while they are sent — the buffered-retry idea of
 * gRPC's retry design (gRFC A6) applied to HTTP bodies; past the limit the call is no longer
 * replayable.
 */
import type { Call } from '@weft/core';

/** Bytes of a streamed request body kept for a retry: 256 KiB, as for gRPC request streams. */
export const DEFAULT_BODY_REPLAY_LIMIT_BYTES = 262_144;

type Source = AsyncIterable<Uint8Array | string>;

/**
 * Wraps a streamed body for one call. Until its first read the call stays replayable (the same
 * stream is sent on the next attempt); once read, it is replayable again only when the whole body
 * was kept, and then `call.body` becomes those bytes.
 */
export class ReplayableBody implements AsyncIterable<Uint8Array> {
  readonly #source: Source;
  readonly #call: Call & { body: unknown };
  readonly #limit: number;
  #started = false;

  constructor(source: Source, call: Call & { body: unknown }, limitBytes = DEFAULT_BODY_REPLAY_LIMIT_BYTES) {
    this.#source = source;
    this.#call = call;
    this.#limit = limitBytes;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.#started) throw new TypeError('a streamed request body can be sent only once');
    this.#started = true;
    const call = this.#call;
    // From the first read until the whole body is kept, a retry could not send it again.
    call.replayable = false;
    let kept: Uint8Array[] | undefined = [];
    let bytes = 0;
    for await (const item of this.#source) {
      const chunk = typeof item === 'string' ? Buffer.from(item) : item;
      if (kept) {
        bytes += chunk.byteLength;
        if (bytes > this.#limit) kept = undefined;
        else kept.push(chunk);
      }
      yield chunk;
    }
    if (kept) {
      call.body = kept.length === 1 ? kept[0] : Buffer.concat(kept);
      call.replayable = true;
    }
  }
}
