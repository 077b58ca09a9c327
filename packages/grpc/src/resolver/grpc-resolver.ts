/**
 * The grpc-js name resolver behind `weft:///<service>`: it follows a core `Resolver` and reports
 * each endpoint set to the channel, with a round-robin service config (grpc-js would otherwise pick
 * the first address only) unless the channel sets its own `grpc.service_config`. A failed resolver
 * keeps reporting its last good set (static stability).
 */
import { type ChannelOptions, experimental, type ServiceConfig, status as Status } from '@grpc/grpc-js';
import { type Resolver, type ResolverState, usableEndpoints } from '@weft/core';
import { lookupResolver } from './registry.ts';

const SERVICE_CONFIG: ServiceConfig = { loadBalancingConfig: [{ round_robin: {} }], methodConfig: [] };

export class WeftNameResolver implements experimental.Resolver {
  readonly #service: string;
  readonly #listener: experimental.ResolverListener;
  readonly #serviceConfig: experimental.StatusOr<ServiceConfig> | null;
  #resolver: Resolver | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(
    target: experimental.GrpcUri,
    listener: experimental.ResolverListener,
    options: ChannelOptions,
  ) {
    this.#service = target.path.replace(/^\//, '');
    this.#listener = listener;
    // A channel's own service config (its choice of LB policy) wins over Weft's default.
    this.#serviceConfig = options['grpc.service_config']
      ? null
      : experimental.statusOrFromValue(SERVICE_CONFIG);
  }

  static getDefaultAuthority(target: experimental.GrpcUri): string {
    return target.path.replace(/^\//, '');
  }

  updateResolution(): void {
    if (this.#unsubscribe) return;
    this.#resolver = lookupResolver(this.#service);
    if (!this.#resolver) {
      process.nextTick(() =>
        this.#listener(
          experimental.statusOrFromError({
            code: Status.UNAVAILABLE,
            details: `no Weft resolver for service ${this.#service}`,
          }),
          {},
          null,
          '',
        ),
      );
      return;
    }
    // The listener may not be called synchronously from updateResolution.
    let sync = true;
    this.#unsubscribe = this.#resolver.subscribe((state) => {
      if (sync) process.nextTick(() => this.#report(state));
      else this.#report(state);
    });
    sync = false;
  }

  destroy(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  #report(state: ResolverState): void {
    if (state.kind === 'pending' || !this.#unsubscribe) return;
    const endpoints = usableEndpoints(state);
    if (endpoints.length === 0) {
      const details =
        state.kind === 'failed'
          ? `resolver for ${this.#service} failed: ${state.reason.message}`
          : `service ${this.#service} has no endpoints`;
      this.#listener(experimental.statusOrFromError({ code: Status.UNAVAILABLE, details }), {}, null, '');
      return;
    }
    const list = endpoints.map((e) => ({ addresses: [{ host: e.address, port: e.port }] }));
    this.#listener(experimental.statusOrFromValue(list), {}, this.#serviceConfig, '');
  }
}
