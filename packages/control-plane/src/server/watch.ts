/**
 * The watch stream: Server-Sent Events (`GET /v1/watch`). A new watcher gets a `snapshot` event,
 * then one `change` event per revision. A watcher that reconnects with `Last-Event-ID` gets only
 * the revisions it missed, or a fresh snapshot when they are no longer kept, when it is more than
 * `maxResume` revisions behind, or when the id belongs to another store. A watcher whose socket
 * buffer grows past `maxBufferedBytes` (it reads too slowly) is disconnected; it resumes the same way.
 * A stream whose token is revoked is ended: at once on the replica that revoked it ({@link
 * WatchControl.revoke}), and within `tokenRecheckMs` on the others, which re-read the tokens of their
 * open streams from the shared store.
 */
import type { ServerResponse } from 'node:http';
import {
  type Change,
  type LogEntry,
  parseWatchEventId,
  type Snapshot,
  WatchEvent,
  watchEventId,
} from '@weft/core/config';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/store.ts';
import { tokenOf } from './auth.ts';

export interface WatchOptions {
  /** Interval of `: ping` comments that keep idle streams alive and let clients detect dead ones. */
  heartbeatMs: number;
  /** Most missed revisions replayed on resume before a snapshot is sent instead. */
  maxResume: number;
  /** Socket buffer size beyond which a slow watcher is disconnected. */
  maxBufferedBytes: number;
  /** How often the tokens of open streams are re-read from the store (revoked: stream ended). */
  tokenRecheckMs: number;
  /** Drops a revoked token from the verifier's cache, so that the watcher cannot reconnect. */
  forgetToken: (id: string) => void;
}

/** Ends streams: all of them (shutdown), or those of one revoked token. */
export interface WatchControl {
  /** Watch streams open now. */
  readonly open: number;
  end(): void;
  revoke(tokenId: string): void;
}

interface Watcher {
  readonly res: ServerResponse;
  /** The token that opened the stream. */
  readonly tokenId: string | undefined;
  readonly services: ReadonlySet<string> | undefined;
  sent: number;
  pending: LogEntry[] | undefined;
}

function keepChange(c: Change, services: ReadonlySet<string> | undefined): boolean {
  if (!services) return true;
  if (c.op === 'register') return services.has(c.instance.service);
  if (c.op === 'deregister') return services.has(c.service);
  return true;
}

/** Serves `/v1/watch`; returns the means to end streams. */
export function watchRoutes(app: FastifyInstance, store: Store, options: WatchOptions): WatchControl {
  const watchers = new Set<Watcher>();

  const revoke = (tokenId: string) => {
    for (const w of watchers) {
      if (w.tokenId !== tokenId) continue;
      watchers.delete(w);
      w.res.end();
    }
  };

  let rechecking = false;
  const recheck = setInterval(() => {
    if (rechecking || watchers.size === 0) return;
    rechecking = true;
    const ids = new Set<string>();
    for (const w of watchers) if (w.tokenId) ids.add(w.tokenId);
    Promise.all(
      [...ids].map(async (id) => {
        if (await store.getToken(id)) return;
        options.forgetToken(id);
        revoke(id);
      }),
    )
      .catch((error) => app.log.error({ err: error }, 'watch token recheck failed'))
      .finally(() => {
        rechecking = false;
      });
  }, options.tokenRecheckMs);
  recheck.unref();

  /** Writes one event; `data` is already JSON. A watcher that stopped reading is cut off. */
  const write = (w: Watcher, event: string, revision: number, data: string) => {
    if (w.res.writableLength > options.maxBufferedBytes) {
      w.res.destroy();
      return;
    }
    w.res.write(`event: ${event}\nid: ${watchEventId(store.id, revision)}\ndata: ${data}\n\n`);
    w.sent = revision;
  };

  // The last entry's JSON, shared by every unfiltered watcher (one serialization per revision).
  let lastEntry: LogEntry | undefined;
  let lastJson = '';
  const deliver = (w: Watcher, entry: LogEntry) => {
    if (entry.revision <= w.sent) return;
    if (w.services) {
      const changes = entry.changes.filter((c) => keepChange(c, w.services));
      write(w, WatchEvent.Change, entry.revision, JSON.stringify({ ...entry, changes }));
      return;
    }
    if (lastEntry !== entry) {
      lastEntry = entry;
      lastJson = JSON.stringify(entry);
    }
    write(w, WatchEvent.Change, entry.revision, lastJson);
  };

  const unsubscribe = store.onCommit((entry) => {
    for (const w of watchers) {
      if (w.pending) w.pending.push(entry);
      else deliver(w, entry);
    }
  });

  const ping = setInterval(() => {
    for (const w of watchers) if (!w.pending) w.res.write(': ping\n\n');
  }, options.heartbeatMs);
  ping.unref();

  app.get('/v1/watch', async (req, reply) => {
    const query = req.query as { services?: string; since?: string };
    const services = query.services
      ? new Set(
          query.services
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        )
      : undefined;
    const header = req.headers['last-event-id'];
    const resume = parseWatchEventId(typeof header === 'string' ? header : query.since);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const w: Watcher = { res, tokenId: tokenOf(req)?.id, services, sent: -1, pending: [] };
    watchers.add(w);
    res.on('close', () => watchers.delete(w));
    try {
      let replay: LogEntry[] | undefined;
      if (resume && resume.storeId === store.id && resume.revision <= (await store.revision())) {
        replay = await store.logSince(resume.revision, options.maxResume + 1);
        if (replay && replay.length > options.maxResume) replay = undefined;
      }
      if (replay && resume) {
        w.sent = resume.revision;
        for (const entry of replay) deliver(w, entry);
      } else {
        const snap = await store.snapshot();
        const data: Snapshot = services
          ? { ...snap, instances: snap.instances.filter((i) => services.has(i.service)) }
          : snap;
        write(w, WatchEvent.Snapshot, snap.revision, JSON.stringify(data));
      }
      const pending = w.pending ?? [];
      w.pending = undefined;
      for (const entry of pending) deliver(w, entry);
    } catch (error) {
      req.log.error({ err: error }, 'watch failed');
      res.destroy();
    }
  });

  return {
    revoke,
    /** Watch streams open now. */
    get open() {
      return watchers.size;
    },
    end() {
      clearInterval(ping);
      clearInterval(recheck);
      unsubscribe();
      for (const w of watchers) w.res.end();
      watchers.clear();
    },
  };
}
