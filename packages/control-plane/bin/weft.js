#!/usr/bin/env node
// Launcher of the `weft` CLI: runs the compiled sources (dist). Build them first with
// `npm run build` at the repository root; during development, run the TypeScript directly with
// `node --conditions=weft-source packages/control-plane/src/cli/main.ts`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('weft: the CLI is not built yet: run `npm run build` at the repository root first\n');
  process.exit(1);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2));
if (code !== 0) process.exit(code);
