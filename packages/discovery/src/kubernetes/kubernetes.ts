/**
 * A resolver over a Kubernetes Service's EndpointSlices (discovery.k8s.io/v1): LIST the slices
 * labelled `kubernetes.io/service-name=<service>`, then WATCH from the list's resourceVersion. Each
 * watch event updates one slice and republishes the set, so a removed or unready endpoint leaves
 * the set on the event that says so. A watch that ends (the server's timeout) is resumed from the
 * last resourceVersion seen (bookmarks included); `410 Gone` — the version is too old — relists.
 * A lost connection or an API error marks the resolver `failed`, keeps the last set, and retries
 * with backoff.
 *
 * Why a plain watch rather than `@kubernetes/client-node`: the resolver needs two GET requests and a
 * line reader; the client library brings a large dependency tree (websockets, OpenID, tar, proxy
 * agents, …) into every service that imports discovery, for no behaviour we use.
 */
import { readFile } from 'node:fs/promises';
import type { Clock, Endpoint, Resolver, ResolverListener, ResolverState } from '@weft/core';
import { ErrorCode, sleep, systemClock, WeftError } from '@weft/core';
import { EndpointSource } from '../source/endpoint-source.ts';
import { ApiStatusError, type ApiTarget, lines, open, readJson, statusError } from './api.ts';
import {
  checkOptions,
  KUBERNETES_DEFAULTS,
  type KubernetesResolverOptions,
  SERVICE_ACCOUNT,
} from './options.ts';
import { type EndpointSlice, type SliceEndpoints, sliceEndpoints } from './slices.ts';

export type { KubernetesResolverOptions } from './options.ts';
export { KUBERNETES_DEFAULTS } from './options.ts';

interface WatchEvent {
  readonly type: string;
  readonly object: EndpointSlice & { readonly code?: number; readonly message?: string };
}

class Gone extends Error {}

/** A resolver over the EndpointSlices of one Service. */
export class KubernetesResolver implements Resolver {
  readonly #source: EndpointSource;
  readonly #options: KubernetesResolverOptions;
  readonly #clock: Clock;
  readonly #abort = new AbortController();
  readonly #slices = new Map<string, SliceEndpoints>();
  #namespace: string | undefined;
  #resourceVersion: string | undefined;
  #target: ApiTarget | undefined;
  #errorsInARow = 0;
  #streaming = false;
  /** LIST requests made so far (a relist after 410 Gone adds one). */
  lists = 0;
  /** WATCH requests made so far. */
  watches = 0;

  constructor(options: KubernetesResolverOptions) {
    checkOptions(options);
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#namespace = options.namespace;
    this.#source = new EndpointSource('kubernetes', options.service);
    void this.#run();
  }

  get state(): ResolverState {
    return this.#source.state;
  }

  subscribe(listener: ResolverListener): () => void {
    return this.#source.subscribe(listener);
  }

  close(): void {
    this.#source.close();
    this.#abort.abort(new WeftError(ErrorCode.Closed, 'resolver closed'));
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        this.#target ??= await this.#connect();
        if (this.#resourceVersion === undefined) await this.#list(signal);
        await this.#watch(signal);
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof Gone) {
          this.#resourceVersion = undefined;
          continue;
        }
        // Build the connection settings again on the next attempt: a CA or server that was missing may be there now.
        this.#target = undefined;
        const wasStreaming = this.#streaming;
        this.#streaming = false;
        this.#errorsInARow++;
        // An established watch that breaks (an API server restart, an idle proxy) is resumed at once;
        // the resolver is marked failed only if that reconnect fails too.
        if (wasStreaming && this.#errorsInARow === 1) continue;
        const what =
          err instanceof ApiStatusError ? err.message : ((err as NodeJS.ErrnoException).code ?? String(err));
        this.#source.fail(
          new WeftError(ErrorCode.ResolutionFailed, `Kubernetes EndpointSlices of ${this.#name()}: ${what}`, {
            retryable: true,
            cause: err,
          }),
        );
        const { retryMs = KUBERNETES_DEFAULTS.retryMs, maxRetryMs = KUBERNETES_DEFAULTS.maxRetryMs } =
          this.#options;
        const delay = Math.min(retryMs * 2 ** Math.min(this.#errorsInARow - 1, 30), maxRetryMs);
        await sleep(this.#clock, delay, signal, true).catch(() => {});
      }
    }
  }

  #name(): string {
    return `${this.#namespace ?? '?'}/${this.#options.service}`;
  }

