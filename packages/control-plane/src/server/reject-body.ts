/**
 * A request refused before its body arrived (401, 403, 413, …) is answered and its connection
 * closed, instead of reading the rest of the body only to throw it away (a 100 MiB upload behind a
 * bad token would otherwise be read in full).
 *
 * The close lingers: the socket stops reading and sends its FIN after the answer, and is destroyed
 * `lingerMs` later (or as soon as the peer closes). Destroying it at once would make the kernel
 * answer the body still arriving with a reset, and a reset can discard the answer before the
 * client has read it (the "lingering close" of HTTP servers, RFC 9112 §9.6). While paused, TCP flow
 * control stops the sender, so what is read stays within the socket buffers.
 */
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** How long a refused connection is kept, not reading, so the client can read the answer. */
export const REJECT_LINGER_MS = 2000;

/** Replaces the socket's `destroySoon` (what Node's HTTP server calls after a `connection: close` response). */
function lingerOnClose(socket: Socket, lingerMs: number): void {
  const s = socket as Socket & { destroySoon?: () => void };
  s.destroySoon = function lingeringDestroy(this: Socket) {
    this.pause();
    this.end();
    const timer = setTimeout(() => this.destroy(), lingerMs);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
  };
}

/** Installs the hook: every 4xx/5xx answer to a request whose body is still pending closes the connection. */
export function closeAfterRejection(app: FastifyInstance, lingerMs = REJECT_LINGER_MS): void {
  app.addHook('onSend', (req, reply, payload, done) => {
    if (reply.statusCode >= 400 && !req.raw.complete) {
      reply.header('connection', 'close');
      if (req.raw.httpVersionMajor === 1 && req.raw.socket) {
        req.raw.socket.pause(); // read no more of the body from here on
        lingerOnClose(req.raw.socket, lingerMs);
      }
    }
    done(null, payload);
  });
}
