/**
 * The config service over HTTPS (`--tls-cert/--tls-key`): the API, the CLI and the watch stream of a
 * config client in another process, which trusts the service's CA as Node does for any `fetch`
 * (`NODE_EXTRA_CA_CERTS`); a client that does not trust it is refused at the handshake.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MAIN, NODE_ARGS, type ServiceProcess, startService, tempDir, testCa } from '../src/testing.ts';

const dir = tempDir();
let cp: ServiceProcess;
let caFile: string;

before(async () => {
  const ca = await testCa('Config Service Test CA');
  const leaf = await ca.leaf(undefined, 'config-service');
  caFile = join(dir.path, 'ca.pem');
  writeFileSync(caFile, ca.ca);
  writeFileSync(join(dir.path, 'tls.pem'), leaf.cert);
  writeFileSync(join(dir.path, 'tls.key'), leaf.key, { mode: 0o600 });
  cp = await startService({
    args: ['--tls-cert', join(dir.path, 'tls.pem'), '--tls-key', join(dir.path, 'tls.key')],
  });
});
after(async () => {
  await cp.stop();
  dir.remove();
});

/** Runs `node <args>` with `env`; resolves with its exit code and output. */
function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.once('exit', (code) => resolve({ code, out }));
  });
}

test('the service listens on HTTPS and says so', async () => {
  assert.match(cp.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  // This process does not trust the test CA: the handshake fails, nothing is served in plaintext.
  await assert.rejects(fetch(`${cp.url}/healthz`), (e: Error & { cause?: { code?: string } }) =>
    /SELF_SIGNED|UNABLE_TO_VERIFY|unable to (get|verify)/i.test(`${e.cause?.code ?? ''} ${e.cause ?? ''}`),
  );
});

test('a CLI and a config client that trust its CA work over HTTPS; one that does not is refused', async () => {
  const env = { WEFT_CONTROL_PLANE: cp.url, WEFT_TOKEN: cp.token, NODE_EXTRA_CA_CERTS: caFile };
  const applied = await run([...NODE_ARGS, MAIN, 'traffic', 'status'], env);
  assert.equal(applied.code, 0, applied.out);
  const refused = await run([...NODE_ARGS, MAIN, 'traffic', 'status'], { ...env, NODE_EXTRA_CA_CERTS: '' });
  assert.notEqual(refused.code, 0);
  // The watch stream: a config client in another process loads its first snapshot.
  const script = `
    import { createConfigClient } from '@weft/core/config';
    const c = createConfigClient({ urls: process.env.WEFT_CONTROL_PLANE, token: process.env.WEFT_TOKEN, startTimeoutMs: 10000 });
    await c.ready();
    console.log('revision', c.revision, c.status.state);
    await c.close();`;
  const watched = await run([...NODE_ARGS, '--input-type=module', '-e', script], env);
  assert.equal(watched.code, 0, watched.out);
  assert.match(watched.out, /revision \d+ connected/);
});
