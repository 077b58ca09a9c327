/**
 * Imported first by every entry of `@weft/http`: refuses a Node.js outside the package's
 * `engines.node` with a message naming the version needed and the one found. Keep `HTTP_NODE_ENGINES`
 * equal to that field (a test compares them).
 */
import { assertNodeVersion } from '@weft/core/node-version';

/** `engines.node` of `@weft/http`. */
export const HTTP_NODE_ENGINES = '>=22.19.0';

assertNodeVersion('@weft/http', HTTP_NODE_ENGINES, 'undici 8');
