/**
 * A resolver over the config service's registry: the endpoints of one service, pushed over the
 * watch stream. While the service is unreachable the resolver is `failed` and keeps the last good
 * set (static stability); with a client cache it can start from the set saved on disk.
 */
import {
  checkKnownKeys,
  type Endpoint,
  ErrorCode,
  invalidOption,
  isUsableEndpoint,
  type KeySet,
  type Resolver,
  type ResolverListener,
  type ResolverState,
  WeftError,
} from '@weft/core';
import {
  type ConfigClient,
  type ConfigClientOptions,
  checkName,
  createConfigClient,
} from '@weft/core/config';

export interface RegistryResolverOptions {
  /** The service whose instances to follow. */
  service: string;
  /**
   * A shared config client (it must watch this service's instances). Defaults to a client of its
   * own, made from the options below and closed with the resolver.
   */
  client?: ConfigClient;
  /** Config service URLs, when no `client` is given. Defaults to `WEFT_CONTROL_PLANE`. */
  urls?: ConfigClientOptions['urls'];
  /** Bearer token, when no `client` is given. Defaults to `WEFT_TOKEN`. */
  token?: string;
  /** Other options of the resolver's own client (cache file, backoff, clock, …). */
  clientOptions?: Omit<ConfigClientOptions, 'urls' | 'token' | 'services'>;
}

/** Watches the registered endpoints of one service. */
const REGISTRY_RESOLVER_KEYS = {
  service: true,
  client: true,
  urls: true,
  token: true,
  clientOptions: true,
} as const satisfies KeySet<RegistryResolverOptions>;

export function registryResolver(options: RegistryResolverOptions): Resolver {
  checkKnownKeys('registryResolver', options, REGISTRY_RESOLVER_KEYS);
  const reason = checkName(options.service);
  if (reason) throw invalidOption('service', reason);
  const owned = options.client === undefined;
  const client =
    options.client ??
    createConfigClient({
      ...options.clientOptions,
      ...(options.urls === undefined ? {} : { urls: options.urls }),
      ...(options.token === undefined ? {} : { token: options.token }),
      services: [options.service],
    });
  return new RegistryResolver(options.service, client, owned);
}

class RegistryResolver implements Resolver {
  readonly #service: string;
  readonly #client: ConfigClient;
  readonly #owned: boolean;
  readonly #listeners = new Set<ResolverListener>();
  readonly #unsubscribe: (() => void)[];
  #state: ResolverState = { kind: 'pending' };
  #lastGood: readonly Endpoint[] = [];
  #loaded = false;
  #lastInput: readonly Endpoint[] | undefined;
  #lastOutput: readonly Endpoint[] | undefined;

  constructor(service: string, client: ConfigClient, owned: boolean) {
    this.#service = service;
    this.#client = client;
    this.#owned = owned;
    this.#unsubscribe = [
      client.subscribe(() => this.#update(true)),
      client.watchStatus(() => this.#update(false)),
    ];
    client.ready().then(
      () => this.#update(true),
      () => this.#update(false),
    );
  }

  get state(): ResolverState {
    return this.#state;
  }

  subscribe(listener: ResolverListener): () => void {
    this.#listeners.add(listener);
    listener(this.#state);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    for (const u of this.#unsubscribe) u();
    this.#listeners.clear();
    if (this.#owned) await this.#client.close();
  }

  #update(dataChanged: boolean): void {
    if (dataChanged) this.#loaded = true;
    const status = this.#client.status;
    if (!this.#loaded && status.state === 'connecting') return;
    const endpoints = this.#usable(this.#client.endpoints(this.#service));
    if (endpoints) this.#lastGood = endpoints;
    let next: ResolverState;
    if (status.state === 'connected') next = endpoints ? { kind: 'bound', endpoints } : { kind: 'negative' };
    else if (status.state === 'closed') return;
    else if (status.state === 'unauthorized')
      next = {
        kind: 'failed',
        reason: new WeftError(
          ErrorCode.Unauthorized,
          `${this.#service}: ${status.lastError ?? 'token refused'}`,
        ),
        endpoints: endpoints ?? this.#lastGood,
      };
    else {
      const why =
        status.state === 'from-cache' ? 'serving the cached registry' : 'config service unreachable';
      next = {
        kind: 'failed',
        reason: new WeftError(
          ErrorCode.ResolutionFailed,
          `${this.#service}: ${why}: ${status.lastError ?? 'connecting'}`,
          {
            retryable: true,
          },
        ),
        endpoints: endpoints ?? this.#lastGood,
      };
    }
    if (this.#same(next)) return;
    this.#state = next;
    for (const l of this.#listeners) l(next);
  }

  /**
   * The registered endpoints a connection can be made to: an instance registered with a malformed
   * address (`host:port` in the address, a URL, control characters) is left out, so one bad
   * registration never reaches a client's pools. The same input gives the same array.
   */
  #usable(endpoints: readonly Endpoint[] | undefined): readonly Endpoint[] | undefined {
    if (endpoints === undefined || endpoints === this.#lastInput) return endpoints && this.#lastOutput;
    this.#lastInput = endpoints;
    this.#lastOutput = endpoints.every(isUsableEndpoint) ? endpoints : endpoints.filter(isUsableEndpoint);
    return this.#lastOutput;
  }

  #same(next: ResolverState): boolean {
    const cur = this.#state;
    if (cur.kind !== next.kind) return false;
    if (cur.kind === 'bound' && next.kind === 'bound') return cur.endpoints === next.endpoints;
    if (cur.kind === 'failed' && next.kind === 'failed')
      return cur.endpoints === next.endpoints && cur.reason.message === next.reason.message;
    return true;
  }
}
