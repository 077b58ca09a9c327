/**
 * A small Server-Sent Events parser, following the event-stream interpretation rules of the WHATWG
 * HTML standard (§9.2.6 "Interpreting an event stream"): lines end in CRLF, LF or CR; `data` lines
 * accumulate; a blank line dispatches; lines starting with `:` are comments. Written here rather than
 * taken from a package so that @weft/core stays free of dependencies for a ~80-line state machine.
 */

/** One dispatched event. */
export interface SseMessage {
  /** The `event` field; `message` when absent. */
  readonly event: string;
  readonly data: string;
  /** The last event id seen so far on the stream (it persists across events, as the standard says). */
  readonly id: string;
  /** A reconnection delay the server asked for, if this event carried one. */
  readonly retry?: number;
}

/** Incremental parser: feed it decoded text chunks as they arrive. */
export class SseParser {
  readonly #onMessage: (message: SseMessage) => void;
  readonly #onComment: ((text: string) => void) | undefined;
  #buffer = '';
  #pendingCR = false;
  #data: string[] = [];
  #event = '';
  #lastId = '';
  #retry: number | undefined;

  constructor(onMessage: (message: SseMessage) => void, onComment?: (text: string) => void) {
    this.#onMessage = onMessage;
    this.#onComment = onComment;
  }

  /** The last event id seen. */
  get lastEventId(): string {
    return this.#lastId;
  }

  /** Parses a chunk; complete lines are interpreted, a trailing partial line is kept. */
  push(chunk: string): void {
    let text = chunk;
    // A CR at the end of the previous chunk already ended a line; skip the LF of a split CRLF.
    if (this.#pendingCR && text.startsWith('\n')) text = text.slice(1);
    this.#pendingCR = false;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.#line(this.#buffer + text.slice(start, i));
      this.#buffer = '';
      if (c === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else this.#pendingCR = true;
      }
      start = i + 1;
    }
    this.#buffer += text.slice(start);
  }

  /** Ends the stream: a partial event without its blank line is discarded, per the standard. */
  end(): void {
    this.#buffer = '';
    this.#data = [];
    this.#event = '';
    this.#retry = undefined;
  }

  #line(line: string): void {
    if (line === '') {
      this.#dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) {
      this.#onComment?.(line.slice(1).trimStart());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.#event = value;
        break;
      case 'data':
        this.#data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.#lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.#retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  #dispatch(): void {
    const data = this.#data;
    const event = this.#event;
    const retry = this.#retry;
    this.#data = [];
    this.#event = '';
    this.#retry = undefined;
    if (data.length === 0) return;
    const message: SseMessage = { event: event || 'message', data: data.join('\n'), id: this.#lastId };
    this.#onMessage(retry === undefined ? message : { ...message, retry });
  }
}
