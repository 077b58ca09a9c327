/**
 * The gRPC service of the bench: one unary method, `/weft.bench.Bench/Ping`, whose messages are raw
 * bytes (the serializers pass the Buffer through). No proto and no protobuf encoding: what is
 * measured is the call path — grpc-js's and Weft's — not message encoding, which a real service pays
 * the same with or without a mesh. Shared by the backend process and the clients.
 */
import {
  type Client,
  type ClientUnaryCall,
  makeGenericClientConstructor,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';

const bytes = (value: Buffer): Buffer => value;

export const BENCH_SERVICE = {
  ping: {
    path: '/weft.bench.Bench/Ping',
    originalName: 'Ping',
    requestStream: false,
    responseStream: false,
    requestSerialize: bytes,
    requestDeserialize: bytes,
    responseSerialize: bytes,
    responseDeserialize: bytes,
  },
} satisfies ServiceDefinition;

/** The request every call sends and the response every call gets: 16 bytes each. */
export const PING_REQUEST = Buffer.from('weft-bench-ping!');
export const PING_RESPONSE = Buffer.from('weft-bench-pong!');

/** A client of the bench service, as a generated constructor would type it. */
export interface PingClient extends Client {
  ping(request: Buffer, callback: (error: ServiceError | null, response?: Buffer) => void): ClientUnaryCall;
}

/** The client constructor, generated-style (`new PingClientCtor(address, credentials)`). */
export const PingClientCtor = makeGenericClientConstructor(BENCH_SERVICE, 'weft.bench.Bench') as unknown as {
  new (...args: ConstructorParameters<ReturnType<typeof makeGenericClientConstructor>>): PingClient;
  readonly service: ServiceDefinition;
};
