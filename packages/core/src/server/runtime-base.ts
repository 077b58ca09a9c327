/**
 * What every Weft server runtime shares, whatever the protocol: the server stack (built once from
 * the default stack and the `stack` option) and the runner that starts each call down it and answers
 * a refusal; admission, the drain state machine, the server instruments, the counts of refused calls
 * and malformed inbound values; and the lifecycle (drain on a signal or `drain()`, then let the
 * binding close its listener). The HTTP and gRPC runtimes extend it with how they read and answer
 * calls (their binding, terminal and call class).
 */
import type { Attributes } from '@opentelemetry/api';
import { type Admission, admission } from '../admission/admission.ts';
import { Header } from '../context/wire.ts';
import { ErrorCode, isWeftError, type WeftError } from '../errors/errors.ts';
import type { StackDescription } from '../stack/stack.ts';
import { diagnostics } from '../telemetry/diagnostics.ts';
import type { Clock } from '../time/clock.ts';
import { stopMessage, TrafficGate } from '../traffic/traffic-gate.ts';
import type { ServerBinding, ServerService, ServerStack, ServerStackEnv } from './binding.ts';
import type { ServerCall } from './call.ts';
import { type DrainResult, type DrainState, drainState } from './drain.ts';
import type { InboundField, ServerContext } from './inbound.ts';
import { createServerInstruments, type ServerInstruments } from './instruments.ts';
import type { ResolvedServerBase } from './options.ts';
import { type BuiltInRejection, internalRejection, rejectionReason, ServerRejection } from './rejection.ts';
import { onShutdownSignal } from './signals.ts';
import { runInServerContext } from './telemetry.ts';

/**
 * Why a server refused a call before its handler ran (`weft.reason` on the metric): the built-in
 * reasons, or a module's own (`permission_denied`, a `ServerRejection`'s reason).
 */
export type ShedReason = BuiltInRejection | (string & {});

export interface ServerRuntimeBaseOptions {
  /** The shared server options, resolved. */
  server: ResolvedServerBase;
  /** What the protocol tells the stack (replies, semantic-convention names). */
  binding: ServerBinding;
  /** The bottom of the stack: runs the handler (the framework's next middleware, grpc-js's next). */
  terminal: ServerService;
}

const MALFORMED_ATTRS: Record<InboundField, Attributes> = {
  deadline: { header: Header.deadline },
  traceparent: { header: Header.traceparent },
  tracestate: { header: Header.tracestate },
  baggage: { header: Header.baggage },
  route: { header: Header.route },
};

/** Refusal reasons whose metric attributes are kept (a module's reasons are few; this bounds a bad one). */
const MAX_REASONS = 64;

export class ServerRuntimeBase {
  readonly admission: Admission;
  readonly drainState: DrainState;
  readonly instruments: ServerInstruments;
  /** The server stack this runtime runs (after the `stack` option's edit). */
  readonly stack: ServerStack;
  readonly binding: ServerBinding;
  /** The kill switch this server follows (undefined without the `config` option). */
  readonly traffic: TrafficGate | undefined;
  /** Calls refused before their handler ran, by reason (also the `weft.server.rejected` metric). */
  readonly shed: Record<BuiltInRejection, number> & Record<string, number> = {
    concurrency: 0,
    rate: 0,
    draining: 0,
    deadline: 0,
  };
  /** Inbound values ignored because malformed (also the `weft.server.malformed_headers` metric). */
  malformed = 0;
  /** Counts one malformed inbound value. */
  protected readonly onMalformed: (field: InboundField) => void;
  protected readonly clock: Clock;
  readonly #service: ServerService;
  readonly #reasonAttributes = new Map<string, Attributes>();
  readonly #signals: readonly NodeJS.Signals[];
  #close: ((force: boolean) => Promise<void>) | undefined;
  #registration: { close(): Promise<void> } | undefined;
  #draining: Promise<DrainResult> | undefined;
  #removeSignals: (() => void) | undefined;
  #unsubscribeConfig: (() => void) | undefined;

