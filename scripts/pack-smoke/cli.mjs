// The `weft` bin as installed from the tarballs: --version, the refusal of too old a Node.js, and
// a real config service started by `weft control-plane` that `weft apply` and `weft get` then steer.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const OLD_NODE = 'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"22.11.0"})';

export async function runCli(check, { app, work, run, version }) {
  const bin = join(app, 'node_modules', '.bin', 'weft');
  const weft = (args, env = {}) =>
    run(process.execPath, [bin, ...args], { cwd: app, env: { ...process.env, ...env }, allowFail: true });

  await check('weft --version prints the version of @weft/cli', () => {
    const r = weft(['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), version);
  });

  await check('the weft bin on too old a Node.js names the version needed and the one found', () => {
    const r = run(process.execPath, ['--import', OLD_NODE, bin, '--version'], { cwd: app, allowFail: true });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /^weft: @weft\/cli needs Node\.js >=22\.12\.0 \(.*\); this is Node\.js 22\.11\.0\./,
    );
  });

  await check('weft control-plane serves; weft apply and weft get steer it', async () => {
    const server = spawn(
      process.execPath,
      [bin, 'control-plane', '--port', '0', '--data', join(work, 'data')],
      {
        cwd: app,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise((resolve) => server.once('exit', resolve));
    try {
      let token = '';
      let stderr = '';
      server.stderr.on('data', (d) => {
        stderr += d;
      });
      const url = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line: ${stderr}`)), 20_000);
        server.once('exit', (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
        createInterface({ input: server.stdout }).on('line', (line) => {
          const msg = JSON.parse(line);
          if (msg.event === 'admin-token') token = msg.token;
          if (msg.event === 'listening') {
            clearTimeout(timer);
            resolve(msg.url);
          }
        });
      });
      const env = { WEFT_CONTROL_PLANE: url, WEFT_TOKEN: token };
      const file = join(work, 'catalog.yaml');
      writeFileSync(file, 'kind: DestinationPolicy\nname: catalog\nspec:\n  timeoutMs: 800\n');
      const applied = weft(['apply', '-f', file], env);
      assert.equal(applied.status, 0, applied.stderr);
      const got = weft(['get', 'policy', 'catalog', '-o', 'json'], env);
      assert.equal(got.status, 0, got.stderr);
      assert.equal(JSON.parse(got.stdout).spec.timeoutMs, 800);
    } finally {
      server.kill('SIGTERM');
      await exited;
    }
  });
}
