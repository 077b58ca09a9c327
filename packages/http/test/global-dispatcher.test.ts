/**
 * Weft under the `fetch` an application already calls: Node's built-in fetch, undici 8's and undici
 * 7's own fetch (many projects pin 7), installed with `installGlobalDispatcher` or with undici 7's
 * `setGlobalDispatcher`. Each call must settle with the mesh service's answer, never hang.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createDispatcher, installGlobalDispatcher } from '@weft/http';
import { fetch as fetch8, getGlobalDispatcher, request as request8 } from 'undici';
import {
  fetch as fetch7,
  getGlobalDispatcher as getGlobal7,
  setGlobalDispatcher as setGlobal7,
} from 'undici7';
import { startServer, type TestServer } from './helpers.ts';

/** Fails the test instead of letting a hung call hang it. */
function settles<T>(p: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

describe('global dispatcher', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer((req, res) => {
      res.setHeader('x-path', String(req.url));
      res.appendHeader('set-cookie', ['a=1', 'b=2']);
      res.end(`hello ${req.url}`);
    });
  });
  after(() => server.close());

  const fetches = [
    ['Node built-in fetch', (url: string) => globalThis.fetch(url)],
    ['undici 8 fetch', (url: string) => fetch8(url) as unknown as Promise<Response>],
    ['undici 7 fetch', (url: string) => fetch7(url) as unknown as Promise<Response>],
  ] as const;

  test('installGlobalDispatcher serves every fetch, then close puts the previous dispatchers back', async () => {
    const before8 = getGlobalDispatcher();
    const before7 = getGlobal7();
    const dispatcher = installGlobalDispatcher({ services: { catalog: { endpoints: [server.endpoint] } } });
    try {
      for (const [name, f] of fetches) {
        const res = await settles(f('http://catalog/items/1'), name);
        assert.equal(res.status, 200, name);
        assert.equal(res.headers.get('x-path'), '/items/1', name);
        assert.deepEqual(res.headers.getSetCookie(), ['a=1', 'b=2'], name);
        assert.equal(await res.text(), 'hello /items/1', name);
      }
      const r = await settles(request8('http://catalog/raw'), 'undici 8 request');
      assert.equal(await r.body.text(), 'hello /raw');
    } finally {
      await dispatcher.close();
    }
    assert.equal(getGlobalDispatcher(), before8, 'undici 8 global restored');
    assert.equal(getGlobal7(), before7, 'undici 7 / Node global restored');
  });

  test("undici 7's setGlobalDispatcher with Weft's dispatcher: fetch settles with the answer", async () => {
    const previous = getGlobal7();
    const dispatcher = createDispatcher({ services: { catalog: { endpoints: [server.endpoint] } } });
    setGlobal7(dispatcher as never);
    try {
      for (const [name, f] of [fetches[0], fetches[2]] as const) {
        const res = await settles(f('http://catalog/v7'), name);
        assert.equal(res.status, 200, name);
        assert.deepEqual(res.headers.getSetCookie(), ['a=1', 'b=2'], name);
        assert.equal(await res.text(), 'hello /v7', name);
      }
    } finally {
      setGlobal7(previous);
      await dispatcher.close();
    }
  });
});
