/**
 * `createGrpcServer(options)`: a grpc-js Server with Weft's server interceptor (context, deadline,
 * admission, telemetry), the `grpc.health.v1` health service, and graceful drain:
 *
 * ```ts
 * const weft = createGrpcServer({ concurrency: 200 }); // drains on SIGTERM by default
 * weft.addService(UsersService, handlers);      // health: 'users.Users' SERVING
 * const port = await weft.listen('0.0.0.0:50051');
 * await weft.drain();                           // NOT_SERVING, refuse new calls, finish, shut down
 * ```
 *
 * For a Server you build yourself, `grpcServerRuntime(options).interceptor` is the same interceptor.
 */
import {
  Server,
  ServerCredentials,
  type ServerOptions,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { checkKnownKeys, type DrainResult, invalidOption, MTLS_LABEL, type ServingState } from '@weft/core';
import { checkServerRegistration, registerListener, type ServerRegistrationOptions } from '@weft/discovery';
import { type HealthService, healthService } from '../health/health.ts';
import { GrpcMtlsListener, parseBindAddress } from './mtls-listener.ts';
import { GRPC_SERVER_KEYS, type GrpcServerOptions } from './options.ts';
import { GrpcServerRuntime } from './runtime.ts';

export interface CreateGrpcServerOptions extends GrpcServerOptions {
  /** grpc-js server options; Weft's interceptor is added after any of yours. Defaults to none. */
  server?: ServerOptions;
  /** Serve `grpc.health.v1.Health`. Defaults to true. */
  health?: boolean;
  /**
   * Registers the server in the config service's registry once `listen` has bound (port and address
   * from the bound address; see `ServerRegistrationOptions` in @weft/discovery), and deregisters it
   * as soon as a drain starts, before the server shuts down. Defaults to none.
   */
  register?: ServerRegistrationOptions;
}

export interface WeftGrpcServer {
  readonly server: Server;
  readonly runtime: GrpcServerRuntime;
  /** The health service (undefined when `health: false`). */
  readonly health: HealthService | undefined;
  readonly state: ServingState;
  /** Adds a service; its health status (by full service name) becomes SERVING. */
  addService(service: ServiceDefinition, implementation: UntypedServiceImplementation): void;
  /**
   * Binds `address` (`host:port`, port 0 for any) and resolves with the port. Without `credentials`:
   * with the `mtls` option, mTLS and plaintext on that one port (plaintext refused in `STRICT`
   * mode); else plaintext. With `credentials`, grpc-js binds the port with them. Defaults to no
   * credentials.
   */
  listen(address: string, credentials?: ServerCredentials): Promise<number>;
  /** NOT_SERVING, refuse new calls (retryable), let in-flight calls finish, then shut down. */
  drain(): Promise<DrainResult>;
}

/** The host part of a `host:port` (or `[v6]:port`) bind address. */
function boundHost(address: string): string {
  const host = address.slice(0, address.lastIndexOf(':'));
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

/** The full service name (`pkg.Service`) of a definition: its first method's path. */
function serviceName(definition: ServiceDefinition): string | undefined {
  const first = Object.values(definition)[0];
  if (!first) return undefined;
  return first.path.slice(1, first.path.lastIndexOf('/'));
}

export function createGrpcServer(options: CreateGrpcServerOptions = {}): WeftGrpcServer {
  checkKnownKeys('createGrpcServer', options, {
    ...GRPC_SERVER_KEYS,
    server: true,
    health: true,
    register: true,
  });
  const { server: own = {}, health: withHealth, register, ...runtimeOptions } = options;
  if (register !== undefined) checkServerRegistration(register);
  // The registration names the service, unless `service` does (the kill switch's per-service scope).
  const service = runtimeOptions.service ?? register?.service;
  const runtime = new GrpcServerRuntime(
    service === undefined ? runtimeOptions : { ...runtimeOptions, service },
  );
  const server = new Server({ ...own, interceptors: [...(own.interceptors ?? []), runtime.interceptor] });
  const health = withHealth === false ? undefined : healthService();
  if (health) {
    server.addService(health.definition, health.implementation);
    runtime.drainState.onChange((state) => {
      if (state !== 'serving') health.shutdown();
    });
  }
  const fronts: GrpcMtlsListener[] = [];
  // The mTLS ports are Weft's own listeners: shutting the grpc-js server down, directly too, closes them.
  const { tryShutdown, forceShutdown } = server;
  server.tryShutdown = (callback) => {
    for (const front of fronts) front.close(false);
    tryShutdown.call(server, callback);
  };
  server.forceShutdown = () => {
    for (const front of fronts) front.close(true);
    forceShutdown.call(server);
  };
  runtime.onClose(
    (force) =>
      new Promise<void>((resolve) => {
        health?.closeWatches();
        if (force) {
          server.forceShutdown();
          resolve();
          return;
        }
        // Connections close once their last stream ends; a peer that never ends one is cut off.
        const cutoff = setTimeout(() => server.forceShutdown(), runtime.options.drainTimeoutMs);
        cutoff.unref();
        server.tryShutdown(() => {
          clearTimeout(cutoff);
          resolve();
        });
      }),
  );
  return {
    server,
    runtime,
    health,
    get state() {
      return runtime.drainState.state;
    },
    addService(service, implementation) {
      server.addService(service, implementation);
      const name = serviceName(service);
      if (health && name) health.setStatus(name, 'SERVING');
    },
    listen(address, credentials) {
      if (typeof address !== 'string' || address.length === 0)
        throw invalidOption('address', 'must be host:port, such as 0.0.0.0:50051');
      const mtls = runtime.options.mtls;
      const bound = (port: number, labels: Record<string, string> | undefined) => {
        runtime.listenForSignals();
        if (register && runtime.drainState.state === 'serving') {
          const options = labels ? { ...register, labels: { ...register.labels, ...labels } } : register;
          runtime.announce(registerListener({ address: boundHost(address), port }, options));
        }
        return port;
      };
      if (mtls !== undefined && credentials === undefined) {
        const at = parseBindAddress(address);
        if (at === undefined)
          throw invalidOption('address', 'must be host:port (or [v6]:port) with the mtls option');
        const front = new GrpcMtlsListener(server, mtls, runtime.options.service, runtime.options.config);
        return front.listen(at.host, at.port).then((port) => {
          fronts.push(front);
          runtime.mtlsFronts.push(front.front);
          // A server serving mTLS says so, so that clients in PERMISSIVE mode use mTLS with it.
          return bound(port, { [MTLS_LABEL]: 'true' });
        });
      }
      return new Promise((resolve, reject) =>
        server.bindAsync(address, credentials ?? ServerCredentials.createInsecure(), (error, port) => {
          if (error) reject(error);
          else resolve(bound(port, undefined));
        }),
      );
    },
    drain: () => runtime.drain(),
  };
}
