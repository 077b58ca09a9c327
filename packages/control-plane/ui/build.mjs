// Bundles the dashboard (ui/src, TypeScript and CSS, uPlot included) into dist/ui with esbuild:
// one script, one stylesheet and the page, served by the config service at /ui with no network
// access. Run by `npm run build` and by the package's prepack; `--if-stale` skips the work when
// the bundle is newer than every source (the test runner uses it).
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const out = join(here, '../dist/ui');

function newest(dir) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}

export async function buildUi({ ifStale = false } = {}) {
  const bundle = join(out, 'app.js');
  if (ifStale && existsSync(bundle)) {
    const sources = Math.max(newest(join(here, 'src')), statSync(join(here, 'index.html')).mtimeMs);
    if (statSync(bundle).mtimeMs >= sources) return;
  }
  const { build } = await import('esbuild');
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: { app: join(here, 'src/main.ts') },
    outdir: out,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    legalComments: 'eof',
    logLevel: 'warning',
  });
  cpSync(join(here, 'index.html'), join(out, 'index.html'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1])
  await buildUi({ ifStale: process.argv.includes('--if-stale') });
