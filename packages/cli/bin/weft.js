#!/usr/bin/env node
// Launcher of the `weft` CLI: runs the compiled sources (dist). In this repository, build them first
// with `npm run build` at the root; during development, run the TypeScript directly with
// `node --conditions=weft-source packages/cli/src/main.ts`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('weft: the CLI is not built yet: run `npm run build` at the repository root first\n');
  process.exit(1);
}
let main;
try {
  ({ main } = await import(entry.href));
} catch (error) {
  // Too old a Node.js: the entry's version check says which one is needed, without a stack trace.
  if (error?.code !== 'WEFT_UNSUPPORTED_RUNTIME') throw error;
  process.stderr.write(`weft: ${error.message}\n`);
  process.exit(1);
}
const code = await main(process.argv.slice(2));
if (code !== 0) process.exit(code);
