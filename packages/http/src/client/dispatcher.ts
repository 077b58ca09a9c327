/**
 * `createDispatcher`: an undici Dispatcher that sends `http://<service>/…` through Weft. Installed
 * with undici's `setGlobalDispatcher`, it makes plain `fetch('http://users/u/1')` a mesh call: the
 * hostname names the destination service. Hosts that are not mesh services go to the fallback
 * dispatcher unchanged. Upgrades (`undici.upgrade`, undici's `WebSocket`: `ws://users/…` reaches it
 * as `http://users`) are mesh calls too (see forward.ts).
 */

import {
  checkKnownKeys,
  checkServiceName,
  ErrorCode,
  invalidOption,
  type KeySet,
  type PolicySource,
  type Resolver,
  WeftError,
} from '@weft/core';
import { Agent, Dispatcher } from 'undici';
import { closeHttpDestination, createHttpDestination, type HttpDestination } from './destination.ts';
import { dispatchThrough, ForwardController } from './forward.ts';
import { type LegacyHandler, LegacyHandlerAdapter } from './legacy-handler.ts';
import { type ClientOptions, checkClientKeys } from './options.ts';

export type ServiceOptions = Omit<ClientOptions, 'service'>;

export interface DispatcherOptions {
  /** Mesh services by name, each with its client options (endpoints or resolver, policy, …). */
  services?: Record<string, ServiceOptions>;
  /** Finds a resolver for a hostname not in `services`; return undefined when it is not a mesh service. */
  resolve?: (service: string) => Resolver | undefined;
  /** Options applied to every service, under each service's own. */
  defaults?: Omit<ServiceOptions, 'endpoints' | 'resolver'>;
  /** Policies from the config service. */
  config?: PolicySource;
  /** Where other hosts go. Defaults to a new undici Agent; `false` rejects them. */
  fallback?: Dispatcher | false;
}

export class WeftDispatcher extends Dispatcher {
  readonly #options: DispatcherOptions;
  readonly #destinations = new Map<string, HttpDestination | null>();
  readonly #fallback: Dispatcher | undefined;
  /** Services reached over https. */
  readonly #tls = new Set<string>();
  #closed = false;

  constructor(options: DispatcherOptions = {}) {
    super();
    this.#options = options;
    this.#fallback = options.fallback === false ? undefined : (options.fallback ?? new Agent());
    for (const name of Object.keys(options.services ?? {})) this.#destination(name);
  }

  /** The destination for a hostname, created on first use; null when it is not a mesh service. */
  #destination(host: string): HttpDestination | null {
    let dest = this.#destinations.get(host);
    if (dest !== undefined) return dest;
    const own = this.#options.services?.[host];
    const resolver = own ? undefined : this.#options.resolve?.(host);
    if (!own && !resolver) {
      this.#destinations.set(host, null);
      return null;
    }
    // The config service is the dispatcher's, for every service.
    const options: ServiceOptions = { ...this.#options.defaults, ...own, config: this.#options.config };
    if (resolver) options.resolver = resolver;
    dest = createHttpDestination(host, options, 'createDispatcher');
    this.#destinations.set(host, dest);
    if (options.scheme === 'https') this.#tls.add(host);
    return dest;
  }

  /** Hostnames by origin string, so a request does not parse its origin again. */
  readonly #hosts = new Map<string, string>();

  /** The `Host` a plain fetch sends for an origin: its host and any explicit port. */
  readonly #authorities = new Map<string, string>();

  #hostOf(origin: string): string {
    let host = this.#hosts.get(origin);
    if (host === undefined) {
      const url = new URL(origin);
      host = url.hostname;
      if (this.#hosts.size < 10_000) {
        this.#hosts.set(origin, host);
        this.#authorities.set(origin, url.host);
      }
    }
    return host;
  }

  #authority(origin: string): string {
    return this.#authorities.get(origin) ?? new URL(origin).host;
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    // Older callers (undici ≤ 7's fetch, Node's bundled fetch when installed with undici 7's
    // setGlobalDispatcher) hand a handler of the older API (onConnect/onHeaders/…): adapt it.
    if (typeof handler.onRequestStart !== 'function')
      handler = new LegacyHandlerAdapter(handler as unknown as LegacyHandler);
    const origin = opts.origin === undefined ? undefined : String(opts.origin);
    const host = origin === undefined ? undefined : this.#hostOf(origin);
    const dest = host === undefined || this.#closed ? null : this.#destination(host);
    if (!dest) {
      if (this.#fallback) return this.#fallback.dispatch(opts, handler);
      const err = new WeftError(ErrorCode.NoEndpoints, `${host ?? '(no origin)'} is not a mesh service`);
      handler.onResponseError?.(new ForwardController(handler), err);
      return false;
    }
    // Over TLS the Host also names the server (SNI): the endpoint's address stands unless the
    // caller sets a Host itself.
    const authority = this.#tls.has(dest.name) ? undefined : this.#authority(origin!);
    return dispatchThrough(dest, opts, handler, authority);
  }

  /** Every mesh destination's description. */
  describe() {
    return [...this.#destinations.values()]
      .filter((d): d is HttpDestination => d !== null)
      .map((d) => d.describe());
  }

  readonly #onClose: (() => void)[] = [];

  /** Runs `fn` once when the dispatcher is closed (used to put back a replaced global dispatcher). */
  onClose(fn: () => void): void {
    this.#onClose.push(fn);
  }

  override async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const fn of this.#onClose.splice(0)) fn();
    const dests = [...this.#destinations.values()].filter((d): d is HttpDestination => d !== null);
    await Promise.all(dests.map((d) => closeHttpDestination(d)));
    if (this.#fallback && this.#options.fallback === undefined) await this.#fallback.close();
  }

  override async destroy(): Promise<void> {
    await this.close();
  }
}

const DISPATCHER_KEYS = {
  services: true,
  resolve: true,
  defaults: true,
  config: true,
  fallback: true,
} as const satisfies KeySet<DispatcherOptions>;

export function createDispatcher(options: DispatcherOptions = {}): WeftDispatcher {
  checkKnownKeys('createDispatcher', options, DISPATCHER_KEYS);
  if (options.services !== undefined) {
    if (typeof options.services !== 'object' || options.services === null || Array.isArray(options.services))
      throw invalidOption('services', 'must be an object of service options by service name');
    for (const [name, own] of Object.entries(options.services)) {
      checkServiceName(name);
      checkClientKeys(`createDispatcher services.${name}`, own, false);
    }
  }
  if (options.defaults !== undefined) {
    checkClientKeys('createDispatcher defaults', options.defaults, false);
    for (const key of ['endpoints', 'resolver'] as const)
      if (key in options.defaults)
        throw invalidOption(
          `defaults.${key}`,
          'endpoints belong to each service (services.<name>), not to defaults',
        );
  }
  if (options.resolve !== undefined && typeof options.resolve !== 'function')
    throw invalidOption('resolve', 'must be a function (service) => Resolver | undefined');
  return new WeftDispatcher(options);
}
