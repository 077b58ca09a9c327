// The packages as users install them: `npm pack` every workspace package, check what each tarball
// holds, install the tarballs into fresh projects outside the repository (their dependencies from
// the npm registry), and run an ESM, a CommonJS and a strict TypeScript smoke test against them, plus
// the `weft` bin. Run by CI (`npm run test:pack`); `--keep` leaves the temporary folder behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './pack-smoke/cli.mjs';
import { cjsSmoke, esmSmoke, TSCONFIG, tsSmoke } from './pack-smoke/smoke-files.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FOLDERS = ['core', 'discovery', 'http', 'grpc', 'control-plane', 'otel', 'cli'];
const started = Date.now();
const work = mkdtempSync(join(tmpdir(), 'weft-pack-'));
const keep = process.argv.includes('--keep');
let passed = 0;
let failed = 0;

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (r.status !== 0 && !options.allowFail)
    throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r;
}
// npm as the one that runs this script (npm_execpath), else the one on the PATH.
const npm = (args, cwd) =>
  process.env.npm_execpath
    ? run(process.execPath, [process.env.npm_execpath, ...args], { cwd })
    : run('npm', args, { cwd });

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (error) {
    failed++;
    console.log(`not ok - ${name}\n  ${String(error?.stack ?? error).replaceAll('\n', '\n  ')}`);
  }
}

/** Writes a project that installs `deps` (tarballs as file: specs) and returns its folder. */
function project(name, dependencies, overrides = {}) {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `weft-smoke-${name}`, private: true, dependencies, overrides }, null, 2),
  );
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], dir);
  return dir;
}

/** Installed package count and size of a project's node_modules. */
function footprint(dir) {
  const listed = npm(['ls', '--all', '--parseable'], dir).stdout.trim().split('\n').slice(1);
  const du = run('du', ['-sk', join(dir, 'node_modules')]).stdout.split(/\s/)[0];
  return { packages: listed.length, mb: Math.round((Number(du) / 1024) * 10) / 10 };
}

