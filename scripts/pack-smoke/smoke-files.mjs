// The programs the pack smoke test runs in a project that installed the tarballs: written as a user
// of the packages would write them, importing the packages by name.

const httpCall = `
const server = createServer((req, res) => res.end(JSON.stringify({ path: req.url })));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const client = createClient({
  service: 'smoke',
  endpoints: ['127.0.0.1:' + server.address().port],
  timeoutMs: 5000,
});
const res = await client.fetch('/items/1');
assert.equal(res.status, 200);
assert.deepEqual(await res.json(), { path: '/items/1' });
await client.close();
server.close();
`;

/**
 * ESM: imports every entry, then a Weft HTTP call and a Weft gRPC call to real local servers, and a
 * config service started by `@weft/control-plane/testing`.
 */
export const esmSmoke = (entries) => `import assert from 'node:assert/strict';
import { createServer } from 'node:http';

for (const entry of ${JSON.stringify(entries)}) {
  const m = await import(entry);
  assert.ok(Object.keys(m).length > 0, entry + ' exports nothing');
}
const { createClient } = await import('@weft/http');
${httpCall}
const { createGrpcClient, createGrpcServer, healthClientConstructor } = await import('@weft/grpc');
const grpcServer = createGrpcServer();
const port = await grpcServer.listen('127.0.0.1:0');
const health = createGrpcClient(healthClientConstructor(), 'smoke-grpc', {
  endpoints: ['127.0.0.1:' + port],
  timeoutMs: 5000,
});
const status = await new Promise((resolve, reject) =>
  health.check({ service: '' }, (err, reply) => (err ? reject(err) : resolve(reply.status))),
);
assert.equal(status, 'SERVING');
health.close();
grpcServer.server.forceShutdown();

// The testing helper runs the installed CLI as a child process: a real config service.
const { startService, tempDir } = await import('@weft/control-plane/testing');
const data = tempDir();
const service = await startService({ data: data.path });
assert.ok(service.url.startsWith('http://127.0.0.1:'), service.url);
assert.ok(service.token, 'an admin token');
// The dashboard ships in the package: its page and bundle are served without a network.
const page = await fetch(service.url + '/ui/');
assert.equal(page.status, 200, 'the dashboard page');
assert.match(await page.text(), /app.js/);
assert.equal((await fetch(service.url + '/ui/app.js')).status, 200, 'the dashboard bundle');
await service.stop();
data.remove();
`;

/** CommonJS: require() of every entry (ES modules, loaded by Node's require), then an HTTP call. */
export const cjsSmoke = (entries) => `'use strict';
const assert = require('node:assert/strict');
const { createServer } = require('node:http');

for (const entry of ${JSON.stringify(entries)}) {
  const m = require(entry);
  assert.ok(Object.keys(m).length > 0, entry + ' exports nothing');
}
const { createClient } = require('@weft/http');
(async () => {
${httpCall}
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

/** Strict TypeScript over the installed declarations (type-checked only, never run). */
export const tsSmoke = `import { ErrorCode, isWeftError } from '@weft/core';
import { createConfigClient } from '@weft/core/config';
import { VirtualClock } from '@weft/core/testing';
import { staticResolver } from '@weft/discovery';
import { createClient } from '@weft/http';
import { weft } from '@weft/http/express';
import { createGrpcServer } from '@weft/grpc';
import { type ControlPlaneOptions, startControlPlane } from '@weft/control-plane';
import { startService } from '@weft/control-plane/testing';
import { main } from '@weft/cli';

const catalog = createClient({ service: 'catalog', endpoints: ['127.0.0.1:8081'], timeoutMs: 1000 });

export async function item(id: number): Promise<unknown> {
  try {
    const res: Response = await catalog.fetch(\`/items/\${id}\`);
    return await res.json();
  } catch (error) {
    if (isWeftError(error, ErrorCode.DeadlineExceeded)) return undefined;
    throw error;
  }
}

export const resolver = staticResolver(['127.0.0.1:8081']);
export const clock = new VirtualClock();
export const mesh = weft({ concurrency: 200 });
export const grpcServer = createGrpcServer({ concurrency: 200 });
const options: ControlPlaneOptions = { port: 0, host: '127.0.0.1' };
export const start = () => startControlPlane(options);
export const service = () => startService();
export const config = () => createConfigClient({ urls: ['http://127.0.0.1:7700'] });
export const cli: (argv: string[]) => Promise<number> = main;

// @ts-expect-error a misspelt option does not type-check
createClient({ service: 'catalog', endpoints: [], timeoutMz: 5 });
`;

export const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      strict: true,
      target: 'es2023',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      types: ['node'],
      noEmit: true,
      skipLibCheck: false,
    },
    files: ['smoke.mts'],
  },
  null,
  2,
)}\n`;
