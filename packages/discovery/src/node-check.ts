/**
 * Imported first by every entry of `@weft/discovery`: refuses a Node.js outside the package's
 * `engines.node` with a message naming the version needed and the one found. Keep `DISCOVERY_NODE_ENGINES`
 * equal to that field (a test compares them).
 */
import { assertNodeVersion } from '@weft/core/node-version';

/** `engines.node` of `@weft/discovery`. */
export const DISCOVERY_NODE_ENGINES = '>=22.12.0';

assertNodeVersion('@weft/discovery', DISCOVERY_NODE_ENGINES, 'require() of ES modules without a flag');
