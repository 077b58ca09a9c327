/**
 * `client.dispatcher`: a client's destination as an undici Dispatcher, for what `fetch` cannot do —
 * an HTTP upgrade (`undici.upgrade`, undici's `WebSocket`; the fetch standard forbids upgrades) —
 * and for undici's own `request`, `stream` and `pipeline`. Every request it is handed goes to the
 * client's service, whatever its origin's host, through the same stack, endpoints and policy as
 * `client.fetch`. Made on first use: a client that never reads it pays nothing for it.
 */

import { Dispatcher } from 'undici';
import type { HttpDestination } from './destination.ts';
import { dispatchThrough } from './forward.ts';
import { type LegacyHandler, LegacyHandlerAdapter } from './legacy-handler.ts';

export class ClientDispatcher extends Dispatcher {
  readonly #destination: HttpDestination;
  readonly #tls: boolean;
  readonly #close: () => Promise<void>;
  /** The last origin seen and its authority: a client's requests nearly always share one origin. */
  #origin: string | undefined;
  #authority: string | undefined;

  /** `close` closes the client the dispatcher belongs to. */
  constructor(destination: HttpDestination, tls: boolean, close: () => Promise<void>) {
    super();
    this.#destination = destination;
    this.#tls = tls;
    this.#close = close;
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    // As the mesh dispatcher does: handlers of undici ≤ 7's API are adapted.
    if (typeof handler.onRequestStart !== 'function')
      handler = new LegacyHandlerAdapter(handler as unknown as LegacyHandler);
    return dispatchThrough(this.#destination, opts, handler, this.#authorityOf(opts.origin));
  }

  /**
   * The `Host` a plain undici request to that origin sends (its host and any explicit port); none
   * over TLS, where the endpoint's address also names the server (SNI), or without an origin.
   */
  #authorityOf(origin: unknown): string | undefined {
    if (this.#tls || origin === undefined || origin === null) return undefined;
    const text = String(origin);
    if (text !== this.#origin) {
      let authority: string | undefined;
      try {
        authority = new URL(text).host;
      } catch {
        authority = undefined;
      }
      this.#origin = text;
      this.#authority = authority;
    }
    return this.#authority;
  }

  /** Closes the client: requests in flight finish first; upgraded sockets are their callers'. */
  override close(): Promise<void> {
    return this.#close();
  }

  override destroy(): Promise<void> {
    return this.#close();
  }
}
