/**
 * Imported first by every entry of `@weft/grpc`: refuses a Node.js outside the package's
 * `engines.node` with a message naming the version needed and the one found. Keep `GRPC_NODE_ENGINES`
 * equal to that field (a test compares them).
 */
import { assertNodeVersion } from '@weft/core/node-version';

/** `engines.node` of `@weft/grpc`. */
export const GRPC_NODE_ENGINES = '>=22.12.0';

assertNodeVersion('@weft/grpc', GRPC_NODE_ENGINES, 'require() of ES modules without a flag');
