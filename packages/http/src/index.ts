// First: refuses too old a Node.js before any other module of the package runs.
import './node-check.ts';

export type { DestinationDescription, PolicySource } from '@weft/core';
export { describeDestinations as describeClients } from '@weft/core';
export { HTTP_SEMCONV, httpBinding } from './client/binding.ts';
export { DEFAULT_BODY_REPLAY_LIMIT_BYTES } from './client/body.ts';
export { HttpCall, isReplayable } from './client/call.ts';
export { DEFAULT_RETRY_STATUSES, httpClassifier } from './client/classifier.ts';
export type { WeftClient, WeftRequestInit } from './client/client.ts';
export { createClient } from './client/client.ts';
export type { HttpDestination } from './client/destination.ts';
export type { DispatcherOptions, ServiceOptions } from './client/dispatcher.ts';
export { createDispatcher, WeftDispatcher } from './client/dispatcher.ts';
export { HttpExchange } from './client/exchange.ts';
export { installGlobalDispatcher } from './client/global.ts';
export type { ClientOptions } from './client/options.ts';
export type { TransportOptions } from './client/transport.ts';
export { isWeftRequest, TRANSPORT_DEFAULTS } from './client/transport.ts';
export { httpServerBinding } from './server/binding.ts';
export type { HttpServerHost } from './server/call.ts';
export { HttpServerCall } from './server/call.ts';
export type { HttpMtls, ServeMtlsOptions } from './server/mtls.ts';
export { serveMtls } from './server/mtls.ts';
export type { ResolvedServerOptions, RouteAdmissionOptions, ServerOptions } from './server/options.ts';
export { resolveServerOptions, SERVER_DEFAULTS } from './server/options.ts';
export type { Reply, ShedReason } from './server/replies.ts';
export { ServerRuntime } from './server/runtime.ts';
