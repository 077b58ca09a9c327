import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { uiDirectory } from '../src/server/ui.ts';
import { type InProcessService, rawCall, startInProcess } from './inproc.ts';
import { call } from './service.ts';

describe('the dashboard is served at /ui, and /v1/whoami names the caller', () => {
  let svc: InProcessService;
  before(async () => {
    svc = await startInProcess();
  });
  after(() => svc.close());

  test('the bundle is built and served without a token, under a strict Content-Security-Policy', async () => {
    assert.ok(uiDirectory(), 'the test runner builds dist/ui');
    const page = await fetch(`${svc.url}/ui/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /connect-src 'self'/);
    assert.doesNotMatch(csp, /script-src[^;]*unsafe/);
    assert.match(await page.text(), /<script type="module" src="app.js">/);
    const script = await fetch(`${svc.url}/ui/app.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.ok((await script.text()).length > 10_000, 'the bundle holds uPlot and the pages');
    assert.equal((await fetch(`${svc.url}/ui/app.css`)).status, 200);
    const bare = await fetch(`${svc.url}/ui`, { redirect: 'manual' });
    assert.equal(bare.status, 302);
    assert.equal(bare.headers.get('location'), '/ui/');
  });

  test('only the bundle’s files are served: other names and traversals are 404, never a file', async () => {
    for (const path of [
      '/ui/package.json',
      '/ui/..%2f..%2fpackage.json',
      '/ui/%2e%2e/src/index.ts',
      '/ui/main.ts',
    ]) {
      const r = await rawCall(svc.port, 'GET', path, undefined);
      assert.ok(r.status === 404 || r.status === 401, `${path}: ${r.status}`);
      assert.doesNotMatch(r.text, /"name"|import /, path);
    }
  });

  test('whoami answers the token’s record without its hash, and 401 without a token', async () => {
    const viewer = await svc.newToken({ name: 'watcher', role: 'viewer' });
    const me = await call(svc.url, 'GET', '/v1/whoami', { token: viewer.token });
    assert.equal(me.status, 200);
    assert.deepEqual(
      { id: me.body.id, name: me.body.name, role: me.body.role, hash: me.body.hash },
      { id: viewer.id, name: 'watcher', role: 'viewer', hash: undefined },
    );
    assert.equal((await call(svc.url, 'GET', '/v1/whoami')).status, 401);
  });
});
