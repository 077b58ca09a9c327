/**
 * The server stack's types, and what a protocol supplies to run it. A protocol binding (HTTP for
 * Express and Fastify, gRPC for grpc-js) gives the terminal (the service that runs the handler), a
 * {@link ServerCall} subclass (how to read its headers or metadata), and a {@link ServerBinding}: how
 * to answer a refusal, the semantic-convention names of its span and duration. No core module
 * branches on a protocol's name.
 */

import type { Attributes } from '@opentelemetry/api';
import type { Admission } from '../admission/admission.ts';
import type { WeftError } from '../errors/errors.ts';
import type { MethodKind } from '../route/route-table.ts';
import type { Module, Stack } from '../stack/stack.ts';
import type { Clock } from '../time/clock.ts';
import type { TrafficGate } from '../traffic/traffic-gate.ts';
import type { ServerCall } from './call.ts';
import type { DrainState } from './drain.ts';
import type { InboundField } from './inbound.ts';
import type { ServerInstruments } from './instruments.ts';
import type { ServerAuthorizationSettings } from './modules/authorization-module.ts';

/**
 * One layer of the server: handles `call` synchronously up to the handler, or throws a
 * `WeftError` to refuse it (the binding writes the protocol's reply). What must happen when the
 * call ends is registered with `call.defer`.
 */
export type ServerService = (call: ServerCall) => void;

/** What every module of a server stack is built with. */
export interface ServerStackEnv {
  readonly clock: Clock;
  readonly instruments: ServerInstruments;
  /** The server's own admission (its `concurrency` and `rate` options). */
  readonly admission: Admission;
  readonly drain: DrainState;
  readonly binding: ServerBinding;
  /** Counts an inbound value ignored because malformed (`weft.server.malformed_headers`). */
  readonly onMalformed: (field: InboundField) => void;
  /** The kill switch of this server's service (mesh-wide or its own); undefined without the `config` option. */
  readonly traffic?: TrafficGate;
  /** The server's service, config and trust domain, when policies apply to it. */
  readonly authorization?: ServerAuthorizationSettings | undefined;
  /** False when inbound `weft-route` overrides are dropped (the `routeOverrides` option). Defaults to true. */
  readonly routeOverrides?: boolean;
}

/** A module of the server stack. */
export type ServerModule<P extends object = object> = Module<
  P,
  ServerCall,
  void,
  ServerService,
  ServerStackEnv
>;

/** The server stack: what the `stack` server option edits. */
export type ServerStack = Stack<ServerCall, void, ServerService, ServerStackEnv>;

/** What a protocol tells the server stack. */
export interface ServerBinding {
  /** `http` or `grpc`, for the admin document. */
  readonly protocol: string;
  /**
   * How the protocol names methods, for what policies match: `verb` (HTTP methods and paths) or
   * `rpc` (`/pkg.Service/Method`, matched by `grpcMethods`). Defaults to `verb`.
   */
  readonly methodKind?: MethodKind;
  /** The duration histogram's semantic-convention name (`http.server.request.duration`). */
  readonly durationMetric: string;
  /** Attributes added to every refusal's metrics (`rpc.system`). */
  readonly rejectionAttributes: Attributes;
  /** The server span's name when it starts. */
  spanName(call: ServerCall): string;
  /** The server span's attributes when it starts. */
  spanAttributes(call: ServerCall): Attributes;
  /**
   * The attributes of the ended call, for the span and the duration; `error.type` set marks the
   * span as an error.
   */
  endAttributes(call: ServerCall): Attributes;
  /** The span's final name, when it changes once the call ended (an HTTP route); else undefined. */
  endSpanName(call: ServerCall): string | undefined;
  /**
   * Answers `call` with the protocol's refusal for `error` (by its code, see rejection.ts) and sets
   * `call.status`. The handler has not run.
   */
  reject(call: ServerCall, error: WeftError): void;
}