  constructor(options: ServerRuntimeBaseOptions) {
    const server = options.server;
    this.binding = options.binding;
    this.clock = server.clock;
    this.admission = admission(server.admission);
    this.drainState = drainState({
      timeoutMs: server.drainTimeoutMs,
      delayMs: server.drainDelayMs,
      clock: server.clock,
    });
    this.instruments = createServerInstruments({ durationMetric: options.binding.durationMetric });
    this.#signals = server.drainSignals;
    for (const reason of Object.keys(this.shed)) this.#attributesOf(reason);
    this.onMalformed = (field) => {
      this.malformed++;
      this.instruments.malformed.add(1, MALFORMED_ATTRS[field]);
    };
    const config = server.config;
    const traffic = config ? serverGate(server.service) : undefined;
    if (config && traffic) {
      traffic.update(config);
      this.#unsubscribeConfig = config.subscribe(() => traffic.update(config));
    }
    this.traffic = traffic;
    const env: ServerStackEnv = {
      clock: server.clock,
      instruments: this.instruments,
      admission: this.admission,
      drain: this.drainState,
      binding: options.binding,
      onMalformed: this.onMalformed,
      traffic: this.traffic,
      authorization: server.authorization,
      routeOverrides: server.routeOverrides,
    };
    this.stack = server.stack;
    this.#service = server.stack.build(options.terminal, env);
  }

  /**
   * Starts `call` down the stack. A module that throws refuses it before the handler ran: the
   * binding answers with the protocol's reply, the call ends at once (every module's finisher runs),
   * and the refusal is counted. A non-Weft error (a module's bug) is refused as an internal error
   * and published on `weft:server:error`. An error thrown once the handler started is rethrown.
   */
  handle(call: ServerCall): void {
    try {
      this.#service(call);
    } catch (error) {
      if (call.started) throw error;
      this.#refuse(call, error);
    }
  }

  #refuse(call: ServerCall, thrown: unknown): void {
    let error: WeftError;
    if (isWeftError(thrown)) error = thrown;
    else {
      error = internalRejection(thrown);
      if (diagnostics.serverError.hasSubscribers)
        diagnostics.serverError.publish({ error: thrown, method: call.method, path: call.path });
    }
    const reason = rejectionReason(error);
    const traced = call.span !== undefined;
    call.rejection = error;
    try {
      this.binding.reject(call, error);
    } finally {
      call.finish('rejected', call.status, this.clock.now());
      this.countRejection(reason);
      // A call refused above `telemetry` has no span and no duration yet: a zero one, by reason.
      if (!traced) this.instruments.duration.record(0, this.#attributesOf(reason));
    }
  }

  /** Counts one refusal: the `shed` tally and `weft.server.rejected`. */
  protected countRejection(reason: ShedReason): void {
    this.shed[reason] = (this.shed[reason] ?? 0) + 1;
    this.instruments.rejected.add(1, this.#attributesOf(reason));
  }

  #attributesOf(reason: string): Attributes {
    let attributes = this.#reasonAttributes.get(reason);
    if (attributes === undefined) {
      attributes = { 'weft.reason': reason, ...this.binding.rejectionAttributes };
      if (this.#reasonAttributes.size < MAX_REASONS) this.#reasonAttributes.set(reason, attributes);
    }
    return attributes;
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
    this.#unsubscribeConfig?.();
    this.#unsubscribeConfig = undefined;
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

  /** The server stack with each module's params, top to bottom (roles, descriptions, params). */
  describeStack(): StackDescription['modules'] {
    return this.stack.effective().modules;
  }

  /** The server's state for an admin endpoint. */
  describeState(): {
    protocol: string;
    state: string;
    inflight: number;
    admission: object;
    shed: object;
    malformedHeaders: number;
    traffic: object | undefined;
    stack: StackDescription['modules'];
  } {
    return {
      protocol: this.binding.protocol,
      state: this.drainState.state,
      inflight: this.drainState.inflight,
      admission: this.admission.snapshot(),
      shed: { ...this.shed },
      malformedHeaders: this.malformed,
      traffic: this.traffic?.describe(),
      stack: this.describeStack(),
    };
  }
}

/** The kill switch of a server of `service`: its refusal is counted under `stopped`. */
function serverGate(service: string | undefined): TrafficGate {
  return new TrafficGate(
    service,
    (scope, reason) =>
      new ServerRejection(ErrorCode.TrafficStopped, `${stopMessage(service, scope, reason)}: not processed`, {
        reason: 'stopped',
      }),
  );
}
