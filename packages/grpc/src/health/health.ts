/**
 * The standard gRPC health service (`grpc.health.v1.Health`): Check answers the current status of
 * a service (NOT_FOUND for an unknown one), Watch sends it at once and again on every change
 * (SERVICE_UNKNOWN for an unknown one, which may appear later). The empty name is the server as a
 * whole. Bound to a drain state, every service turns NOT_SERVING when draining starts, so load
 * balancers and Weft's active health checks take the instance out before it stops.
 */
import {
  type GrpcObject,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceClientConstructor,
  type ServiceDefinition,
  status as Status,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { invalidOption } from '@weft/core';
import { loadProto } from '../proto.ts';

export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

const STATUSES = new Set<ServingStatus>(['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN']);

interface HealthCheckRequest {
  service: string;
}

let loaded: ServiceClientConstructor | undefined;

/** The generated client constructor of `grpc.health.v1.Health` (also usable to check other servers). */
export function healthClientConstructor(): ServiceClientConstructor {
  loaded ??= (loadProto('grpc/health/v1/health.proto') as { grpc: { health: { v1: GrpcObject } } }).grpc
    .health.v1.Health as ServiceClientConstructor;
  return loaded;
}

/** The service definition to give `server.addService`. */
export function healthServiceDefinition(): ServiceDefinition {
  return healthClientConstructor().service;
}

export interface HealthService {
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
  /** Sets the status of `service` ('' for the whole server) and notifies watchers. */
  setStatus(service: string, status: ServingStatus): void;
  /** The current status of `service`, or undefined when unknown. */
  status(service: string): ServingStatus | undefined;
  /** Sets every known service NOT_SERVING, now and for services set later (draining). */
  shutdown(): void;
  /** Ends every Watch stream (the server is stopping: open streams would hold its shutdown). */
  closeWatches(): void;
}

export function healthService(initial: Record<string, ServingStatus> = { '': 'SERVING' }): HealthService {
  const statuses = new Map<string, ServingStatus>();
  const watchers = new Map<string, Set<ServerWritableStream<HealthCheckRequest, unknown>>>();
  let down = false;

  const notify = (service: string, status: ServingStatus) => {
    for (const w of watchers.get(service) ?? []) w.write({ status });
  };

  const setStatus = (service: string, status: ServingStatus) => {
    if (typeof service !== 'string') throw invalidOption('service', 'must be a string');
    if (!STATUSES.has(status))
      throw invalidOption('status', `must be one of ${[...STATUSES].join(', ')}; got ${String(status)}`);
    const effective = down ? 'NOT_SERVING' : status;
    if (statuses.get(service) === effective) return;
    statuses.set(service, effective);
    notify(service, effective);
  };

  for (const [service, status] of Object.entries(initial)) setStatus(service, status);

  const implementation: UntypedServiceImplementation = {
    Check(call: ServerUnaryCall<HealthCheckRequest, unknown>, callback: sendUnaryData<unknown>) {
      const status = statuses.get(call.request.service);
      if (status === undefined)
        callback({ code: Status.NOT_FOUND, details: `unknown service ${call.request.service}` });
      else callback(null, { status });
    },
    Watch(call: ServerWritableStream<HealthCheckRequest, unknown>) {
      const service = call.request.service;
      let set = watchers.get(service);
      if (!set) {
        set = new Set();
        watchers.set(service, set);
      }
      set.add(call);
      call.write({ status: statuses.get(service) ?? 'SERVICE_UNKNOWN' });
      const remove = () => {
        set.delete(call);
        if (set.size === 0 && watchers.get(service) === set) watchers.delete(service);
      };
      call.on('cancelled', remove);
      call.on('close', remove);
      call.on('error', remove);
    },
  };

  return {
    definition: healthServiceDefinition(),
    implementation,
    setStatus,
    status: (service) => statuses.get(service),
    closeWatches() {
      for (const set of watchers.values()) for (const w of set) w.end();
      watchers.clear();
    },
    shutdown() {
      if (down) return;
      down = true;
      for (const service of statuses.keys()) setStatus(service, 'NOT_SERVING');
    },
  };
}
