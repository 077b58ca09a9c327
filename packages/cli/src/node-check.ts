/**
 * Imported first by the entry of `@weft/cli` (and so by the `weft` bin): refuses a Node.js outside
 * the package's `engines.node` with a message naming the version needed and the one found. Keep
 * `CLI_NODE_ENGINES` equal to that field (a test compares them).
 */
import { assertNodeVersion } from '@weft/core/node-version';

/** `engines.node` of `@weft/cli`. */
export const CLI_NODE_ENGINES = '>=22.12.0';

assertNodeVersion('@weft/cli', CLI_NODE_ENGINES, 'its dependency @weft/core');
