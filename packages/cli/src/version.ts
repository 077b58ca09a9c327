/** The version of `@weft/cli` that `weft --version` prints, read from the package's own manifest. */
import { createRequire } from 'node:module';

export const CLI_VERSION: string = (
  createRequire(import.meta.url)('@weft/cli/package.json') as { version: string }
).version;
