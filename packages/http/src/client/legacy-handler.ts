/**
 * Adapts a handler of undici's older dispatch API (`onConnect`/`onHeaders`/`onData`/`onComplete`/
 * `onError`, which undici ≤ 7 and Node's bundled fetch hand to a dispatcher installed under their
 * global symbol) to the current controller-based API that Weft's dispatcher drives.
 */
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';

/** The older handler shape, as undici ≤ 7 calls it. */
export interface LegacyHandler {
  onConnect?(abort: (reason?: Error) => void, context?: object): void;
  onHeaders?(
    status: number,
    rawHeaders: (Buffer | string)[],
    resume: () => void,
    statusText?: string,
  ): boolean;
  onData?(chunk: Buffer): boolean;
  onComplete?(rawTrailers: (Buffer | string)[] | null): void;
  onError?(error: Error): void;
  onUpgrade?(status: number, rawHeaders: (Buffer | string)[], socket: unknown): void;
  onResponseStarted?(): void;
  /** Some undici 7 handlers (its fetch's) carry the current API's upgrade callback beside the older one. */
  onRequestUpgrade?(controller: unknown, status: number, headers: unknown, socket: unknown): void;
  onBodySent?(chunk: unknown): void;
  onRequestSent?(): void;
}

type Controller = Dispatcher.DispatchController & { rawHeaders?: unknown; rawTrailers?: unknown };

/** Flattens a headers object (values may be arrays) into undici's raw `[name, value, …]` form. */
function raw(list: unknown, headers: Record<string, string | string[] | undefined> | null | undefined) {
  if (Array.isArray(list)) return list as (Buffer | string)[];
  const out: string[] = [];
  if (headers)
    for (const name of Object.keys(headers)) {
      const value = headers[name];
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) out.push(name, v);
      else out.push(name, value);
    }
  return out;
}

export class LegacyHandlerAdapter implements Dispatcher.DispatchHandler {
  readonly #h: LegacyHandler;

  constructor(handler: LegacyHandler) {
    this.#h = handler;
  }

  onRequestStart(controller: Controller, context: object): void {
    this.#h.onConnect?.((reason) => controller.abort(reason ?? new Error('aborted')), context);
  }

  onResponseStart(
    controller: Controller,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    statusText?: string,
  ): void {
    const resume = () => controller.resume();
    if (this.#h.onHeaders?.(status, raw(controller.rawHeaders, headers), resume, statusText) === false)
      controller.pause();
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.#h.onData?.(chunk) === false) controller.pause();
  }

  onResponseEnd(controller: Controller, trailers: Record<string, string | string[] | undefined>): void {
    this.#h.onComplete?.(raw(controller.rawTrailers, trailers));
  }

  /** True when the handler takes an upgraded connection (`onUpgrade`, or the current API's callback). */
  get upgradable(): boolean {
    return typeof this.#h.onUpgrade === 'function' || typeof this.#h.onRequestUpgrade === 'function';
  }

  onRequestUpgrade(
    controller: Controller,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    socket: Duplex,
  ): void {
    if (this.#h.onUpgrade) this.#h.onUpgrade(status, raw(controller.rawHeaders, headers), socket);
    else this.#h.onRequestUpgrade?.(controller, status, headers, socket);
  }

  onResponseError(_controller: Controller, error: Error): void {
    if (!this.#h.onError) throw error;
    this.#h.onError(error);
  }

  onResponseStarted(): void {
    this.#h.onResponseStarted?.();
  }
}
