/**
 * Mirroring (shadow traffic): a copy of a call sent to the mirror subset, fire-and-forget. Its answer
 * is discarded; it never delays, fails or retries the primary (the copy is a `shadow` call: no
 * retry, no retry-budget deposit, no breaker). Copies in flight are bounded per destination; over
 * the bound a copy is dropped and counted, as is a call whose body cannot be sent twice.
 */
import { Header } from '../context/wire.ts';
import type { ProtocolBinding } from '../protocol/binding.ts';
import type { Call } from '../stack/call.ts';
import type { Service } from '../stack/stack.ts';
import type { Instruments } from '../telemetry/instruments.ts';
import type { RoutedBackend, RoutedRule } from './routed.ts';

/** Copies in flight per destination, by default. */
export const MIRROR_DEFAULT_MAX_INFLIGHT = 100;

type Outcome = 'sent' | 'dropped-limit' | 'dropped-body' | 'failed';

/** Mirror state of one destination, shared across stack rebuilds (the in-flight count must survive them). */
export class MirrorGate {
  limit = MIRROR_DEFAULT_MAX_INFLIGHT;
  inflight = 0;
  /** Copies by outcome since the client started (also the `weft.client.mirrors` metric). */
  readonly counts: Record<Outcome, number> = { sent: 0, 'dropped-limit': 0, 'dropped-body': 0, failed: 0 };
  instruments: Instruments | undefined;
  destination = '';
  binding: ProtocolBinding | undefined;
  #attributes: Record<Outcome, Record<string, string>> | undefined;

  /** Releases one in-flight slot (the copy's answer is over). Shared, not made per copy. */
  readonly release = (): void => {
    this.inflight--;
  };

  readonly #onResponse = (response: unknown): void => {
    const binding = this.binding!;
    binding.onBodyDone(response, this.release);
    binding.discard(response);
  };

  readonly #onError = (): void => {
    this.#count('failed');
    this.release();
  };

  /** The copy to send, or undefined (dropped and counted). */
  copy<Req extends Call>(call: Req, routed: RoutedRule, backend: RoutedBackend): Req | undefined {
    if (!call.replayable) {
      this.#count('dropped-body');
      return undefined;
    }
    if (this.inflight >= this.limit) {
      this.#count('dropped-limit');
      return undefined;
    }
    const copy = (this.binding!.mirror as ((call: Req) => Req | undefined) | undefined)?.(call);
    if (copy === undefined) {
      this.#count('dropped-body');
      return undefined;
    }
    copy.shadow = true;
    copy.parent = call.parent;
    copy.otel = call.otel;
    copy.timeoutMs = call.timeoutMs;
    copy.longLived = call.longLived;
    copy.route = routed;
    copy.routePin = backend;
    copy.headers[Header.mirror] = '1';
    return copy;
  }

  send<Req extends Call, Res>(service: Service<Req, Res>, copy: Req): void {
    this.inflight++;
    this.#count('sent');
    service(copy).then(this.#onResponse, this.#onError);
  }

  #count(outcome: Outcome): void {
    this.counts[outcome]++;
    const instruments = this.instruments;
    if (!instruments?.metricsEnabled) return;
    this.#attributes ??= {
      sent: { 'server.address': this.destination, outcome: 'sent' },
      'dropped-limit': { 'server.address': this.destination, outcome: 'dropped-limit' },
      'dropped-body': { 'server.address': this.destination, outcome: 'dropped-body' },
      failed: { 'server.address': this.destination, outcome: 'failed' },
    };
    instruments.mirrors.add(1, this.#attributes[outcome]);
  }
}
