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
// Browser tests (`*.browser.test.ts`: headless Chromium over a whole mesh) run after the others and
// one at a time: beside another whole-system test (the demo's) on two cores they would starve it.
const browser = selected.filter((f) => f.endsWith('.browser.test.ts'));
const rest = selected.filter((f) => !f.endsWith('.browser.test.ts'));
const run = (list, concurrency) =>
  list.length === 0
    ? 0
    : (spawnSync(
        process.execPath,
        [
          '--conditions=weft-source',
          '--disable-warning=ExperimentalWarning',
          '--test',
          `--test-concurrency=${concurrency}`,
          '--test-timeout=120000',
          ...list,
        ],
        { stdio: 'inherit' },
      ).status ?? 1);
const status = run(rest, 2);
const browserStatus = run(browser, 1);
process.exit(status || browserStatus);
