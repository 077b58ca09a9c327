/**
 * Imported first by every entry of `@weft/core`: refuses a Node.js older than the package's
 * `engines.node` with a message naming both versions. Keep `CORE_NODE_ENGINES` equal to that field
 * (a test compares them).
 */
import { assertNodeVersion } from './node-version.ts';

/** `engines.node` of `@weft/core`: CommonJS callers load it through `require()` of ES modules. */
export const CORE_NODE_ENGINES = '>=22.12.0';

assertNodeVersion('@weft/core', CORE_NODE_ENGINES, 'require() of ES modules without a flag');
