/**
 * `inventory`: a gRPC service (grpc-js) behind Weft's server interceptor, with the standard health
 * service, registered in the config service. The demo runs two and kills one during the tour.
 */
import { fileURLToPath } from 'node:url';
import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { registerInstance } from '@weft/discovery';
import { createGrpcServer } from '@weft/grpc';
import { startTelemetry } from '../telemetry.ts';
import { childEnv, delay, onParentMessage, send, stopWith } from './child.ts';
import { loadInventory } from './inventory-proto.ts';

const env = childEnv();
const telemetry = await startTelemetry('inventory', env.instance);

let extraMs = 0;
onParentMessage((m) => {
  if (m.type === 'slow') extraMs = m.ms;
});

const { Inventory } = loadInventory(fileURLToPath(new URL('../proto/inventory.proto', import.meta.url)));
const implementation: UntypedServiceImplementation = {
  getStock(
    call: { request: { sku?: string } },
    callback: (error: Error | null, reply?: { sku: string; count: number; servedBy: string }) => void,
  ) {
    const sku = call.request.sku ?? '';
    delay(0.5 + Math.random() + extraMs).then(() => {
      let hash = 0;
      for (const c of sku) hash = (hash * 31 + c.charCodeAt(0)) % 1000;
      callback(null, { sku, count: hash % 120, servedBy: env.instance });
    });
  },
};

const server = createGrpcServer({ concurrency: 200, drainTimeoutMs: 2000 });
server.addService(Inventory.service as ServiceDefinition, implementation);
const port = await server.listen('127.0.0.1:0');

const registration = registerInstance({ service: 'inventory', address: '127.0.0.1', port, ttlMs: env.ttlMs });

stopWith(async () => {
  await registration.close();
  await server.drain();
  await telemetry.shutdown();
});

send({
  type: 'ready',
  service: 'inventory',
  instance: env.instance,
  port,
  metricsPort: telemetry.metricsPort,
  pid: process.pid,
  notes: ['gRPC shop.inventory.v1.Inventory, grpc.health.v1'],
});
