/** Loads the demo's inventory.proto as grpc-js objects (a generated client constructor and its service). */
import { type GrpcObject, loadPackageDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

export interface InventoryProto {
  /** The generated client constructor; `.service` is the service definition for servers. */
  Inventory: ServiceClientConstructor;
}

export function loadInventory(file: string): InventoryProto {
  const definition = loadSync(file, { keepCase: false, longs: Number, enums: String, defaults: true });
  const root = loadPackageDefinition(definition);
  const pkg = ((root.shop as GrpcObject).inventory as GrpcObject).v1 as GrpcObject;
  return { Inventory: pkg.Inventory as ServiceClientConstructor };
}
