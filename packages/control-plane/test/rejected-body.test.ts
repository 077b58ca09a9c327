import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type InProcessService, startInProcess } from './inproc.ts';
import { startService, tempDir } from './service.ts';

const MiB = 1024 * 1024;
const UPLOAD = 100 * MiB;
const CHUNK = Buffer.alloc(MiB, 0x20);

interface Upload {
  status: number;
  /** Bytes the client got written before the server closed (or all of them). */
  written: number;
  closedByServer: boolean;
  /** Bytes the server's socket read. */
  serverRead: number;
}

/**
 * Sends a request head announcing a 100 MiB body (or chunked), then streams the body as fast as the
 * connection takes it, until the server closes the connection or everything is sent (then waits
 * 1 s more for a close).
 */
async function upload(
  svc: Pick<InProcessService, 'port'> & { sockets?: Socket[] },
  head: string,
  chunked = false,
): Promise<Upload> {
  const before = svc.sockets?.length ?? 0;
  const socket: Socket = connect(svc.port, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  let response = '';
  let closed = false;
  socket.on('data', (d) => {
    response += d.toString('latin1');
  });
  socket.on('error', () => {});
  const closedP = new Promise<void>((r) =>
    socket.once('close', () => {
      closed = true;
      r();
    }),
  );
  socket.write(head);
  let written = 0;
  while (!closed && written < UPLOAD) {
    const piece = chunked
      ? Buffer.concat([Buffer.from(`${CHUNK.length.toString(16)}\r\n`), CHUNK, Buffer.from('\r\n')])
      : CHUNK;
    const ok = socket.write(piece);
    written += CHUNK.length;
    if (!ok)
      await Promise.race([
        new Promise((r) => socket.once('drain', r)),
        closedP,
        new Promise((r) => setTimeout(r, 5000)),
      ]);
  }
  if (!closed && chunked) socket.write('0\r\n\r\n');
  await Promise.race([closedP, new Promise((r) => setTimeout(r, 1000))]);
  const serverSocket = svc.sockets?.[before];
  const result = {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0),
    written,
    closedByServer: closed,
    serverRead: serverSocket?.bytesRead ?? -1,
  };
  socket.destroy();
  return result;
}

const head = (extra: string, length: number | 'chunked' = UPLOAD) =>
  `POST /v1/apply HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n${
    length === 'chunked' ? 'transfer-encoding: chunked' : `content-length: ${length}`
  }\r\n${extra}\r\n`;

describe('a rejected request does not read the body it rejected', () => {
  let svc: InProcessService;
  let service: string;
  before(async () => {
    svc = await startInProcess();
    service = (await svc.newToken({ name: 'users', role: 'service' })).token;
  });
  after(() => svc.close());

  for (const [what, extra, expected, chunked] of [
    ['401 without a token', '', 401, false],
    ['401 without a token, chunked', '', 401, true],
    ['403 for a service token', 'authorization: Bearer SERVICE\r\n', 403, false],
    ['413 over the body limit', 'authorization: Bearer ADMIN\r\n', 413, false],
  ] as const) {
    test(`${what}: answered, then the connection is closed after a bounded read`, async () => {
      const h = head(
        extra.replace('SERVICE', service).replace('ADMIN', svc.token),
        chunked ? 'chunked' : UPLOAD,
      );
      const r = await upload(svc, h, chunked);
      assert.equal(r.status, expected);
      assert.ok(r.closedByServer, `the server closed the connection (${JSON.stringify(r)})`);
      assert.ok(r.serverRead < 16 * MiB, `the server read ${(r.serverRead / MiB).toFixed(1)} MiB of 100`);
    });
  }

  test('ten rejected 100 MiB uploads in parallel: bounded bytes read and memory', async () => {
    globalThis.gc?.();
    const rss = process.memoryUsage().rss;
    const results = await Promise.all(Array.from({ length: 10 }, () => upload(svc, head(''))));
    const grown = (process.memoryUsage().rss - rss) / MiB;
    const read = results.reduce((n, r) => n + r.serverRead, 0) / MiB;
    console.log(
      `rejected-uploads ${JSON.stringify({ uploads: 10, serverReadMiB: Number(read.toFixed(1)), rssGrowthMiB: Number(grown.toFixed(1)) })}`,
    );
    assert.ok(results.every((r) => r.status === 401 && r.closedByServer));
    assert.ok(read < 10 * 16, `read ${read.toFixed(1)} MiB in all`);
  });

  test('a rejected request without a body keeps its connection (keep-alive is not lost)', async () => {
    const socket = connect(svc.port, '127.0.0.1');
    let response = '';
    socket.on('data', (d) => {
      response += d.toString('latin1');
    });
    socket.write('GET /v1/tokens HTTP/1.1\r\nhost: x\r\n\r\nGET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
    const deadline = Date.now() + 5000;
    while ((response.match(/HTTP\/1\.1 /g)?.length ?? 0) < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    socket.destroy();
    assert.match(response, /^HTTP\/1\.1 401/);
    assert.match(response, /HTTP\/1\.1 200/);
  });
});

test('the config service process: every upload answered 401, memory bounded by the connections, not the uploads', async () => {
  const dir = tempDir();
  const svc = await startService({ data: dir.path });
  const rssMiB = () =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${svc.child.pid}/status`, 'utf8'))?.[1]) / 1024;
  try {
    await new Promise((r) => setTimeout(r, 300));
    const before = rssMiB();
    assert.equal((await upload(svc, head(''))).status, 401);
    const afterOne = rssMiB();
    const ten = await Promise.all(Array.from({ length: 10 }, () => upload(svc, head(''))));
    const afterTen = rssMiB();
    console.log(
      `rejected-uploads-process ${JSON.stringify({ rssMiB: { before: Math.round(before), afterOne: Math.round(afterOne), afterTenParallel: Math.round(afterTen) } })}`,
    );
    assert.ok(
      ten.every((r) => r.status === 401 && r.closedByServer),
      JSON.stringify(ten),
    );
    assert.ok(afterTen - before < 48, `RSS grew ${(afterTen - before).toFixed(0)} MiB`);
  } finally {
    await svc.stop();
    dir.remove();
  }
});
