/**
 * The two Kubernetes API calls the resolver needs, over plain `node:http`/`node:https`: a (paged)
 * LIST and a WATCH that streams newline-delimited JSON events.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface ApiTarget {
  /** `https://host:port` of the API server. */
  readonly server: URL;
  /** Returns the bearer token to send (read per request, so rotated tokens are picked up). */
  readonly token: () => Promise<string | undefined>;
  /** PEM CA bundle for an https server. */
  readonly ca: string | undefined;
}

/** A non-2xx answer from the API server. `code` 410 (Gone) means the resourceVersion is too old. */
export class ApiStatusError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'ApiStatusError';
    this.status = status;
  }
}

export async function open(target: ApiTarget, path: string, signal: AbortSignal): Promise<IncomingMessage> {
  const url = new URL(path, target.server);
  const token = await target.token();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      { method: 'GET', headers, signal, ...(target.ca ? { ca: target.ca } : {}) },
      resolve,
    );
    req.on('error', reject);
    req.end();
  });
}

/** Reads a whole response as JSON; a non-2xx status becomes an {@link ApiStatusError} with the API's message. */
export async function readJson(res: IncomingMessage): Promise<unknown> {
  res.setEncoding('utf8');
  let body = '';
  for await (const chunk of res) body += chunk;
  if ((res.statusCode ?? 0) >= 300) throw statusError(res.statusCode ?? 0, body);
  try {
    return JSON.parse(body);
  } catch {
    throw new Error(`the API server sent a body that is not JSON (${body.length} bytes)`);
  }
}

export function statusError(status: number, body: string): ApiStatusError {
  let message = body.slice(0, 200);
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed?.message === 'string') message = parsed.message;
  } catch {
    // Not a Status object: keep the raw text.
  }
  return new ApiStatusError(status, `HTTP ${status}${message ? `: ${message}` : ''}`);
}

/** Yields each line of a streamed response (newline-delimited JSON), without the newline. */
export async function* lines(res: IncomingMessage): AsyncGenerator<string> {
  res.setEncoding('utf8');
  let buffered = '';
  for await (const chunk of res as AsyncIterable<string>) {
    buffered += chunk;
    let start = 0;
    let nl = buffered.indexOf('\n');
    while (nl !== -1) {
      const line = buffered.slice(start, nl).trim();
      if (line !== '') yield line;
      start = nl + 1;
      nl = buffered.indexOf('\n', start);
    }
    buffered = buffered.slice(start);
  }
  if (buffered.trim() !== '') yield buffered.trim();
}
