import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ServiceProcess, startService } from '@weft/control-plane/testing';
import { main } from '../src/main.ts';

describe('weft ca status and weft ca rotate', () => {
  let svc: ServiceProcess;
  const weft = async (...args: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await main(['--server', svc.url, '--token', svc.token, ...args], {
      out: (t) => {
        stdout += t;
      },
      err: (t) => {
        stderr += t;
      },
    });
    return { code, stdout, stderr };
  };

  before(async () => {
    svc = await startService();
  });
  after(async () => {
    await svc?.stop();
  });

  test('status shows the signing root; rotate opens an overlap that --finish --force ends', async () => {
    const first = await weft('ca', 'status');
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^trust domain weft\.local \(generation 1\)/);
    assert.match(first.stdout, /signing {2}O=weft, CN=weft mesh root .* \(generated\) valid until/);
    assert.match(first.stdout, /no overlap: one CA is trusted/);

    const rotated = await weft('ca', 'rotate');
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /generation 2/);
    assert.match(rotated.stdout, /retiring/);
    assert.match(rotated.stdout, /overlap open since .*; end it after .* with: weft ca rotate --finish/);

    const early = await weft('ca', 'rotate', '--finish');
    assert.equal(early.code, 1);
    assert.match(early.stderr, /may be valid until/);

    const json = await weft('--output', 'json', 'ca', 'rotate', '--finish', '--force');
    assert.equal(json.code, 0, json.stderr);
    const body = JSON.parse(json.stdout);
    assert.equal(body.generation, 3);
    assert.equal(body.overlap, null);
    assert.deepEqual(
      body.authorities.map((a: { role: string }) => a.role),
      ['signing'],
    );
  });

  test('usage errors: --ca-cert without --ca-key, --force without --finish', async () => {
    assert.equal((await weft('ca', 'rotate', '--ca-cert', 'x.pem')).code, 2);
    assert.equal((await weft('ca', 'rotate', '--force')).code, 2);
  });
});
