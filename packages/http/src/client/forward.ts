/**
 * One undici dispatch sent through a destination's stack, and the caller's side of it: the
 * controller its handler drives, which hands the final attempt's answer to that handler — the head
 * and body of a response, or the head and socket of an accepted upgrade. Shared by the dispatcher
 * (`createDispatcher`, one destination per hostname) and a client's dispatcher (`client.dispatcher`,
 * one destination).
 */

import type { Duplex } from 'node:stream';
import { ErrorCode, WeftError } from '@weft/core';
import type { Dispatcher } from 'undici';
import { askUpgrade, HttpCall } from './call.ts';
import type { HttpDestination } from './destination.ts';
import type { HttpExchange, RawHeaders, Sink } from './exchange.ts';
import { LegacyHandlerAdapter } from './legacy-handler.ts';
import { checkBody, checkUpgrade, requestHeaders } from './request-headers.ts';

type Headers = Record<string, string | string[] | undefined>;

/**
 * The caller's side of a mesh request: lets its handler abort, pause and resume whichever attempt is
 * current, carries the raw head and trailers (undici's fetch reads `controller.rawHeaders`, not the
 * parsed object), and is the sink the final attempt's body streams into.
 */
export class ForwardController implements Dispatcher.DispatchController, Sink {
  readonly #abort = new AbortController();
  readonly #handler: Dispatcher.DispatchHandler;
  exchange: HttpExchange | undefined;
  rawHeaders: RawHeaders = null;
  rawTrailers: RawHeaders = null;
  #paused = false;
  /** The handler was told how the response ended (its end or its error): it hears nothing more. */
  #over = false;

  constructor(handler: Dispatcher.DispatchHandler) {
    this.#handler = handler;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }
  get aborted(): boolean {
    return this.#abort.signal.aborted;
  }
  get paused(): boolean {
    return this.#paused;
  }
  get reason(): Error | null {
    return this.aborted ? (this.#abort.signal.reason as Error) : null;
  }
  abort(reason: Error): void {
    this.#abort.abort(reason);
  }
  pause(): void {
    this.#paused = true;
    this.exchange?.pause();
  }
  resume(): void {
    this.#paused = false;
    this.exchange?.resume();
  }

  /** The final attempt's head, then its body or its upgraded socket. */
  forward(exchange: HttpExchange): void {
    this.exchange = exchange;
    const handler = this.#handler;
    if (exchange.started) handler.onResponseStarted?.();
    this.rawHeaders = exchange.rawHeaders;
    if (exchange.socket !== undefined) {
      this.#upgraded(exchange, exchange.socket);
      return;
    }
    if (this.#paused) exchange.pause();
    try {
      handler.onResponseStart?.(this, exchange.statusCode, exchange.headers as never, exchange.statusMessage);
      exchange.attach(this);
    } catch (err) {
      // As undici does when a handler throws (undici.upgrade's does at a head that is no upgrade):
      // the handler hears that error and the request is aborted, as the caller's doing, not the
      // endpoint's.
      this.error(err as Error);
      exchange.abort(
        new WeftError(ErrorCode.Cancelled, 'the response was refused by its handler', { cause: err }),
      );
    }
  }

  /** Hands an accepted upgrade to the handler: from here the socket is the caller's. */
  #upgraded(exchange: HttpExchange, socket: Duplex): void {
    const handler = this.#handler;
    if (this.aborted || typeof handler.onRequestUpgrade !== 'function') {
      socket.destroy();
      this.error(this.reason ?? new Error('the handler takes no upgraded connection'));
      return;
    }
    try {
      handler.onRequestUpgrade(this, exchange.statusCode, exchange.headers as never, socket);
      this.#over = true;
    } catch (err) {
      // As undici does when the handler throws at the upgrade: the socket goes, the handler hears why.
      socket.destroy(err as Error);
      this.error(err as Error);
    }
  }

  data(chunk: Buffer): void {
    this.#handler.onResponseData?.(this, chunk);
  }
  end(trailers: Headers): void {
    if (this.#over) return;
    this.#over = true;
    this.rawTrailers = this.exchange?.rawTrailers ?? null;
    this.#handler.onResponseEnd?.(this, trailers as never);
  }
  error(err: Error): void {
    if (this.#over) return;
    this.#over = true;
    this.#handler.onResponseError?.(this, err);
  }
}

/** True when `handler` can take an upgraded connection. */
function canUpgrade(handler: Dispatcher.DispatchHandler): boolean {
  return handler instanceof LegacyHandlerAdapter
    ? handler.upgradable
    : typeof handler.onRequestUpgrade === 'function';
}

/**
 * Sends one dispatch through `dest`'s stack and hands its answer to `handler` (of the current
 * handler API: adapt older handlers first). `authority` is the `Host` to send when the caller set
 * none (undefined lets the endpoint's address stand). An upgrade request (`opts.upgrade`) is
 * balanced and sent like any request; it is retried only when it never left, never after the
 * server answered it.
 */
export function dispatchThrough(
  dest: HttpDestination,
  opts: Dispatcher.DispatchOptions,
  handler: Dispatcher.DispatchHandler,
  authority: string | undefined,
): boolean {
  const controller = new ForwardController(handler);
  handler.onRequestStart?.(controller, {});
  if (controller.aborted) return true;
  const method = (opts.method ?? 'GET').toUpperCase();
  let headers: Record<string, string>;
  let upgrade: string | undefined;
  try {
    headers = requestHeaders(dest.name, opts.headers, authority, method, opts.path);
    checkBody(dest.name, opts.body);
    if (opts.upgrade) upgrade = checkUpgrade(dest.name, opts.upgrade, canUpgrade(handler));
  } catch (error) {
    // A request undici would refuse to send: the caller's error, never the endpoint's.
    controller.error(error as Error);
    return true;
  }
  const call = new HttpCall(dest.name, method, opts.path, headers, opts.body, controller.signal);
  if (upgrade !== undefined) askUpgrade(call, upgrade);
  dest.call(call).then(
    (exchange) => controller.forward(exchange),
    (error: Error) => controller.error(error),
  );
  return true;
}
