/**
 * The channel a Weft gRPC client is built on (grpc-js `channelOverride`). Calls never reach it in
 * normal use — the Weft interceptor sends them through the stack — but it ties the client's life to
 * the destination (`client.close()` closes the per-endpoint channels and watchers) and reports a
 * connectivity state that follows the endpoint set, so `waitForReady`-style helpers work.
 */
import { type ChannelInterface, connectivityState } from '@grpc/grpc-js';
import type { DestinationDescription } from '@weft/core';
import { ErrorCode, WeftError } from '@weft/core';
import type { GrpcDestination } from './destination.ts';
import type { RawCall } from './raw.ts';

type ChannelRef = ReturnType<ChannelInterface['getChannelzRef']>;

/** How often `watchConnectivityState` looks at the endpoint set, in ms. */
const WATCH_INTERVAL_MS = 25;

export class WeftChannel implements ChannelInterface {
  readonly #destination: GrpcDestination;
  readonly #target: string;
  readonly #onClose: () => void;

  constructor(destination: GrpcDestination, onClose: () => void = () => {}) {
    this.#destination = destination;
    this.#target = `weft:///${destination.name}`;
    this.#onClose = onClose;
  }

  close(): void {
    this.#onClose();
    this.#destination.close();
  }

  /** The destination's effective policy, stack and endpoint state. */
  describe(): DestinationDescription {
    return this.#destination.describe();
  }

  getTarget(): string {
    return this.#target;
  }

  getConnectivityState(_tryToConnect: boolean): connectivityState {
    const d = this.#destination;
    if (d.closed) return connectivityState.SHUTDOWN;
    const kind = d.endpoints.resolverState.kind;
    if (kind === 'pending') return connectivityState.CONNECTING;
    return d.endpoints.available.length > 0 ? connectivityState.READY : connectivityState.TRANSIENT_FAILURE;
  }

  watchConnectivityState(
    currentState: connectivityState,
    deadline: Date | number,
    callback: (error?: Error) => void,
  ): void {
    const until = deadline instanceof Date ? deadline.getTime() : deadline;
    const check = () => {
      if (this.getConnectivityState(false) !== currentState) callback();
      else if (Date.now() >= until)
        callback(new Error('deadline passed without a connectivity state change'));
      else setTimeout(check, WATCH_INTERVAL_MS).unref();
    };
    setTimeout(check, 0).unref();
  }

  getChannelzRef(): ChannelRef {
    return { kind: 'channel', id: 0, name: this.#target } as ChannelRef;
  }

  /**
   * Only reached by calls that bypass the interceptor chain: they still go to an endpoint the
   * balancer picks, without retries.
   */
  createCall(...args: Parameters<ChannelInterface['createCall']>): RawCall {
    const ep = this.#destination.endpoints.pick();
    if (!ep) throw new WeftError(ErrorCode.NoEndpoints, `no endpoints for ${this.#destination.name}`);
    const channel = ep.transport!.channel(ep.endpoint);
    if (channel instanceof WeftError) throw channel;
    return channel.createCall(...args);
  }
}
