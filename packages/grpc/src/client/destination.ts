/**
 * The gRPC destination: core's `Destination` over the gRPC binding (one grpc-js Channel per
 * endpoint), built by core's `createDestination`. Endpoints come from the options, else from a
 * resolver registered for the service name.
 */
import { createDestination, type Destination } from '@weft/core';
import { lookupResolver } from '../resolver/registry.ts';
import { grpcBinding } from './binding.ts';
import type { GrpcCall } from './call.ts';
import type { GrpcExchange } from './exchange.ts';
import { GrpcClientMtls } from './mtls.ts';
import { type GrpcClientOptions, grpcStack, retryableCodesFromOptions } from './options.ts';
import type { EndpointChannel } from './transport.ts';

export type GrpcDestination = Destination<GrpcCall, GrpcExchange, EndpointChannel>;

/** A gRPC destination and its mTLS (undefined when the client has neither `mtls` nor `config`). */
export interface GrpcDestinationParts {
  readonly destination: GrpcDestination;
  readonly mtls: GrpcClientMtls | undefined;
}

/**
 * The destination `name` of a client made by `createGrpcClient` or `weftClientOptions`. Its channels
 * follow the mTLS plan when the client has an identity (`mtls`) or a config service (whose
 * `PeerAuthentication` may make the destination `STRICT`), unless it brings its own `credentials`.
 */
export function createGrpcDestination(name: string, options: GrpcClientOptions): GrpcDestinationParts {
  const mtls =
    options.mtls !== undefined || (options.config !== undefined && options.credentials === undefined)
      ? new GrpcClientMtls(name, options.mtls, options.config)
      : undefined;
  let destination: GrpcDestination;
  try {
    destination = createDestination(
      grpcBinding(options, retryableCodesFromOptions(options), mtls),
      name,
      options,
      {
        kind: 'createGrpcClient',
        stack: grpcStack(),
        customize: options.stack,
        findResolver: lookupResolver,
        resolverHint: 'register one with registerWeftResolver',
      },
    );
  } catch (error) {
    mtls?.close();
    throw error;
  }
  return { destination, mtls };
}
