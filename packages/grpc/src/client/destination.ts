/**
 * The gRPC destination: core's `Destination` with one grpc-js Channel per endpoint, the gRPC
 * transport and classifier. A removed endpoint's channel closes once its calls end (grpc-js lets
 * them finish).
 */
import type { Channel, status as Status } from '@grpc/grpc-js';
import {
  type Clock,
  Destination,
  type PolicySource,
  type Random,
  type Resolver,
  type Stack,
  systemClock,
} from '@weft/core';
import type { DestinationPolicy } from '@weft/core/config';
import type { GrpcCall } from './call.ts';
import { grpcClassifier } from './classifier.ts';
import type { GrpcExchange } from './exchange.ts';
import { createChannel, grpcProtocol, sender, type TransportOptions } from './transport.ts';

export type GrpcDestination = Destination<GrpcCall, GrpcExchange, Channel>;

export interface GrpcDestinationOptions {
  name: string;
  resolver: Resolver;
  /** The policy set in code (validated). */
  policy: DestinationPolicy;
  stack: Stack<GrpcCall, GrpcExchange>;
  transport: TransportOptions;
  retryableCodes: readonly Status[];
  config?: PolicySource;
  /** The caller's zone for zone-aware balancing. */
  localZone?: string;
  /** What made it, for `describe()`. Defaults to `createGrpcClient`. */
  kind?: string;
  clock?: Clock;
  random?: Random;
}

export function createGrpcDestination(options: GrpcDestinationOptions): GrpcDestination {
  const clock = options.clock ?? systemClock;
  const classify = grpcClassifier(options.retryableCodes);
  return new Destination<GrpcCall, GrpcExchange, Channel>({
    ...options,
    kind: options.kind ?? 'createGrpcClient',
    clock,
    terminal: sender(() => clock.now()),
    protocol: grpcProtocol,
    classifier: () => classify,
    connect: (endpoint) => createChannel(endpoint, options.transport),
    disconnect: (channel) => channel.close(),
  });
}
