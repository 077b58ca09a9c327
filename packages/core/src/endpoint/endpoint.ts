import { invalidOption } from '../errors/errors.ts';

/**
 * Endpoints and resolvers: where a destination's instances come from. A resolver is a watchable
 * source of endpoint sets for one service name; the balancer reacts to every update without
 * dropping in-flight requests.
 */

/** One instance of a destination service. */
export interface Endpoint {
  /** IP address or host name. */
  readonly address: string;
  readonly port: number;
  /** Free-form labels: `version`, `zone`, … */
  readonly labels?: Readonly<Record<string, string>>;
  /** Relative weight for weighted balancing. Defaults to 1. */
  readonly weight?: number;
}

/** The stable identity of an endpoint within a set: `address:port` (IPv6 in brackets). */
export function endpointKey(e: Pick<Endpoint, 'address' | 'port'>): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

/**
 * A resolver's state is explicit. `bound` carries the current set; `failed` keeps the last bound
 * set (static stability) and says why; `negative` means the name authoritatively has no endpoints.
 */
export type ResolverState =
  | { readonly kind: 'pending' }
  | { readonly kind: 'bound'; readonly endpoints: readonly Endpoint[] }
  | { readonly kind: 'failed'; readonly reason: Error; readonly endpoints: readonly Endpoint[] }
  | { readonly kind: 'negative' };

export type ResolverListener = (state: ResolverState) => void;

/** A watchable source of endpoints for one service name. */
export interface Resolver {
  /** The current state. */
  readonly state: ResolverState;
  /** Calls `listener` on every change, and once at once with the current state. Returns an unsubscribe. */
  subscribe(listener: ResolverListener): () => void;
  /** Stops watching and releases resources. */
  close(): void | Promise<void>;
}

/** The endpoints a state offers for traffic: the bound set, or the last good set when failed. */
export function usableEndpoints(state: ResolverState): readonly Endpoint[] {
  return state.kind === 'bound' || state.kind === 'failed' ? state.endpoints : [];
}

/** A resolver over a fixed list, whose set can be replaced by hand with {@link StaticResolver.set}. */
export class StaticResolver implements Resolver {
  #state: ResolverState;
  readonly #listeners = new Set<ResolverListener>();

  constructor(endpoints: readonly Endpoint[]) {
    this.#state = { kind: 'bound', endpoints: [...endpoints] };
  }

  get state(): ResolverState {
    return this.#state;
  }

  /** Replaces the set and notifies subscribers. */
  set(endpoints: readonly Endpoint[]): void {
    this.#state = { kind: 'bound', endpoints: [...endpoints] };
    for (const l of this.#listeners) l(this.#state);
  }

  subscribe(listener: ResolverListener): () => void {
    this.#listeners.add(listener);
    listener(this.#state);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#listeners.clear();
  }
}

/**
 * Parses `host:port`, `[v6]:port` or a URL into an endpoint. Throws `WEFT_INVALID_OPTION` naming
 * the value when it is none of these.
 */
export function parseEndpoint(value: string | Endpoint): Endpoint {
  if (typeof value !== 'string') return value;
  let url: URL;
  try {
    url = new URL(value.includes('://') ? value : `http://${value}`);
  } catch {
    throw invalidOption('endpoint', `${JSON.stringify(value)} is not host:port or a URL`);
  }
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const address = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { address, port };
}
