/**
 * The server interceptor runs every handler event in the call's context: the deadline (gRPC's own)
 * and the trace reach handlers of all four call shapes, including stream `data` handlers, and a
 * call whose deadline has already passed never reaches its handler.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Metadata,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { currentContext } from '@weft/core';
import { createGrpcClient, createGrpcServer, type WeftGrpcServer } from '../src/index.ts';
import { type TestClient, TestServiceClient, testServiceDefinition, unary } from './helpers.ts';

interface Seen {
  shape: string;
  remainingMs: number;
  traceparent: string | undefined;
}

const seen: Seen[] = [];
function record(shape: string): void {
  const ctx = currentContext();
  seen.push({
    shape,
    remainingMs: (ctx?.deadline ?? Number.NaN) - performance.now(),
    traceparent: ctx?.traceparent,
  });
}

let weft: WeftGrpcServer;
let client: TestClient;
before(async () => {
  weft = createGrpcServer();
  weft.addService(testServiceDefinition, {
    unaryCall: (_call: ServerUnaryCall<object, object>, cb: sendUnaryData<object>) => {
      record('unary');
      cb(null, {});
    },
    streamingOutputCall: (call: ServerWritableStream<object, object>) => {
      record('server-stream');
      call.end();
    },
    streamingInputCall: (call: ServerReadableStream<object, object>, cb: sendUnaryData<object>) => {
      call.on('data', () => record('client-stream data'));
      call.on('end', () => cb(null, {}));
    },
    fullDuplexCall: (call: ServerDuplexStream<object, object>) => {
      call.on('data', () => {
        record('bidi data');
        call.write({});
      });
      call.on('end', () => call.end());
    },
  } as never);
  const port = await weft.listen('127.0.0.1:0');
  client = createGrpcClient(TestServiceClient, 'shapes', { endpoints: [`127.0.0.1:${port}`] });
});
after(async () => {
  client.close();
  await weft.drain();
});

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('server context', () => {
  test('every call shape runs its handler events with the deadline and the trace', async () => {
    seen.length = 0;
    const md = () => {
      const m = new Metadata();
      m.set('traceparent', TRACEPARENT);
      return m;
    };
    const deadline = () => ({ deadline: Date.now() + 800 });
    await unary(client, 'unaryCall', {}, md(), deadline());
    for await (const _ of client.streamingOutputCall({}, md(), deadline()));
    await new Promise<void>((resolve, reject) => {
      const call = client.streamingInputCall(md(), deadline(), (err: Error | null) =>
        err ? reject(err) : resolve(),
      );
      call.write({});
      call.end();
    });
    const bidi = client.fullDuplexCall(md(), deadline());
    bidi.write({});
    await new Promise((resolve) => bidi.once('data', resolve));
    bidi.end();
    for await (const _ of bidi);

    assert.deepEqual(
      seen.map((s) => s.shape),
      ['unary', 'server-stream', 'client-stream data', 'bidi data'],
    );
    for (const s of seen) {
      assert.ok(
        // Generous below (a loaded machine may take a few hundred ms to connect and dispatch).
        s.remainingMs > 100 && s.remainingMs <= 800,
        `${s.shape}: ${s.remainingMs.toFixed(0)} ms left`,
      );
      // Without an OpenTelemetry SDK the inbound traceparent is what outbound calls forward.
      assert.equal(s.traceparent?.split('-')[1], TRACEPARENT.split('-')[1], `${s.shape}: trace`);
    }
  });

  test('a malformed traceparent is dropped and counted, not fatal', async () => {
    const before = weft.runtime.malformed;
    const m = new Metadata();
    m.set('traceparent', 'not-a-traceparent');
    seen.length = 0;
    await unary(client, 'unaryCall', {}, m);
    assert.equal(weft.runtime.malformed, before + 1);
    assert.equal(
      seen[0]?.traceparent?.includes('not-a'),
      undefined === seen[0]?.traceparent ? undefined : false,
    );
  });
});
