/**
 * The gRPC destination: core's `Destination` over the gRPC binding (one grpc-js Channel per
 * endpoint), built by core's `createDestination`. Endpoints come from the options, else from a
 * resolver registered for the service name.
 */
import type { Channel } from '@grpc/grpc-js';
import { createDestination, type Destination } from '@weft/core';
import { lookupResolver } from '../resolver/registry.ts';
import { grpcBinding } from './binding.ts';
import type { GrpcCall } from './call.ts';
import type { GrpcExchange } from './exchange.ts';
import { type GrpcClientOptions, grpcStack, retryableCodesFromOptions } from './options.ts';

export type GrpcDestination = Destination<GrpcCall, GrpcExchange, Channel>;

/** The destination `name` of a client made by `createGrpcClient` or `weftClientOptions`. */
export function createGrpcDestination(name: string, options: GrpcClientOptions): GrpcDestination {
  return createDestination(grpcBinding(options, retryableCodesFromOptions(options)), name, options, {
    kind: 'createGrpcClient',
    stack: grpcStack(),
    customize: options.stack,
    findResolver: lookupResolver,
    resolverHint: 'register one with registerWeftResolver',
  });
}
