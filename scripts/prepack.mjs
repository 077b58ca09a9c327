// Runs before `npm pack` / `npm publish` of a workspace package (its `prepack` script, run in the
// package's folder): rebuilds the package from a clean `dist`, so the tarball never ships stale or
// missing output, and copies the repository's LICENSE next to its package.json, where npm picks it up.
import { spawnSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const dir = process.cwd();
rmSync(join(dir, 'dist'), { recursive: true, force: true });
const tsc = createRequire(join(dir, 'package.json')).resolve('typescript/bin/tsc');
const built = spawnSync(process.execPath, [tsc, '-b'], { cwd: dir, stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);
copyFileSync(new URL('../LICENSE', import.meta.url), join(dir, 'LICENSE'));
