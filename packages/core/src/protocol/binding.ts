/**
 * A protocol binding: everything core needs to know about one protocol (HTTP over undici, gRPC over
 * grpc-js, the testing kit's fake), in one object. Core's modules ask the binding instead of
 * branching on a protocol's name: it sends an attempt (the terminal), classifies outcomes under a
 * policy, names spans and metrics after the protocol's semantic conventions, writes the deadline to
 * the wire and reads Weft's markers and the server's pushback from a response, and opens and closes
 * an endpoint's connection handle.
 *
 * Trace context (`traceparent`, `tracestate`, `baggage`) and Weft's request marker (`weft-attempt`)
 * are written by core into `call.headers`, the protocol-neutral carrier every terminal sends as its
 * protocol's headers (HTTP headers, gRPC metadata); only the deadline's encoding differs between
 * protocols, so only it is the binding's to write.
 *
 * One binding serves a destination for its lifetime: its methods are plain shared functions, called
 * per attempt without allocating.
 */
import type { DestinationPolicy } from '../config/policy.ts';
import { Header } from '../context/wire.ts';
import type { Endpoint } from '../endpoint/endpoint.ts';
import type { CompiledEdits, MethodKind } from '../route/route-table.ts';
import type { Call } from '../stack/call.ts';
import type { Classifier } from '../stack/env.ts';
import type { Service } from '../stack/stack.ts';
import type { Clock } from '../time/clock.ts';

/** A duration histogram's name and unit, as the semantic conventions give them. */
export interface DurationInstrument {
  /** The instrument's name (`http.client.request.duration`). */
  readonly name: string;
  /** `s` or `ms`: recorded values are converted to it. */
  readonly unit: 's' | 'ms';
  /** The instrument's description. Defaults to one line on client attempts. */
  readonly description?: string;
}

/**
 * The OpenTelemetry semantic-convention names of a protocol's client spans and metrics (HTTP:
 * `http.request.method`, …; RPC: `rpc.method`, …). Weft's own attributes (`server.address`,
 * `network.peer.*`, `weft.*`) are the same for every protocol.
 */
export interface ProtocolSemconv<Req extends Call = Call> {
  /** The name of an attempt's CLIENT span (HTTP: the method; gRPC: `package.Service/Method`). */
  spanName(call: Req): string;
  /** The attribute holding `call.method` (`http.request.method`, `rpc.method`). */
  readonly methodKey: string;
  /** The attribute holding the binding's `status(response)` (`http.response.status_code`, …). */
  readonly statusKey: string;
  /**
   * The attribute counting earlier attempts on a retried attempt's span (`http.request.resend_count`),
   * or `undefined` when the protocol's conventions define none.
   */
  readonly resendCountKey: string | undefined;
  /** The per-attempt duration histogram (`http.client.request.duration`, `rpc.client.duration`). */
  readonly attemptDuration: DurationInstrument;
}

/**
 * What core needs from a protocol. `Req` is the protocol's call, `Res` its response (the attempt's
 * exchange), `T` the connection handle kept per endpoint (an undici Pool, a grpc-js Channel).
 */
export interface ProtocolBinding<Req extends Call = Call, Res = unknown, T = unknown> {
  /** The protocol as `describe()` reports it (`http`, `rpc`). Nothing in core branches on it. */
  readonly name: string;
  /** Span and metric names. */
  readonly semconv: ProtocolSemconv<Req>;
  /** Makes the terminal service of a destination whose stack runs on `clock`: it sends one attempt to `call.endpoint`. */
  terminal(clock: Clock): Service<Req, Res>;
  /** The classifier under `policy` (e.g. its `retry.retryOnStatuses`); called at each stack build. */
  classifier(policy: DestinationPolicy): Classifier<Req, Res>;
  /** Makes the connection handle of an endpoint (called when it is first picked). */
  connect(endpoint: Endpoint): T;
  /** Releases the handle of an endpoint that left; requests in flight on it must be allowed to finish. */
  disconnect(handle: T): void;
  /**
   * Writes the call's remaining budget, whole ms ≥ 0, for the attempt about to be sent (HTTP: the
   * `weft-deadline-ms` header). A protocol with a native deadline does nothing here: its terminal
   * sends `call.deadline` its own way (gRPC's `grpc-timeout`).
   */
  writeDeadline(call: Req, remainingMs: number): void;
  /** The status to report in telemetry (HTTP status code, gRPC status code). */
  status(response: Res): number | string;
  /** Releases a response that will not be used (its attempt is being retried). */
  discard(response: Res): void;
  /** Calls `done` once the response's body is finished or abandoned (at once if it has none). */
  onBodyDone(response: Res, done: () => void): void;
  /**
   * True when the response says its server already retried downstream and gave up (HTTP
   * `weft-no-retry`, the same marker in gRPC trailers). Optional: without it the marker is only
   * set for Weft's own errors.
   */
  upstreamExhausted?(response: Res): boolean;
  /**
   * True when a response that is not a success says the request never left this process (gRPC's
   * UNAVAILABLE before any connection): the endpoint is charged as refusing. Optional.
   */
  notSent?(response: Res): boolean;
  /**
   * The server's pushback on a retryable response (HTTP `Retry-After`, gRPC
   * `grpc-retry-pushback-ms`): ms to wait, `-1` for "do not retry", `undefined` for none. Optional.
   */
  pushbackMs?(response: Res): number | undefined;

  // Traffic control (the `route` and `fault` modules). Each is optional: without it, the feature
  // that needs it does nothing for this protocol, and `describe()` says so.

  /** How the protocol names methods in route matches: `verb` (HTTP methods) or `rpc` (`/pkg.Service/Method`). Defaults to `verb`. */
  readonly methodKind?: MethodKind;
  /** Reads one request header (lower-case name) for route matches. Defaults to `call.headers[name]`. */
  requestHeader?(call: Req, name: string): string | undefined;
  /** Applies a rule's request header edits. Defaults to editing `call.headers`. */
  editRequestHeaders?(call: Req, edits: CompiledEdits): void;
  /** Applies a rule's response header edits to the response the caller gets. */
  editResponseHeaders?(response: Res, edits: CompiledEdits): void;
  /** Whether a rule's path rewrite applies to this protocol's calls. Defaults to false. */
  readonly rewritesPaths?: boolean;
  /**
   * A copy of the call to mirror (method, path, headers, the body when it can be sent again), or
   * undefined when it cannot be copied (a stream already being read).
   */
  mirror?(call: Req): Req | undefined;
  /** The response of an injected abort: the call is answered here, without reaching any server. */
  faultResponse?(call: Req, abort: FaultAbort): Res;
}

/** An injected abort: the status an HTTP call gets, the code a gRPC call gets (see FaultSpec). */
export interface FaultAbort {
  readonly status?: number | undefined;
  readonly grpcStatus?: number | undefined;
}

/** `writeDeadline` for protocols that carry the deadline as Weft's header, `weft-deadline-ms`. */
export function writeDeadlineHeader(call: Call, remainingMs: number): void {
  call.headers[Header.deadline] = String(remainingMs);
}

/** `writeDeadline` for protocols whose terminal sends `call.deadline` natively (gRPC). */
export function nativeDeadline(): void {}
