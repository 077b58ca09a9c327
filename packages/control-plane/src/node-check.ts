/**
 * Imported first by every entry of `@weft/control-plane`: refuses a Node.js outside the package's
 * `engines.node` with a message naming the version needed and the one found. Keep `CONTROL_PLANE_NODE_ENGINES`
 * equal to that field (a test compares them).
 */
import { assertNodeVersion } from '@weft/core/node-version';

/** `engines.node` of `@weft/control-plane`. */
export const CONTROL_PLANE_NODE_ENGINES = '>=22.13.0 <23 || >=23.4.0';

assertNodeVersion('@weft/control-plane', CONTROL_PLANE_NODE_ENGINES, 'node:sqlite without a flag');
