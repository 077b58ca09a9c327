/**
 * The mTLS front on a real socket: a connection reset before it sent a byte, or while it is refused,
 * is closed quietly (never an uncaught error of the process).
 */
import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { type MeshIdentity, MtlsFront } from '@weft/core';

const identity: MeshIdentity = { credentials: undefined, onChange: () => () => {} };

test('a connection reset while it is sorted or refused closes quietly', async () => {
  const closed: Socket[] = [];
  const front = new MtlsFront(
    { identity, mode: 'STRICT', firstByteTimeoutMs: 5000, handshakeTimeoutMs: 5000 },
    undefined,
    undefined,
    {
      plaintext: () => assert.fail('STRICT: no plaintext side'),
      tls: () => assert.fail('no TLS was sent'),
      // Refused: the answer is never written, and the client resets.
      refuse: () => {},
    },
  );
  const server = createServer((socket) => {
    socket.once('close', () => closed.push(socket));
    front.accept(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const reset = (send?: string) =>
    new Promise<void>((resolve) => {
      const client = connect(port, '127.0.0.1', () => {
        if (send !== undefined) client.write(send);
        setTimeout(() => client.resetAndDestroy(), 50);
      });
      client.once('close', () => resolve());
    });
  await reset();
  await reset('GET / HTTP/1.1\r\n\r\n');
  for (let i = 0; closed.length < 2 && i < 200; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(closed.length, 2);
  assert.equal(front.counts.refused, 1);
  front.close();
  server.close();
});
