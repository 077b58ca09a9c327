/**
 * A held exchange as a WHATWG `Response` for `client.fetch`: the body streams from the connection
 * with backpressure and is decoded as the fetch standard's "HTTP-network fetch" decodes it
 * (`Content-Encoding` gzip, deflate, br, zstd; the header stays as sent, as in every fetch).
 */
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';
import { ErrorCode, WeftError } from '@weft/core';
import type { HttpExchange } from './exchange.ts';

/** Statuses whose response has no body (fetch's "null body status", plus interim ones). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** Past this many codings the response is refused, as undici's fetch does (resource exhaustion). */
const MAX_CODINGS = 5;

/**
 * The fetch `Response` of an exchange whose head has arrived. `url` and `redirected` are set on it
 * (the `Response` constructor cannot set them; '' leaves `url` unset).
 */
export function toResponse(
  exchange: HttpExchange,
  method: string,
  url: string,
  redirected: boolean,
): Response {
  const headers = new Headers();
  for (const name in exchange.headers) {
    const value = exchange.headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.append(name, value);
  }
  const status = exchange.statusCode;
  const init = { status, statusText: exchange.statusMessage, headers };
  let response: Response;
  if (NULL_BODY_STATUSES.has(status) || method === 'HEAD') {
    exchange.discard();
    response = new Response(null, init);
  } else {
    const coding = headers.get('content-encoding');
    const raw = bodyStream(exchange);
    response = new Response(coding ? decode(raw, coding, exchange) : raw, init);
  }
  if (url !== '') {
    Object.defineProperty(response, 'url', { value: url });
    if (redirected) Object.defineProperty(response, 'redirected', { value: true });
  }
  return response;
}

function bodyStream(exchange: HttpExchange): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      start: (c) => {
        exchange.attach({
          data: (chunk) => {
            c.enqueue(chunk);
            if ((c.desiredSize ?? 0) <= 0) exchange.pause();
          },
          end: () => c.close(),
          error: (err) => c.error(err),
        });
      },
      pull: () => exchange.resume(),
      cancel: (reason) =>
        exchange.abort(
          reason instanceof Error ? reason : new WeftError(ErrorCode.Cancelled, 'response body cancelled'),
        ),
    },
    { highWaterMark: 1 },
  );
}

/** Decoders for each coding, last applied first; none (the body as sent) for an unknown coding. */
function decode(raw: ReadableStream<Uint8Array>, header: string, exchange: HttpExchange): ReadableStream {
  const codings = header.toLowerCase().split(',');
  if (codings.length > MAX_CODINGS) {
    const error = new WeftError(
      ErrorCode.RequestFailed,
      `too many content-encodings in the response (${codings.length}, at most ${MAX_CODINGS})`,
    );
    exchange.abort(error);
    return new ReadableStream({ start: (c) => c.error(error) });
  }
  const decoders: Duplex[] = [];
  for (let i = codings.length - 1; i >= 0; i--) {
    const decoder = decoderFor(codings[i]!.trim());
    if (!decoder) return raw;
    decoders.push(decoder);
  }
  let stream: ReadableStream = raw;
  for (const d of decoders) stream = stream.pipeThrough(Duplex.toWeb(d) as ReadableWritablePair);
  return typed(stream, exchange);
}

/** The decoded body, whose failures (a corrupt coding) are `WeftError`s like the connection's. */
function typed(decoded: ReadableStream<Uint8Array>, exchange: HttpExchange): ReadableStream<Uint8Array> {
  const reader = decoded.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        try {
          const { done, value } = await reader.read();
          if (done) c.close();
          else c.enqueue(value);
        } catch (err) {
          const error =
            err instanceof WeftError
              ? err
              : new WeftError(
                  ErrorCode.RequestFailed,
                  `decoding the response body from ${exchange.endpoint} failed: ${(err as Error).message}`,
                  { cause: err },
                );
          exchange.abort(error);
          c.error(error);
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

// Lenient flushing, as browsers and curl decode: a body cut short still yields what it holds.
function decoderFor(coding: string): Duplex | undefined {
  const { constants } = zlib;
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip({ flush: constants.Z_SYNC_FLUSH, finishFlush: constants.Z_SYNC_FLUSH });
    case 'deflate':
      return inflate();
    case 'br':
      return zlib.createBrotliDecompress({
        flush: constants.BROTLI_OPERATION_FLUSH,
        finishFlush: constants.BROTLI_OPERATION_FLUSH,
      });
    case 'zstd':
      return zlib.createZstdDecompress({
        flush: constants.ZSTD_e_continue,
        finishFlush: constants.ZSTD_e_end,
        params: { [constants.ZSTD_d_windowLogMax]: 23 },
      });
    default:
      return undefined;
  }
}

/** `deflate` is meant as zlib-wrapped (RFC 9110 §8.4.1.2), but some servers send it raw: look. */
function inflate(): Duplex {
  const opts = { flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH };
  let inner: zlib.Inflate | zlib.InflateRaw | undefined;
  const out = new Duplex({
    write(chunk: Buffer, _enc, done) {
      if (!inner) {
        // A zlib header's low nibble is 8 (CM = deflate).
        inner = (chunk[0]! & 0x0f) === 0x08 ? zlib.createInflate(opts) : zlib.createInflateRaw(opts);
        inner.on('data', (d: Buffer) => {
          if (!out.push(d)) inner!.pause();
        });
        inner.on('end', () => out.push(null));
        inner.on('error', (e) => out.destroy(e));
      }
      inner.write(chunk, done);
    },
    final(done) {
      if (inner) inner.end(done);
      else {
        out.push(null);
        done();
      }
    },
    read() {
      inner?.resume();
    },
  });
  return out;
}
