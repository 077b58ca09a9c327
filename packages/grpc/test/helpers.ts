/** Test helpers: real grpc-js servers on 127.0.0.1 with OS-chosen ports, and the interop protos. */
import { fileURLToPath } from 'node:url';
import {
  type ChannelCredentials,
  type Client,
  type ClientDuplexStream,
  type ClientOptions,
  type ClientReadableStream,
  type ClientUnaryCall,
  type ClientWritableStream,
  type GrpcObject,
  loadPackageDefinition,
  Server,
  ServerCredentials,
  type ServerOptions,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS } from '../src/proto.ts';

/** The interop suite's protos (`grpc/testing/*.proto`): test-only, so not shipped in the package. */
export const TEST_PROTO_DIR = fileURLToPath(new URL('./proto', import.meta.url));

/** Loads one of the test protos as grpc-js objects, with the options the package uses. */
export function loadTestProto(file: string): GrpcObject {
  return loadPackageDefinition(loadSync(file, { ...PROTO_LOADER_OPTIONS, includeDirs: [TEST_PROTO_DIR] }));
}

const testing = loadTestProto('grpc/testing/test.proto') as { grpc: { testing: GrpcObject } };

export interface PayloadMsg {
  payload: { body: Buffer };
}

/** The generated TestService client, typed for the calls the tests make. */
export interface TestClient extends Client {
  emptyCall(...args: unknown[]): ClientUnaryCall;
  unaryCall(...args: unknown[]): ClientUnaryCall;
  unimplementedCall(...args: unknown[]): ClientUnaryCall;
  streamingOutputCall(request: object, ...args: unknown[]): ClientReadableStream<PayloadMsg>;
  streamingInputCall(...args: unknown[]): ClientWritableStream<object>;
  fullDuplexCall(...args: unknown[]): ClientDuplexStream<object, PayloadMsg>;
}
/** The generated TestService client constructor. */
export const TestServiceClient = testing.grpc.testing.TestService as unknown as {
  new (address: string, credentials: ChannelCredentials, options?: ClientOptions): TestClient;
  service: ServiceDefinition;
};

export const testServiceDefinition: ServiceDefinition = TestServiceClient.service;

export interface TestServer {
  readonly server: Server;
  readonly port: number;
  readonly endpoint: string;
  close(): Promise<void>;
}

/** Starts a grpc-js server on 127.0.0.1:0 after `setup` adds its services. */
export async function startGrpcServer(
  setup: (server: Server) => void,
  options: ServerOptions = {},
): Promise<TestServer> {
  const server = new Server(options);
  setup(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    server,
    port,
    endpoint: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => server.forceShutdown(), 2000).unref();
      }),
  };
}

/** A port that nothing listens on (bound once by the OS, then released). */
export async function closedPort(): Promise<number> {
  const s = await startGrpcServer(() => {});
  s.server.forceShutdown();
  return s.port;
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Promisifies a unary call on a generated client. */
export function unary<T>(client: object, method: string, request: object, ...rest: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    (client as Record<string, (...a: unknown[]) => unknown>)[method]!(
      request,
      ...rest,
      (err: Error | null, res: T) => (err ? reject(err) : resolve(res)),
    );
  });
}
