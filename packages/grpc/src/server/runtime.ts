/**
 * The server half of Weft over gRPC, as a grpc-js server interceptor. Per call (health methods
 * excepted: they bypass the stack, to answer while draining), the server stack runs
 * (`drain → deadline → admission → authorization → telemetry → context`, or the `stack` option's
 * edit of it) when the metadata arrives, down to the gRPC terminal, which hands the metadata on to
 * the handler. A refusal is answered before the handler runs (see binding.ts).
 *
 * The deadline is gRPC's own (`grpc-timeout`), so an inbound HTTP deadline that became a gRPC
 * deadline carries on into the handler's outbound calls. Every later listener event (messages,
 * half-close) runs inside the call's context, so handlers of all four call shapes — including stream
 * `data` handlers — inherit the deadline and the trace. The final status (or the client's cancel)
 * ends the call; a failure status of a handler whose downstream calls gave up on retries gets
 * `weft-no-retry: 1`.
 */
import {
  Metadata,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  status as Status,
} from '@grpc/grpc-js';
import {
  describeDestinations,
  Header,
  type MtlsFront,
  runInServerContext,
  ServerRuntimeBase,
} from '@weft/core';
import { grpcServerBinding } from './binding.ts';
import { GrpcServerCall, grpcTerminal, outcomeOf } from './call.ts';
import {
  type GrpcServerOptions,
  type ResolvedGrpcServerOptions,
  resolveGrpcServerOptions,
} from './options.ts';

export class GrpcServerRuntime extends ServerRuntimeBase {
  readonly options: ResolvedGrpcServerOptions;
  /** The grpc-js server interceptor: give it to `new Server({ interceptors: [runtime.interceptor] })`. */
  readonly interceptor: ServerInterceptor;
  /** The mTLS fronts of the ports `listen` bound with the `mtls` option (described by `describe()`). */
  readonly mtlsFronts: MtlsFront[] = [];

  constructor(options?: GrpcServerOptions) {
    const resolved = resolveGrpcServerOptions(options);
    super({ server: resolved, binding: grpcServerBinding, terminal: grpcTerminal });
    this.options = resolved;
    this.interceptor = (descriptor, call) => this.#intercept(descriptor.path, call);
  }

  /** The admin document: this server's state and stack, and every live Weft client's configuration. */
  describe(): object {
    return {
      server: {
        ...this.describeState(),
        options: {
          exemptPrefixes: this.options.exemptPrefixes,
          drainTimeoutMs: this.options.drainTimeoutMs,
          drainDelayMs: this.options.drainDelayMs,
          drainSignals: this.options.drainSignals,
        },
        // Per mTLS port, as the HTTP servers show it: the mode now, the floor in code, connections by kind.
        mtls: this.mtlsFronts.length > 0 ? this.mtlsFronts.map((f) => f.describe()) : undefined,
      },
      clients: describeDestinations(),
    };
  }

  #intercept(path: string, inner: ServerInterceptingCallInterface): ServerInterceptingCall {
    if (this.options.exemptPrefixes.some((p) => path.startsWith(p))) return new ServerInterceptingCall(inner);
    const clock = this.options.clock;
    let call: GrpcServerCall | undefined;
    return new ServerInterceptingCall(inner, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            call = new GrpcServerCall(path, metadata, inner, nextMetadata, clock.now());
            this.handle(call);
          },
          onReceiveMessage: (message, nextMessage) => {
            if (!call?.started) return;
            if (call.ctx) runInServerContext(call.ctx, nextMessage, message);
            else nextMessage(message);
          },
          onReceiveHalfClose: (nextHalfClose) => {
            if (!call?.started) return;
            if (call.ctx) runInServerContext(call.ctx, nextHalfClose);
            else nextHalfClose();
          },
          onCancel: () => {
            if (!call || call.finished) return;
            call.ctx?.cancel('the client cancelled the call');
            call.finish('cancelled', Status.CANCELLED, clock.now());
          },
        }),
      sendStatus: (status, nextStatus) => {
        if (call?.started && !call.finished) {
          if (status.code !== Status.OK && call.ctx?.downstreamExhausted) {
            const metadata = status.metadata ?? new Metadata();
            metadata.set(Header.noRetry, '1');
            status = { ...status, metadata };
          }
          call.finish(outcomeOf(status.code), status.code, clock.now());
        }
        nextStatus(status);
      },
    });
  }
}

/** Makes the server runtime (the server stack, admission, drain, telemetry) and its interceptor. */
export function grpcServerRuntime(options?: GrpcServerOptions): GrpcServerRuntime {
  return new GrpcServerRuntime(options);
}