try {
  // 1. Pack (each package's prepack rebuilds it from a clean dist).
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  const packed = JSON.parse(
    npm(['pack', '--json', '--pack-destination', tarballs, ...FOLDERS.map((f) => `-w=packages/${f}`)], ROOT)
      .stdout,
  );
  const manifests = new Map(
    FOLDERS.map((f) => [f, JSON.parse(readFileSync(join(ROOT, 'packages', f, 'package.json'), 'utf8'))]),
  );
  const tgz = (folder) => {
    const m = manifests.get(folder);
    return `file:${join(tarballs, packed.find((p) => p.name === m.name).filename)}`;
  };

  for (const [folder, m] of manifests) {
    await check(`${m.name}: the tarball holds what the manifest promises, and no tests`, () => {
      const info = packed.find((p) => p.name === m.name);
      assert.ok(info, `${m.name} was not packed`);
      const files = new Set(info.files.map((f) => f.path));
      for (const f of ['LICENSE', 'README.md', 'package.json']) assert.ok(files.has(f), `${f} missing`);
      for (const target of exportTargets(m.exports))
        assert.ok(files.has(target.replace(/^\.\//, '')), `export target ${target} missing`);
      for (const bin of Object.values(m.bin ?? {})) assert.ok(files.has(bin), `bin ${bin} missing`);
      if (m.name === '@weft/control-plane')
        for (const f of ['dist/ui/index.html', 'dist/ui/app.js', 'dist/ui/app.css'])
          assert.ok(files.has(f), `the dashboard's ${f} missing`);
      const bad = [...files].filter((f) => /(^|\/)test\/|\.test\.|\.tsbuildinfo$|grpc\/testing\//.test(f));
      assert.deepEqual(bad, [], 'test files in the tarball');
      assert.match(m.engines?.node ?? '', /^>=\d+\.\d+\.\d+/, 'engines.node');
      assert.equal(m.license, 'Apache-2.0');
      assert.ok(
        readFileSync(join(ROOT, 'LICENSE'), 'utf8').includes('Apache License'),
        'the LICENSE is the Apache-2.0 text',
      );
      const readme = readFileSync(join(ROOT, 'packages', folder, 'README.md'), 'utf8');
      const relative = [...readme.matchAll(/\]\(([^)]+)\)/g)]
        .map((x) => x[1])
        .filter((u) => !/^(https?:|#)/.test(u));
      assert.deepEqual(relative, [], 'README links npm cannot follow');
    });
  }

  // 2. One project with every package, as an application that uses them all.
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const app = project('app', {
    ...Object.fromEntries(FOLDERS.map((f) => [manifests.get(f).name, tgz(f)])),
    '@grpc/grpc-js': manifests.get('grpc').peerDependencies['@grpc/grpc-js'],
    typescript: root.devDependencies.typescript,
    '@types/node': root.devDependencies['@types/node'],
  });

  await check('source maps of every installed package point at files that are installed', () => {
    for (const m of manifests.values()) {
      const dir = join(app, 'node_modules', m.name);
      for (const map of walk(join(dir, 'dist')).filter((f) => f.endsWith('.map'))) {
        const { sources, sourceRoot = '' } = JSON.parse(readFileSync(map, 'utf8'));
        for (const s of sources) {
          const path = resolve(dirname(map), sourceRoot, s);
          assert.ok(existsSync(path), `${map.slice(app.length)}: ${s} is not installed`);
        }
      }
    }
  });

  const entries = [...manifests.values()].flatMap((m) =>
    Object.keys(m.exports)
      .filter((k) => !k.includes('*') && k !== './package.json')
      .map((k) => m.name + k.slice(1)),
  );
  writeFileSync(join(app, 'smoke.mjs'), esmSmoke(entries));
  writeFileSync(join(app, 'smoke.cjs'), cjsSmoke(entries));
  writeFileSync(join(app, 'smoke.mts'), tsSmoke);
  writeFileSync(join(app, 'tsconfig.json'), TSCONFIG);
  await check(`ESM: import every entry (${entries.length}), HTTP and gRPC calls, a config service`, () => {
    run(process.execPath, ['smoke.mjs'], { cwd: app });
  });
  await check('CommonJS: require() every entry, an HTTP call to a real local server', () => {
    run(process.execPath, ['--disable-warning=ExperimentalWarning', 'smoke.cjs'], { cwd: app });
  });
  await check('TypeScript: a small program type-checks with strict: true against the installed types', () => {
    const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = run(process.execPath, [tsc, '-p', '.'], { cwd: app, allowFail: true });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
  await runCli(check, { app, work, run, version: manifests.get('cli').version });

  // 3. The light CLI: `weft apply` in CI installs @weft/cli alone.
  const light = project('cli-only', { '@weft/cli': tgz('cli') }, { '@weft/core': tgz('core') });
  const lightSize = footprint(light);
  await check(
    `@weft/cli alone: ${lightSize.packages} packages, ${lightSize.mb} MB, no server dependencies`,
    () => {
      for (const heavy of ['fastify', 'etcd3', '@grpc/grpc-js', '@weft/control-plane'])
        assert.ok(!existsSync(join(light, 'node_modules', heavy)), `${heavy} installed`);
      const bin = join(light, 'node_modules', '.bin', 'weft');
      const r = run(process.execPath, [bin, 'control-plane', '--port', '0'], { cwd: light, allowFail: true });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /separate package @weft\/control-plane: install it/);
    },
  );

  // 4. The server alone brings the `weft` command (through its @weft/cli dependency).
  const server = project(
    'server-only',
    { '@weft/control-plane': tgz('control-plane') },
    { '@weft/core': tgz('core'), '@weft/cli': tgz('cli') },
  );
  const serverSize = footprint(server);
  await check(
    `@weft/control-plane alone: ${serverSize.packages} packages, ${serverSize.mb} MB, with the weft bin`,
    () => {
      const r = run(process.execPath, [join(server, 'node_modules', '.bin', 'weft'), '--version'], {
        cwd: server,
      });
      assert.equal(r.stdout.trim(), manifests.get('cli').version);
    },
  );
} catch (error) {
  failed++;
  console.log(`not ok - packing and installing\n  ${String(error?.stack ?? error).replaceAll('\n', '\n  ')}`);
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
console.log(`pack smoke test: ${Math.round((Date.now() - started) / 1000)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

/** Every file an `exports` map points at (conditions flattened, wildcard patterns left out). */
function exportTargets(exports) {
  if (typeof exports === 'string') return exports.includes('*') ? [] : [exports];
  return Object.values(exports ?? {}).flatMap(exportTargets);
}

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}
