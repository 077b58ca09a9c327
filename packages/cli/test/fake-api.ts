/** A config-service API without a network, for the CLI's tests: records what is sent, answers `reply`. */
import type { Api } from '../src/api.ts';

export interface Sent {
  method: string;
  path: string;
  /** Absent when the request has none. */
  body?: unknown;
}

/** `reply` is the body of every answer, or a function of the request giving it. */
export function fakeApi(reply: unknown = { revision: 7, document: {} }) {
  const sent: Sent[] = [];
  const answer =
    typeof reply === 'function' ? (reply as (method: string, path: string) => unknown) : () => reply;
  const request = (async (method: string, path: string, body?: unknown) => {
    sent.push(body === undefined ? { method, path } : { method, path, body });
    return { status: 200, headers: new Headers(), body: answer(method, path) };
  }) as Api;
  const lines: string[] = [];
  return { request, sent, lines, o: { json: false, write: (t: string) => void lines.push(t) } };
}
