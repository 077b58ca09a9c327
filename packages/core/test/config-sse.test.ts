import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type SseMessage, SseParser } from '@weft/core/config';

function parse(chunks: string[]): { messages: SseMessage[]; comments: string[] } {
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  const p = new SseParser(
    (m) => messages.push(m),
    (c) => comments.push(c),
  );
  for (const c of chunks) p.push(c);
  return { messages, comments };
}

describe('SseParser', () => {
  test('dispatches on a blank line, joining data lines with newlines', () => {
    const { messages } = parse(['event: change\nid: s.1\ndata: a\ndata: b\n\n']);
    assert.deepEqual(messages, [{ event: 'change', data: 'a\nb', id: 's.1' }]);
  });

  test('accepts CRLF, LF and CR line endings, including CRLF split across chunks', () => {
    const { messages } = parse(['data: 1\r', '\n\r', '\ndata: 2\r\rdata: 3\n', '\n']);
    assert.deepEqual(
      messages.map((m) => m.data),
      ['1', '2', '3'],
    );
  });

  test('handles any split of the input into chunks identically', () => {
    const text = 'event: snapshot\nid: x.5\ndata: {"a":1}\n\n: ping\n\nevent: change\ndata:{"b":2}\n\n';
    const whole = parse([text]).messages;
    for (let i = 0; i <= text.length; i++) {
      assert.deepEqual(parse([text.slice(0, i), text.slice(i)]).messages, whole, `split at ${i}`);
    }
    assert.deepEqual(
      whole.map((m) => [m.event, m.data, m.id]),
      [
        ['snapshot', '{"a":1}', 'x.5'],
        ['change', '{"b":2}', 'x.5'],
      ],
    );
  });

  test('comments, unknown fields and events without data are not dispatched', () => {
    const { messages, comments } = parse([': ping\n\nfoo: bar\n\nevent: nothing\n\nretry: 250\ndata: x\n\n']);
    assert.deepEqual(comments, ['ping']);
    assert.deepEqual(messages, [{ event: 'message', data: 'x', id: '', retry: 250 }]);
  });

  test('strips exactly one leading space; a field without a colon has an empty value', () => {
    const { messages } = parse(['data:  two spaces\ndata\n\n']);
    assert.equal(messages[0]?.data, ' two spaces\n');
  });

  test('an id with NUL is ignored; a partial event at end() is dropped', () => {
    const p = new SseParser(() => assert.fail('nothing should dispatch'));
    p.push('id: a\0b\ndata: x');
    assert.equal(p.lastEventId, '');
    p.end();
    p.push('\n\n');
  });
});
