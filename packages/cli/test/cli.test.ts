import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ServiceProcess, startService, tempDir } from '@weft/control-plane/testing';
import { api } from '../src/api.ts';
import { main } from '../src/main.ts';
import { CLI_VERSION } from '../src/version.ts';

/** The CLI as a person runs it: the launcher in bin/ would run the build, so run the sources. */
const MAIN = new URL('../src/main.ts', import.meta.url).pathname;
const NODE_ARGS = ['--conditions=weft-source', '--disable-warning=ExperimentalWarning'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function weft(
  args: string[],
  env: Record<string, string>,
  input?: string,
  nodeArgs = NODE_ARGS,
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...nodeArgs, MAIN, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** Runs the CLI in this process (fast); `weft()` runs it as a child process like a user would. */
async function inProcess(args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    out: (t) => {
      stdout += t;
    },
    err: (t) => {
      stderr += t;
    },
  });
  return { code, stdout, stderr };
}

describe('weft CLI against a real config service', () => {
  const dir = tempDir();
  let svc: ServiceProcess;
  let env: Record<string, string>;
  const file = (name: string, text: string) => {
    const path = join(dir.path, name);
    writeFileSync(path, text);
    return path;
  };

  before(async () => {
    svc = await startService({ data: join(dir.path, 'data') });
    env = { WEFT_CONTROL_PLANE: svc.url, WEFT_TOKEN: svc.token };
  });
  const cli = (args: string[], token = svc.token) =>
    inProcess(['--server', svc.url, '--token', token, ...args]);
  after(async () => {
    await svc.stop();
    dir.remove();
  });

  test('apply -f applies a multi-document YAML file, and is idempotent', async () => {
    const path = file(
      'policies.yaml',
      `kind: DestinationPolicy
name: users
spec:
  timeoutMs: 2000
  retry: { maxAttempts: 3, budget: { percent: 10 } }
---
kind: DestinationPolicy
name: orders
spec:
  balancer: { kind: round-robin }
`,
    );
    const r = await weft(['apply', '-f', path], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /DestinationPolicy\/users configured\nDestinationPolicy\/orders configured\nrevision 1/,
    );
    const again = await cli(['apply', '-f', path]);
    assert.match(again.stdout, /users unchanged[\s\S]*revision 1/);
  });

  test('get lists and shows documents, as text or JSON', async () => {
    const list = await cli(['get', 'policy']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /NAME\s+REVISION\s+CREATED\norders\s+1\s+1\nusers\s+1\s+1/);
    const one = await cli(['get', 'DestinationPolicy', 'users', '--output', 'json']);
    assert.deepEqual(JSON.parse(one.stdout).spec, {
      timeoutMs: 2000,
      retry: { maxAttempts: 3, budget: { percent: 10 } },
    });
    const yaml = await cli(['get', 'policy', 'users']);
    assert.match(
      yaml.stdout,
      /kind: DestinationPolicy\nname: users\nrevision: 1\nspec:\n {2}timeoutMs: 2000/,
    );
  });

  test('invalid files fail with the file, document and field named, and nothing is sent', async () => {
    const path = file(
      'bad.yaml',
      `kind: DestinationPolicy
name: users
spec:
  timeoutMs: 10
---
kind: DestinationPolicy
name: orders
spec:
  retry: { maxAttempts: 99 }
  breaker: {}
`,
    );
    const r = await cli(['apply', '-f', path]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.yaml document 2: spec\.retry\.maxAttempts: .*10/);
    assert.match(r.stderr, /bad\.yaml document 2: spec: .*"breaker"/);
    const json = await cli(['--output', 'json', 'apply', '-f', path]);
    assert.ok(JSON.parse(json.stderr).error.issues.length === 2);
    const health = await api({ urls: [svc.url], token: undefined, timeoutMs: 5000 })('GET', '/healthz');
    assert.equal((health.body as { revision: number }).revision, 1);
    const yamlError = await cli(['apply', '-f', file('broken.yaml', 'kind: [unclosed\n')]);
    assert.equal(yamlError.code, 1);
    assert.match(yamlError.stderr, /broken\.yaml/);
    const stdin = await weft(
      ['apply', '-f', '-'],
      env,
      '{"kind":"DestinationPolicy","name":"from-stdin","spec":{}}',
    );
    assert.equal(stdin.code, 0, stdin.stderr);
  });

  test('delete, history and rollback', async () => {
    const del = await cli(['delete', 'policy', 'orders']);
    assert.equal(del.code, 0, del.stderr);
    const history = await cli(['history']);
    assert.match(
      history.stdout,
      /REVISION\s+TIME\s+AUTHOR\s+CHANGES\n3\s+\S+\s+admin \([0-9a-f]{16}\)\s+delete DestinationPolicy\/orders\n2\s+\S+\s+admin \([0-9a-f]{16}\)\s+put DestinationPolicy\/from-stdin\n1 /,
    );
    const [, tokenId, secret] = /^weft_([0-9a-f]{16})_(.+)$/.exec(svc.token)!;
    assert.equal(history.stdout.includes(secret!), false, 'the secret is never shown');
    const json = JSON.parse((await cli(['history', '-o', 'json'])).stdout) as {
      entries: { author?: { tokenId: string; name: string } }[];
    };
    assert.deepEqual(json.entries[0]?.author, { tokenId, name: 'admin' });
    const rb = await cli(['rollback', '1']);
    assert.equal(rb.code, 0, rb.stderr);
    assert.match(rb.stdout, /rolled back to revision 1: .*DestinationPolicy\/orders/);
    assert.equal((await cli(['get', 'policy', 'orders'])).code, 0);
    assert.equal((await cli(['get', 'policy', 'from-stdin'])).code, 1);
    const stale = await cli(['delete', 'policy', 'users', '--if-revision', '0']);
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /changed/);
  });

  test('an AuthorizationPolicy is applied from YAML and read back by its alias', async () => {
    const path = file(
      'authz.yaml',
      `kind: AuthorizationPolicy
name: catalog-readers
spec:
  service: catalog
  action: ALLOW
  rules:
    - from: [{ services: [frontend] }]
      to: [{ methods: [GET], paths: ["/items/*"] }]
      when: [{ header: x-tenant, values: [acme] }]
`,
    );
    const applied = await cli(['apply', '-f', path]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /AuthorizationPolicy\/catalog-readers configured/);
    const got = await cli(['get', 'authz', 'catalog-readers']);
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, /service: catalog\n/);
    assert.equal((await cli(['delete', 'authz', 'catalog-readers'])).code, 0);
  });

  test('endpoints lists registered instances', async () => {
    await api({ urls: [svc.url], token: svc.token, timeoutMs: 5000 })(
      'POST',
      '/v1/services/users/instances',
      {
        address: '127.0.0.1',
        port: 8081,
        labels: { version: 'v2', zone: 'eu-1' },
        ttlMs: 60_000,
      },
    );
    const r = await cli(['endpoints', 'users']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /127\.0\.0\.1:8081\s+127\.0\.0\.1\s+8081\s+version=v2,zone=eu-1\s+60000ms/);
    const json = await cli(['endpoints', 'users', '-o', 'json']);
    assert.equal(JSON.parse(json.stdout).instances[0].port, 8081);
  });

  test('tokens: create a service token that can read but not write', async () => {
    const created = await cli(['token', 'create', 'billing', '--output', 'json']);
    assert.equal(created.code, 0, created.stderr);
    const token = JSON.parse(created.stdout).token as string;
    const read = await cli(['get', 'policy'], token);
    assert.equal(read.code, 0);
    const write = await cli(['delete', 'policy', 'users'], token);
    assert.equal(write.code, 1);
    assert.match(write.stderr, /may not do this/);
  });

  test('apply --dry-run prints the diff against the stored documents and writes nothing', async () => {
    const path = file(
      'dry.yaml',
      `kind: DestinationPolicy
name: users
spec:
  timeoutMs: 900
  retry: { maxAttempts: 3, budget: { percent: 10 } }
---
kind: DestinationPolicy
name: brand-new
spec:
  timeoutMs: 100
`,
    );
    const before = await cli(['get', 'policy', 'users', '-o', 'json']);
    const r = await cli(['apply', '--dry-run', '-f', path]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /DestinationPolicy\/users would be updated:\n {2}- timeoutMs: 2000\n {2}\+ timeoutMs: 900/,
    );
    assert.match(r.stdout, /DestinationPolicy\/brand-new would be created:\n {2}\+ timeoutMs: 100/);
    assert.match(r.stdout, /dry run: nothing was written/);
    const after = await cli(['get', 'policy', 'users', '-o', 'json']);
    assert.deepEqual(JSON.parse(after.stdout), JSON.parse(before.stdout), 'nothing was written');
    const missing = await cli(['get', 'policy', 'brand-new']);
    assert.equal(missing.code, 1);
    const json = await cli(['apply', '--dry-run', '-f', path, '-o', 'json']);
    assert.deepEqual(
      JSON.parse(json.stdout).results.map((x: { action: string }) => x.action),
      ['update', 'create'],
    );
  });

  test('apply warns about a policy for a service nothing has registered, and still applies it', async () => {
    const path = file('typo.yaml', 'kind: DestinationPolicy\nname: catalgo\nspec:\n  timeoutMs: 100\n');
    const r = await cli(['apply', '-f', path]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /DestinationPolicy\/catalgo configured/);
    assert.match(
      r.stderr,
      /warning: DestinationPolicy\/catalgo: no instance of service "catalgo" is registered/,
    );
    const registered = await cli([
      'apply',
      '-f',
      file(
        'users.yaml',
        'kind: DestinationPolicy\nname: users\nspec:\n  timeoutMs: 2000\n  retry: { maxAttempts: 3, budget: { percent: 10 } }\n',
      ),
    ]);
    assert.doesNotMatch(registered.stderr, /warning/, 'users has a registered instance');
  });

  test('-s host:port without a scheme, and a wrong token named as such', async () => {
    const bare = await inProcess(['-s', svc.url.replace('http://', ''), '-t', svc.token, 'get', 'policy']);
    assert.equal(bare.code, 0, bare.stderr);
    const wrong = await cli(['get', 'policy'], 'not-a-token');
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.stderr,
      /error: unauthorized \(401\): the config service refused the token .*pass --token or set WEFT_TOKEN/,
    );
    assert.doesNotMatch(wrong.stderr, /reach/);
  });

  test('tokens: --service scopes a service token; the list shows each scope', async () => {
    const created = await cli(['token', 'create', 'ci-billing', '--service', 'billing']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /role service, acts for service billing/);
    const token = created.stdout.split('\n')[0]!;
    const register = (service: string) =>
      fetch(`${svc.url}/v1/services/${service}/instances`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ address: '127.0.0.1', port: 9100, ttlMs: 60_000 }),
      });
    assert.equal((await register('billing')).status, 201);
    assert.equal((await register('users')).status, 403);
    const listed = await cli(['token', 'list']);
    assert.match(listed.stdout, /ci-billing\s+service\s+billing/);
    assert.match(listed.stdout, /admin\s+admin\s+-/);
    const bad = await cli(['token', 'create', 'x', '--service', 'a..b']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /service: must not have an empty label/);
    const adminScoped = await cli(['token', 'create', 'y', '--role', 'admin', '--service', 'billing']);
    assert.equal(adminScoped.code, 1);
    assert.match(adminScoped.stderr, /service: admin tokens are not scoped/);
  });

  test('usage errors and an unreachable service give clear messages', async () => {
    const kind = await cli(['get', 'widgets']);
    assert.equal(kind.code, 2);
    assert.match(kind.stderr, /unknown kind "widgets"/);
    const down = await weft(['get', 'policy'], { ...env, WEFT_CONTROL_PLANE: 'http://127.0.0.1:1' });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach the config service at http:\/\/127\.0\.0\.1:1/);
    const noToken = await weft(['get', 'policy'], { ...env, WEFT_TOKEN: '' });
    assert.match(noToken.stderr, /bearer token is required/);
    const version = await weft(['--version'], env);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout, `${CLI_VERSION}\n`);
    assert.match(CLI_VERSION, /^\d+\.\d+\.\d+/);
    const help = await weft(['--help'], env);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /control-plane[\s\S]*apply[\s\S]*rollback[\s\S]*endpoints/);
  });
});

describe('weft on too old a Node.js', () => {
  test('the entry refuses it, naming the version needed and the version found', async () => {
    // Fakes the running version before the CLI loads; every other flag is as a person runs it.
    const fake = 'data:text/javascript,Object.defineProperty(process.versions,"node",{value:"22.11.0"})';
    const r = await weft(['--version'], {}, undefined, [...NODE_ARGS, '--import', fake]);
    assert.notEqual(r.code, 0);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /@weft\/cli needs Node\.js >=22\.12\.0 \(.*\); this is Node\.js 22\.11\.0/);
  });
});
