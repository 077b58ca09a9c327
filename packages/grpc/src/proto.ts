/**
 * The .proto files shipped with the package (grpc.health.v1), loaded with proto-loader. The interop
 * suite's grpc.testing protos that the conformance tests use live in `test/proto/` and are not shipped.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type GrpcObject, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';

/** The package's proto folder, from the sources (`src/`) or the build (`dist/src/`). */
export function protoDir(): string {
  for (const rel of ['../proto', '../../proto']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}/grpc/health/v1/health.proto`)) return dir;
  }
  throw new Error('the @weft/grpc proto folder is missing from the installed package');
}

export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** Loads a proto file of the package (`grpc/health/v1/health.proto`) as grpc-js objects. */
export function loadProto(file: string): GrpcObject {
  return loadPackageDefinition(loadSync(file, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoDir()] }));
}
