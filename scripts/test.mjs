// Runs every test file of the workspace with Node's own test runner, on the TypeScript sources.
// Packages resolve each other through the `weft-source` export condition, so no build is needed
// for the tests themselves (`npm test` still builds first, to type-check); only the dashboard's
// browser bundle is built here when it is missing or stale.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildUi } from '../packages/control-plane/ui/build.mjs';
import { ensureTestDependencies } from './test-deps.mjs';

const roots = ['packages', 'examples'];
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.ts')) files.push(path);
  }
}
for (const root of roots) walk(root);
const filter = process.argv.slice(2);
const selected = filter.length ? files.filter((f) => filter.some((x) => f.includes(x))) : files;
ensureTestDependencies();
// The dashboard's bundle is served from dist/ui: built here when a source is newer than it.
await buildUi({ ifStale: true });
const result = spawnSync(
  process.execPath,
  [
    '--conditions=weft-source',
    '--disable-warning=ExperimentalWarning',
    '--test',
    '--test-concurrency=2',
    '--test-timeout=120000',
    ...selected,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