  async #connect(): Promise<ApiTarget> {
    const o = this.#options;
    this.#namespace ??= await readFile(`${SERVICE_ACCOUNT}/namespace`, 'utf8').then(
      (s) => s.trim(),
      () => 'default',
    );
    const server = new URL(
      o.server ??
        `https://${process.env.KUBERNETES_SERVICE_HOST}:${process.env.KUBERNETES_SERVICE_PORT ?? '443'}`,
    );
    let ca = o.ca;
    if (ca === undefined && server.protocol === 'https:') {
      ca = await readFile(o.caFile ?? KUBERNETES_DEFAULTS.caFile, 'utf8').catch(() => undefined);
    }
    const tokenFile = o.tokenFile ?? KUBERNETES_DEFAULTS.tokenFile;
    const token =
      o.token !== undefined
        ? async () => o.token
        : () =>
            readFile(tokenFile, 'utf8').then(
              (s) => s.trim(),
              () => undefined,
            );
    return { server, token, ca };
  }

  #path(extra: string): string {
    const selector = encodeURIComponent(`kubernetes.io/service-name=${this.#options.service}`);
    const ns = encodeURIComponent(this.#namespace ?? 'default');
    return `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=${selector}${extra}`;
  }

  async #list(signal: AbortSignal): Promise<void> {
    this.lists++;
    const items: EndpointSlice[] = [];
    let next = '';
    let version: string | undefined;
    do {
      const res = await open(
        this.#target!,
        this.#path(`&limit=500${next ? `&continue=${encodeURIComponent(next)}` : ''}`),
        signal,
      );
      const page = (await readJson(res)) as {
        items?: EndpointSlice[];
        metadata?: { resourceVersion?: string; continue?: string };
      };
      items.push(...(page.items ?? []));
      version = page.metadata?.resourceVersion;
      next = page.metadata?.continue ?? '';
    } while (next !== '');
    this.#slices.clear();
    for (const slice of items)
      this.#slices.set(slice.metadata.name, sliceEndpoints(slice, this.#options.port));
    this.#resourceVersion = version;
    this.#publish();
  }

  async #watch(signal: AbortSignal): Promise<void> {
    this.watches++;
    const timeout = this.#options.watchTimeoutSeconds ?? KUBERNETES_DEFAULTS.watchTimeoutSeconds;
    const rv = encodeURIComponent(this.#resourceVersion ?? '');
    const res = await open(
      this.#target!,
      this.#path(`&watch=true&allowWatchBookmarks=true&timeoutSeconds=${timeout}&resourceVersion=${rv}`),
      signal,
    );
    if (res.statusCode === 410) {
      res.resume();
      throw new Gone();
    }
    if ((res.statusCode ?? 0) >= 300) {
      await readJson(res);
    }
    this.#errorsInARow = 0;
    this.#streaming = true;
    // Connected again after an error: the set we hold is current as of the resourceVersion we resume from.
    if (this.#source.state.kind === 'failed') this.#publish();
    let events = 0;
    for await (const line of lines(res)) {
      events++;
      let event: WatchEvent;
      try {
        event = JSON.parse(line) as WatchEvent;
      } catch {
        throw new Error(`a watch event that is not JSON (${line.slice(0, 80)})`);
      }
      this.#apply(event);
    }
    // A watch that ends without a single event is resumed after a pause, so that a server closing
    // watches at once cannot make this loop spin.
    this.#streaming = false;
    if (events === 0)
      await sleep(this.#clock, this.#options.retryMs ?? KUBERNETES_DEFAULTS.retryMs, signal, true);
  }

  #apply(event: WatchEvent): void {
    const { type, object } = event;
    if (type === 'ERROR') {
      if (object?.code === 410) throw new Gone();
      throw statusError(object?.code ?? 0, JSON.stringify(object ?? {}));
    }
    const name = object?.metadata?.name;
    const version = object?.metadata?.resourceVersion;
    if (type === 'BOOKMARK') {
      if (version) this.#resourceVersion = version;
      return;
    }
    if (typeof name !== 'string') throw new Error(`a ${type} watch event without metadata.name`);
    if (type === 'ADDED' || type === 'MODIFIED')
      this.#slices.set(name, sliceEndpoints(object, this.#options.port));
    else if (type === 'DELETED') this.#slices.delete(name);
    else throw new Error(`an unknown watch event type ${JSON.stringify(type)}`);
    if (version) this.#resourceVersion = version;
    this.#publish();
  }

  #publish(): void {
    if (this.#slices.size === 0) {
      this.#source.negative();
      return;
    }
    const ready: Endpoint[] = [];
    const terminating: Endpoint[] = [];
    let portFound = false;
    for (const s of this.#slices.values()) {
      portFound ||= s.portFound;
      for (const e of s.ready) ready.push(e);
      for (const e of s.terminating) terminating.push(e);
    }
    if (!portFound) {
      const port = this.#options.port;
      const problem =
        port === undefined
          ? 'no EndpointSlice has exactly one port; set the port option'
          : `no EndpointSlice has port ${JSON.stringify(port)}`;
      this.#source.fail(
        new WeftError(ErrorCode.ResolutionFailed, `Kubernetes EndpointSlices of ${this.#name()}: ${problem}`),
      );
      return;
    }
    const useTerminating =
      this.#options.useTerminatingWhenNoneReady ?? KUBERNETES_DEFAULTS.useTerminatingWhenNoneReady;
    const chosen = ready.length > 0 || !useTerminating ? ready : terminating;
    if (chosen.length === 0) this.#source.negative();
    else this.#source.bind(chosen);
  }
}

/** Builds a resolver over a Service's EndpointSlices. See {@link KubernetesResolverOptions}. */
export function kubernetesResolver(options: KubernetesResolverOptions): KubernetesResolver {
  return new KubernetesResolver(options);
}
