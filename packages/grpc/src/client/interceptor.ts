/**
 * The Weft client interceptor. It sits at the bottom of a grpc-js client's interceptor chain and
 * never calls the client's own channel: each call runs through the destination's Weft stack
 * (context, telemetry, deadline, breaker, retry, attempt, balance, endpoint) and its attempts go to
 * per-endpoint channels. Interceptors are grpc-js's public, stable extension point (gRFC L5), so no
 * fork and no private API are needed for the call path.
 */
import {
  InterceptingCall,
  type InterceptingListener,
  type Interceptor,
  type InterceptorOptions,
  type Metadata,
  status as Status,
  type StatusObject,
} from '@grpc/grpc-js';
import { currentContext, ErrorCode, runWithContext, type WeftContext, WeftError } from '@weft/core';
import { callKind, GrpcCall } from './call.ts';
import type { GrpcDestination } from './destination.ts';
import type { ExchangeSink, GrpcExchange } from './exchange.ts';
import type { GrpcClientMtls } from './mtls.ts';
import { statusFromError } from './status.ts';

/** What the interceptor needs to know about methods beyond what grpc-js passes it. */
export interface MethodInfo {
  /** True when the method is safe to send more than once. */
  idempotent(path: string): boolean;
  /** Bytes of a request stream kept for a retry. */
  readonly replayLimitBytes: number;
}

type WriteContext = { callback?: (error?: Error | null) => void; flags?: number };
type Definition = InterceptorOptions['method_definition'];

/** The bottom of the interceptor chain for one call. */
class WeftClientCall implements ExchangeSink {
  readonly #destination: GrpcDestination;
  readonly #definition: Definition;
  readonly #options: InterceptorOptions;
  readonly #methods: MethodInfo;
  readonly #mtls: GrpcClientMtls | undefined;
  readonly #parent: WeftContext | undefined;
  readonly #abort = new AbortController();
  readonly #replayLimit: number;
  #listener: Partial<InterceptingListener> | undefined;
  #call: GrpcCall | undefined;
  #exchange: GrpcExchange | undefined;
  #reads = 0;
  #finished = false;
  #started = false;

  constructor(
    destination: GrpcDestination,
    options: InterceptorOptions,
    methods: MethodInfo,
    mtls: GrpcClientMtls | undefined,
  ) {
    this.#mtls = mtls;
    this.#replayLimit = methods.replayLimitBytes;
    this.#destination = destination;
    this.#options = options;
    this.#definition = options.method_definition;
    this.#methods = methods;
    this.#parent = currentContext();
  }

  start(metadata: Metadata, listener?: Partial<InterceptingListener>): void {
    this.#listener = listener;
    const def = this.#definition;
    const call = new GrpcCall(
      this.#destination.name,
      def.path,
      callKind(def.requestStream, def.responseStream),
      metadata,
      this.#abort.signal,
      this.#replayLimit,
    );
    call.idempotent = this.#methods.idempotent(def.path);
    const deadline = this.#options.deadline;
    if (deadline !== undefined) {
      const at = deadline instanceof Date ? deadline.getTime() : deadline;
      if (at !== Number.POSITIVE_INFINITY) call.timeoutMs = Math.max(1, at - Date.now());
    }
    this.#call = call;
    // Streaming requests start at once (messages flow as they are written); single requests wait
    // for the message and half-close, so the attempt can be replayed.
    if (call.outbound) this.#begin();
  }

  sendMessageWithContext(context: WriteContext, message: unknown): void {
    const call = this.#call;
    if (!call || this.#finished) return;
    let buffer: Buffer;
    try {
      buffer = this.#definition.requestSerialize(message);
    } catch (error) {
      this.cancelWithStatus(Status.INTERNAL, `request serialization failed: ${(error as Error).message}`);
      return;
    }
    if (call.outbound) call.outbound.send(context, buffer);
    else {
      call.request = buffer;
      context.callback?.();
    }
  }

  sendMessage(message: unknown): void {
    this.sendMessageWithContext({}, message);
  }

  halfClose(): void {
    const call = this.#call;
    if (!call || this.#finished) return;
    if (call.outbound) call.outbound.halfClose();
    else this.#begin();
  }

  startRead(): void {
    if (this.#exchange) this.#exchange.read();
    else this.#reads++;
  }

  cancelWithStatus(code: Status, details: string): void {
    if (this.#finished) return;
    if (!this.#started || this.#exchange === undefined) {
      this.#abort.abort(new WeftError(ErrorCode.Cancelled, details || 'cancelled by the caller'));
      if (!this.#started) this.status({ ...statusFromError(this.#abort.signal.reason), code });
      return;
    }
    this.#exchange.cancel(code, details);
  }

  getPeer(): string {
    return this.#exchange?.peer ?? '';
  }

  getAuthContext(): null {
    return null;
  }

  #begin(): void {
    if (this.#started) return;
    this.#started = true;
    const call = this.#call!;
    if (!call.outbound && call.request === undefined) {
      this.status({ ...statusFromError(undefined), code: Status.INTERNAL, details: 'no request message' });
      return;
    }
    // STRICT without a certificate: nothing can be sent to any endpoint; fail before the stack, so
    // that neither the breaker nor an endpoint's health counts it.
    const blocked = this.#mtls?.blocked;
    if (blocked !== undefined) {
      this.status(statusFromError(blocked));
      return;
    }
    const parent = this.#parent;
    const run = () => this.#destination.call(call);
    const pending = parent && currentContext() !== parent ? runWithContext(parent, run) : run();
    pending.then(
      (exchange) => this.#attach(exchange),
      (error) => this.status(statusFromError(error)),
    );
  }

  #attach(exchange: GrpcExchange): void {
    this.#exchange = exchange;
    this.#call?.outbound?.commit();
    exchange.attach(this);
    while (this.#reads > 0 && !this.#finished) {
      this.#reads--;
      exchange.read();
    }
  }

  // ExchangeSink: the kept attempt's response, delivered to the caller.
  metadata(metadata: Metadata): void {
    if (!this.#finished) this.#listener?.onReceiveMetadata?.(metadata);
  }

  message(message: Buffer): void {
    if (this.#finished) return;
    let value: unknown;
    try {
      value = this.#definition.responseDeserialize(message);
    } catch (error) {
      this.#exchange?.cancel(Status.INTERNAL, `response parsing failed: ${(error as Error).message}`);
      return;
    }
    this.#listener?.onReceiveMessage?.(value);
  }

  status(status: StatusObject): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#listener?.onReceiveStatus?.(status);
  }
}

/** An interceptor that sends every call of a client through `destination`. */
export function weftInterceptor(
  destination: GrpcDestination,
  methods: MethodInfo,
  mtls?: GrpcClientMtls,
): Interceptor {
  return (options) =>
    new InterceptingCall(
      new WeftClientCall(destination, options, methods, mtls) as never,
    ) as InterceptingCall;
}
