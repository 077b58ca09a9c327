/**
 * Reads one watch stream (`GET /v1/watch`) of the config service: opens it with the resume id,
 * parses Server-Sent Events and hands each message on, and treats a stream silent for longer than
 * `idleTimeoutMs` as dead (the service sends a comment every 15 s by default). It always ends by
 * throwing: the stream ended, failed, went idle, or `signal` aborted.
 */
import { ErrorCode, WeftError } from '../errors/errors.ts';
import type { Clock, TimerHandle } from '../time/clock.ts';
import { type SseMessage, SseParser } from './sse.ts';

export interface WatchStreamOptions {
  url: string;
  token: string | undefined;
  /** Comma-separated services whose instances to watch; all when undefined. */
  services: string | undefined;
  /** `Last-Event-ID` to resume from; a snapshot comes first when undefined. */
  lastEventId: string | undefined;
  idleTimeoutMs: number;
  clock: Clock;
  signal: AbortSignal;
  /** Called once the service accepted the stream (a resume with nothing missed sends no message). */
  onOpen(): void;
  onMessage(message: SseMessage): void;
}

export async function readWatchStream(options: WatchStreamOptions): Promise<never> {
  const { clock, idleTimeoutMs } = options;
  const abort = new AbortController();
  const onAbort = () => abort.abort(options.signal.reason);
  if (options.signal.aborted) onAbort();
  options.signal.addEventListener('abort', onAbort, { once: true });
  const goIdle = () => abort.abort(new Error(`stream idle for ${idleTimeoutMs} ms`));
  let idle: TimerHandle = clock.setTimeout(goIdle, idleTimeoutMs, true);
  try {
    const target = new URL('/v1/watch', options.url);
    if (options.services) target.searchParams.set('services', options.services);
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
    const res = await fetch(target, { headers, signal: abort.signal });
    if (!res.ok || !res.body) {
      const text = await res.text().catch(() => '');
      if (res.status === 401 || res.status === 403)
        throw new WeftError(
          ErrorCode.Unauthorized,
          `the config service at ${target.origin} refused the token (HTTP ${res.status}${options.token ? '' : ', none was given: set WEFT_TOKEN or the token option'}): ${text.slice(0, 200)}`,
        );
      throw new Error(`HTTP ${res.status} from ${target.origin}: ${text.slice(0, 200)}`);
    }
    options.onOpen();
    const parser = new SseParser(options.onMessage);
    const decoder = new TextDecoder();
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      clock.clearTimeout(idle);
      idle = clock.setTimeout(goIdle, idleTimeoutMs, true);
      parser.push(decoder.decode(chunk, { stream: true }));
    }
    throw new Error('stream ended');
  } catch (error) {
    const reason = abort.signal.aborted ? abort.signal.reason : error;
    throw reason instanceof Error ? reason : new Error(String(reason));
  } finally {
    clock.clearTimeout(idle);
    options.signal.removeEventListener('abort', onAbort);
  }
}
