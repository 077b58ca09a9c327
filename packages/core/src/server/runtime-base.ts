/**
 * What every Weft server runtime shares, whatever the protocol: admission, the drain state machine,
 * the server instruments, the counts of refused calls and malformed inbound values, running a
 * handler in its context, and the lifecycle (drain on a signal or `drain()`, then let the binding
 * close its listener). The HTTP and gRPC runtimes extend it with how they read and answer calls.
 */
import type { Attributes } from '@opentelemetry/api';
import { type Admission, admission } from '../admission/admission.ts';
import { Header } from '../context/wire.ts';
import { type DrainResult, type DrainState, drainState } from './drain.ts';
import type { InboundField, ServerContext } from './inbound.ts';
import { createServerInstruments, type ServerInstruments } from './instruments.ts';
import type { ResolvedServerBase } from './options.ts';
import { onShutdownSignal } from './signals.ts';
import { runInServerContext } from './telemetry.ts';

/** Why a server refused a call before its handler ran (`weft.reason` on the metric). */
export type ShedReason = 'concurrency' | 'rate' | 'draining' | 'deadline';

export interface ServerRuntimeBaseOptions {
  /** The shared server options, resolved. */
  server: ResolvedServerBase;
  protocol: 'http' | 'rpc';
  /** Attributes added to every refusal's metric (e.g. `rpc.system`). Defaults to none. */
  shedAttributes?: Attributes;
}

const MALFORMED_ATTRS: Record<InboundField, Attributes> = {
  deadline: { header: Header.deadline },
  traceparent: { header: Header.traceparent },
  tracestate: { header: Header.tracestate },
  baggage: { header: Header.baggage },
};

export class ServerRuntimeBase {
  readonly admission: Admission;
  readonly drainState: DrainState;
  readonly instruments: ServerInstruments;
  /** Calls refused before their handler ran, by reason (also the `weft.server.rejected` metric). */
  readonly shed: Record<ShedReason, number> = { concurrency: 0, rate: 0, draining: 0, deadline: 0 };
  /** Inbound values ignored because malformed (also the `weft.server.malformed_headers` metric). */
  malformed = 0;
  /** Counts one malformed inbound value; give it to `readInbound`. */
  protected readonly onMalformed: (field: InboundField) => void;
  /** The metric attributes of each refusal reason. */
  protected readonly shedAttributes: Readonly<Record<ShedReason, Attributes>>;
  readonly #signals: readonly NodeJS.Signals[];
  #close: ((force: boolean) => Promise<void>) | undefined;
  #registration: { close(): Promise<void> } | undefined;
  #draining: Promise<DrainResult> | undefined;
  #removeSignals: (() => void) | undefined;

  constructor(options: ServerRuntimeBaseOptions) {
    const server = options.server;
    this.admission = admission(server.admission);
    this.drainState = drainState({
      timeoutMs: server.drainTimeoutMs,
      delayMs: server.drainDelayMs,
      clock: server.clock,
    });
    this.instruments = createServerInstruments(options.protocol);
    this.#signals = server.drainSignals;
    const extra = options.shedAttributes ?? {};
    this.shedAttributes = {
      concurrency: { 'weft.reason': 'concurrency', ...extra },
      rate: { 'weft.reason': 'rate', ...extra },
      draining: { 'weft.reason': 'draining', ...extra },
      deadline: { 'weft.reason': 'deadline', ...extra },
    };
    this.onMalformed = (field) => {
      this.malformed++;
      this.instruments.malformed.add(1, MALFORMED_ATTRS[field]);
    };
  }

  /** Counts one refusal: the `shed` tally and `weft.server.rejected`. */
  protected countRejection(reason: ShedReason): void {
    this.shed[reason]++;
    this.instruments.rejected.add(1, this.shedAttributes[reason]);
  }

  /** Counts a call refused before it started: a rejection, and a zero-length duration. */
  protected countShed(reason: ShedReason): void {
    this.countRejection(reason);
    this.instruments.duration.record(0, this.shedAttributes[reason]);
  }

  /** Runs `fn` in the call's context: Weft's (deadline, trace, retry marker) and OpenTelemetry's. */
  run<T>(ctx: ServerContext, fn: () => T): T {
    return runInServerContext(ctx, fn);
  }

  /** How the binding closes its listener once drained (`force`: calls outlived the drain timeout). */
  onClose(close: (force: boolean) => Promise<void>): void {
    this.#close = close;
  }

  /**
   * Ties the server's registration in the mesh to its lifecycle: a drain withdraws it first, so
   * callers stop picking the instance while it still answers, and the listener closes only once the
   * config service has acknowledged (or the deregistration's own timeout passed).
   */
  announce(registration: { close(): Promise<void> }): void {
    this.#registration = registration;
  }

  /** Withdraws the registration, if any (idempotent; never throws). */
  withdraw(): Promise<void> {
    const registration = this.#registration;
    this.#registration = undefined;
    return registration ? registration.close().catch(() => {}) : Promise.resolve();
  }

  /** Starts draining on the configured signals (once per runtime). */
  listenForSignals(): void {
    if (this.#removeSignals || this.#signals.length === 0) return;
    this.#removeSignals = onShutdownSignal(this.#signals, () => this.drain());
  }

  /** Drops the signal handlers (the server is closing). */
  stopListening(): void {
    this.#removeSignals?.();
    this.#removeSignals = undefined;
  }

  /**
   * Drains: readiness and health turn false, new calls get a retryable rejection, calls in flight
   * finish (up to the drain timeout), then the binding closes its listener. Calling it again returns
   * the same promise.
   */
  drain(): Promise<DrainResult> {
    this.#draining ??= (async () => {
      const withdrawn = this.withdraw();
      const result = await this.drainState.drain();
      await withdrawn;
      this.stopListening();
      await this.#close?.(result.abandoned > 0);
      return result;
    })();
    return this.#draining;
  }

  /** The server's state for an admin endpoint. */
  describeState(): {
    state: string;
    inflight: number;
    admission: object;
    shed: object;
    malformedHeaders: number;
  } {
    return {
      state: this.drainState.state,
      inflight: this.drainState.inflight,
      admission: this.admission.snapshot(),
      shed: { ...this.shed },
      malformedHeaders: this.malformed,
    };
  }
}
