/**
 * `createDispatcher`: an undici Dispatcher that sends `http://<service>/…` through Weft. Installed
 * with undici's `setGlobalDispatcher`, it makes plain `fetch('http://users/u/1')` a mesh call: the
 * hostname names the destination service. Hosts that are not mesh services go to the fallback
 * dispatcher unchanged.
 */

import {
  checkKnownKeys,
  checkServiceName,
  ErrorCode,
  invalidOption,
  type KeySet,
  localZoneFromOptions,
  type PolicySource,
  policyFromOptions,
  type Resolver,
  WeftError,
} from '@weft/core';
import { Agent, Dispatcher } from 'undici';
import { HttpCall } from './call.ts';
import { closeHttpDestination, createHttpDestination, type HttpDestination } from './destination.ts';
import type { HttpExchange } from './exchange.ts';
import { type LegacyHandler, LegacyHandlerAdapter } from './legacy-handler.ts';
import { type ClientOptions, checkClientKeys, resolverFromOptions, stackFromOptions } from './options.ts';

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

/** Lets the caller's handler abort, pause and resume whichever attempt is current. */
class ForwardController implements Dispatcher.DispatchController {
  readonly #abort = new AbortController();
  exchange: HttpExchange | undefined;
  #paused = false;

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
}

function lowerCaseHeaders(headers: Dispatcher.DispatchOptions['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  const add = (name: unknown, value: unknown) => {
    if (value === undefined || value === null) return;
    const key = String(name).toLowerCase();
    const text = Array.isArray(value) ? value.join(', ') : String(value);
    out[key] = out[key] === undefined ? text : `${out[key]}, ${text}`;
  };
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0]))
      for (const [n, v] of headers as unknown as [string, string][]) add(n, v);
    else for (let i = 0; i + 1 < headers.length; i += 2) add(headers[i], headers[i + 1]);
  } else if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [n, v] of headers as Iterable<[string, string]>) add(n, v);
  } else {
    for (const [n, v] of Object.entries(headers)) add(n, v);
  }
  delete out.host;
  return out;
}

export class WeftDispatcher extends Dispatcher {
  readonly #options: DispatcherOptions;
  readonly #destinations = new Map<string, HttpDestination | null>();
  readonly #fallback: Dispatcher | undefined;
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
    const options: ClientOptions = { ...this.#options.defaults, ...own, service: host };
    if (resolver) options.resolver = resolver;
    dest = createHttpDestination({
      name: host,
      resolver: resolverFromOptions(options),
      policy: policyFromOptions(host, options),
      stack: stackFromOptions(options),
      transport: options,
      config: this.#options.config,
      localZone: localZoneFromOptions(options),
      kind: 'createDispatcher',
      clock: options.clock,
      random: options.random,
    });
    this.#destinations.set(host, dest);
    return dest;
  }

  /** Hostnames by origin string, so a request does not parse its origin again. */
  readonly #hosts = new Map<string, string>();

  #hostOf(origin: string): string {
    let host = this.#hosts.get(origin);
    if (host === undefined) {
      host = new URL(origin).hostname;
      if (this.#hosts.size < 10_000) this.#hosts.set(origin, host);
    }
    return host;
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    // Older callers (undici ≤ 7's fetch, Node's bundled fetch when installed with undici 7's
    // setGlobalDispatcher) hand a handler of the older API (onConnect/onHeaders/…): adapt it.
    if (typeof handler.onRequestStart !== 'function')
      handler = new LegacyHandlerAdapter(handler as unknown as LegacyHandler);
    const host = opts.origin === undefined ? undefined : this.#hostOf(String(opts.origin));
    const dest = host === undefined || this.#closed ? null : this.#destination(host);
    if (!dest) {
      if (this.#fallback) return this.#fallback.dispatch(opts, handler);
      const err = new WeftError(ErrorCode.NoEndpoints, `${host ?? '(no origin)'} is not a mesh service`);
      handler.onResponseError?.(new ForwardController(), err);
      return false;
    }
    const controller = new ForwardController();
    handler.onRequestStart?.(controller, {});
    if (controller.aborted) return true;
    const method = (opts.method ?? 'GET').toUpperCase();
    const call = new HttpCall(
      dest.name,
      method,
      opts.path,
      lowerCaseHeaders(opts.headers),
      opts.body,
      controller.signal,
    );
    dest.call(call).then(
      (exchange) => {
        controller.exchange = exchange;
        if (controller.paused) exchange.pause();
        exchange.forward(handler, controller);
      },
      (error: Error) => handler.onResponseError?.(controller, error),
    );
    return true;
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
