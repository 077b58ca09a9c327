/**
 * Test servers for HTTP upgrades on 127.0.0.1 with OS-chosen ports: a raw echo after a 101, and a
 * minimal WebSocket server (RFC 6455 handshake, unfragmented text frames echoed back, close and
 * ping answered). Each counts the upgrade requests it received and names itself in its answers, so a
 * test sees which endpoint a connection went to and how many attempts each server got.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface UpgradeServer {
  readonly port: number;
  readonly endpoint: string;
  /** Upgrade requests received, in order. */
  readonly upgrades: IncomingMessage[];
  close(): Promise<void>;
}

type OnUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * A server whose upgrade requests go to `onUpgrade`; ordinary requests to `onRequest` (a 404 by
 * default). Closing it also destroys the upgraded connections, which the HTTP server no longer tracks.
 */
export async function startUpgradeServer(
  onUpgrade: OnUpgrade | undefined,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 404;
    res.end();
  },
): Promise<UpgradeServer> {
  const upgrades: IncomingMessage[] = [];
  const sockets = new Set<Duplex>();
  const server = createServer((req, res) => {
    if (req.headers.upgrade !== undefined) upgrades.push(req);
    onRequest(req, res);
  });
  if (onUpgrade)
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      upgrades.push(req);
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      onUpgrade(req, socket, head);
    });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    endpoint: `127.0.0.1:${port}`,
    upgrades,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Switches to `protocol` with `x-server: id` in the 101, then echoes every byte back. */
export function rawEcho(id: string, protocol = 'echo'): OnUpgrade {
  return (_req, socket, head) => {
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${protocol}\r\nx-server: ${id}\r\n\r\n`,
    );
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  };
}

/** Answers the upgrade with a 101, then closes the connection at once. */
export function switchThenClose(protocol = 'echo'): OnUpgrade {
  return (_req, socket) => {
    socket.end(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${protocol}\r\n\r\n`);
  };
}

/** Reads the upgrade request, then drops the connection without answering. */
export function dropWithoutAnswer(): OnUpgrade {
  return (_req, socket) => {
    (socket as Socket).resetAndDestroy();
  };
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A WebSocket server that answers every text message with `<id>:<message>`. */
export function webSocketEcho(id: string): OnUpgrade {
  return (req, socket, head) => {
    const key = String(req.headers['sec-websocket-key'] ?? '');
    const accept = createHash('sha1')
      .update(key + WS_GUID)
      .digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\nx-server: ${id}\r\n\r\n`,
    );
    let pending = head;
    const onData = (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (;;) {
        const frame = readFrame(pending);
        if (!frame) return;
        pending = pending.subarray(frame.size);
        if (frame.opcode === 0x1) socket.write(encodeFrame(0x1, Buffer.from(`${id}:${frame.payload}`)));
        else if (frame.opcode === 0x9) socket.write(encodeFrame(0xa, frame.payload));
        else if (frame.opcode === 0x8) {
          socket.end(encodeFrame(0x8, frame.payload.subarray(0, 2)));
          return;
        }
      }
    };
    socket.on('data', onData);
    if (head.length > 0) onData(Buffer.alloc(0));
  };
}

/** One whole client frame (masked, as clients must send them) at the start of `buf`, or undefined. */
function readFrame(buf: Buffer): { opcode: number; payload: Buffer; size: number } | undefined {
  if (buf.length < 2) return undefined;
  const opcode = buf[0]! & 0x0f;
  const masked = (buf[1]! & 0x80) !== 0;
  let length = buf[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buf.length < 4) return undefined;
    length = buf.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buf.length < 10) return undefined;
    length = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  const maskAt = offset;
  if (masked) offset += 4;
  if (buf.length < offset + length) return undefined;
  const payload = Buffer.from(buf.subarray(offset, offset + length));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ buf[maskAt + (i % 4)]!;
  return { opcode, payload, size: offset + length };
}

/** A final, unmasked server frame. */
function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const head =
    payload.length < 126
      ? Buffer.from([0x80 | opcode, payload.length])
      : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([head, payload]);
}
