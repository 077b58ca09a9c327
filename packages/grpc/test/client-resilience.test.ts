/**
 * The Weft client's resilience against real grpc-js servers on loopback: retries (what is retried,
 * for which methods, under which markers), deadlines, circuit breaking, outlier ejection, and the
 * streaming rule (retried only before the first response message).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  InterceptingCall,
  type Interceptor,
  Metadata,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  status as Status,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { Call, currentContext, deadlineExceeded, Header } from '@weft/core';
import {
  createGrpcClient,
  createGrpcServer,
  describeGrpcClient,
  type GrpcClientOptions,
  statusFromError,
  WEFT_ERROR_KEY,
} from '../src/index.ts';
import {
  closedPort,
  delay,
  type PayloadMsg,
  startGrpcServer,
  type TestClient,
  type TestServer,
  TestServiceClient,
  testServiceDefinition,
  unary,
} from './helpers.ts';

type Unary = (call: ServerUnaryCall<object, object>, callback: sendUnaryData<object>) => void;

interface Scripted {
  readonly server: TestServer;
  /** Calls received, by method. */
  readonly hits: { empty: number; unary: number; stream: number };
}

const servers: TestServer[] = [];
const clients: TestClient[] = [];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.close()));
});

/** A plain grpc-js TestService whose EmptyCall/UnaryCall answer with `unaryHandler`. */
async function scripted(
  unaryHandler: Unary,
  stream?: (call: ServerWritableStream<object, object>) => void,
): Promise<Scripted> {
  const hits = { empty: 0, unary: 0, stream: 0 };
  const server = await startGrpcServer((srv) =>
    srv.addService(testServiceDefinition, {
      emptyCall: (call: ServerUnaryCall<object, object>, cb: sendUnaryData<object>) => {
        hits.empty++;
        unaryHandler(call, cb);
      },
      unaryCall: (call: ServerUnaryCall<object, object>, cb: sendUnaryData<object>) => {
        hits.unary++;
        unaryHandler(call, cb);
      },
      streamingOutputCall: (call: ServerWritableStream<object, object>) => {
        hits.stream++;
        stream?.(call);
      },
    } as never),
  );
  servers.push(server);
  return { server, hits };
}

function client(service: string, endpoints: string[], options: GrpcClientOptions = {}): TestClient {
  const c = createGrpcClient(TestServiceClient, service, { endpoints, ...options });
  clients.push(c);
  return c;
}

const ok: Unary = (_call, cb) => cb(null, {});
const unavailable =
  (metadata?: Record<string, string>): Unary =>
  (_call, cb) => {
    const md = new Metadata();
    for (const [k, v] of Object.entries(metadata ?? {})) md.set(k, v);
    cb({ code: Status.UNAVAILABLE, details: 'down', metadata: md });
  };

const rejectsWith = (code: Status) => (err: ServiceError) => {
  assert.equal(err.code, code, `${Status[err.code]}: ${err.details}`);
  return true;
};

describe('retries', () => {
  test('UNAVAILABLE is retried on another endpoint for an idempotent method (proto option)', async () => {
    const bad = await scripted(unavailable());
    const good = await scripted(ok);
    const c = client('idem', [bad.server.endpoint, good.server.endpoint], {
      balancer: 'round-robin',
      outlierDetection: false,
      circuitBreaker: false,
      retry: { backoffInitialMs: 0 },
    });
    // EmptyCall is declared `idempotency_level = IDEMPOTENT` in test.proto.
    for (let i = 0; i < 10; i++) await unary(c, 'emptyCall', {});
    assert.ok(bad.hits.empty >= 4, `the failing endpoint was tried (${bad.hits.empty})`);
    assert.equal(good.hits.empty, 10);
  });

  test('UNAVAILABLE is not retried for a method not declared idempotent, unless declared in options', async () => {
    const bad = await scripted(unavailable());
    const c = client('non-idem', [bad.server.endpoint], {
      circuitBreaker: false,
      retry: { backoffInitialMs: 0 },
    });
    await assert.rejects(unary(c, 'unaryCall', {}), rejectsWith(Status.UNAVAILABLE));
    assert.equal(bad.hits.unary, 1);
    const declared = client('declared', [bad.server.endpoint], {
      idempotentMethods: ['UnaryCall'],
      circuitBreaker: false,
      retry: { backoffInitialMs: 0 },
    });
    await assert.rejects(unary(declared, 'unaryCall', {}), rejectsWith(Status.UNAVAILABLE));
    assert.equal(bad.hits.unary, 1 + 3, 'declared idempotent: up to maxAttempts');
  });

  test('a weft-rejected call is retried whatever the method; weft-no-retry never is', async () => {
    const shedding = await scripted(unavailable({ [Header.rejected]: '1' }));
    const good = await scripted(ok);
    const c = client('rejected', [shedding.server.endpoint, good.server.endpoint], {
      balancer: 'round-robin',
      outlierDetection: false,
      circuitBreaker: false,
      retry: { backoffInitialMs: 0 },
    });
    for (let i = 0; i < 10; i++) await unary(c, 'unaryCall', {});
    assert.ok(shedding.hits.unary >= 4);
    assert.equal(good.hits.unary, 10);

    const exhausted = await scripted(unavailable({ [Header.noRetry]: '1' }));
    const d = client('no-retry', [exhausted.server.endpoint], { circuitBreaker: false });
    await assert.rejects(unary(d, 'emptyCall', {}), rejectsWith(Status.UNAVAILABLE));
    assert.equal(exhausted.hits.empty, 1, 'even an idempotent method is not retried');
  });

  test('a refused connection is retried on another endpoint, even for a non-idempotent method', async () => {
    const good = await scripted(ok);
    const dead = `127.0.0.1:${await closedPort()}`;
    const c = client('refused', [dead, good.server.endpoint], {
      balancer: 'round-robin',
      outlierDetection: false,
      circuitBreaker: false,
      retry: { backoffInitialMs: 0 },
    });
    for (let i = 0; i < 10; i++) await unary(c, 'unaryCall', {});
    assert.equal(good.hits.unary, 10);
  });

  test('admission control of a Weft server sheds with a retryable rejection that moves the call', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const busy = createGrpcServer({ concurrency: 1 });
    let busyHits = 0;
    busy.addService(testServiceDefinition, {
      unaryCall: async (_call: unknown, cb: sendUnaryData<object>) => {
        busyHits++;
        await held;
        cb(null, {});
      },
    } as never);
    const busyPort = await busy.listen('127.0.0.1:0');
    const good = await scripted(ok);
    const c = client('admission', [`127.0.0.1:${busyPort}`], { circuitBreaker: false, retry: false });
    const first = unary(c, 'unaryCall', {});
    await delay(50);
    await assert.rejects(unary(c, 'unaryCall', {}), (err: ServiceError) => {
      assert.equal(err.code, Status.UNAVAILABLE);
      assert.deepEqual(err.metadata.get(Header.rejected), ['1']);
      return true;
    });
    assert.equal(busy.runtime.shed.concurrency, 1);
    const both = client('admission-2', [`127.0.0.1:${busyPort}`, good.server.endpoint], {
      balancer: 'round-robin',
      circuitBreaker: false,
      outlierDetection: false,
      retry: { backoffInitialMs: 0 },
    });
    for (let i = 0; i < 6; i++) await unary(both, 'unaryCall', {});
    assert.equal(good.hits.unary, 6, 'every shed call moved to the free endpoint');
    assert.equal(busyHits, 1, 'the handler never ran for a shed call');
    release();
    await first;
    await busy.drain();
  });
});

describe('deadlines', () => {
  test('a per-call deadline ends the call with DEADLINE_EXCEEDED, not retried; the server sees it', async () => {
    let serverRemaining = 0;
    const weft = createGrpcServer();
    let hits = 0;
    weft.addService(testServiceDefinition, {
      emptyCall: (_call: unknown, cb: sendUnaryData<object>) => {
        hits++;
        const ctx = currentContext();
        serverRemaining = (ctx?.deadline ?? 0) - performance.now();
        setTimeout(() => cb(null, {}), 500).unref();
      },
    } as never);
    const port = await weft.listen('127.0.0.1:0');
    const c = client('deadline', [`127.0.0.1:${port}`], { circuitBreaker: false });
    const start = performance.now();
    await assert.rejects(
      unary(c, 'emptyCall', {}, { deadline: Date.now() + 150 }),
      rejectsWith(Status.DEADLINE_EXCEEDED),
    );
    const took = performance.now() - start;
    assert.ok(took >= 140 && took < 450, `ended at the deadline (${took.toFixed(0)} ms)`);
    assert.equal(hits, 1);
    assert.ok(
      serverRemaining > 50 && serverRemaining <= 150,
      `server deadline ${serverRemaining.toFixed(0)} ms`,
    );
    await weft.drain();
  });

  test("the stack's deadline error names a gRPC method once", () => {
    const path = '/grpc.testing.TestService/EmptyCall';
    const status = statusFromError(deadlineExceeded(new Call('svc', path, path, {})));
    assert.equal(status.details, `deadline exceeded calling svc ${path}`);
  });

  test('the client timeoutMs applies when the call gives none', async () => {
    const slow = await scripted((_call, cb) => setTimeout(() => cb(null, {}), 400).unref());
    const c = client('timeout', [slow.server.endpoint], { timeoutMs: 100, circuitBreaker: false });
    await assert.rejects(unary(c, 'emptyCall', {}), (err: ServiceError) => {
      assert.equal(err.code, Status.DEADLINE_EXCEEDED);
      assert.deepEqual(err.metadata.get(WEFT_ERROR_KEY), ['WEFT_DEADLINE_EXCEEDED']);
      // The method is named once (a gRPC method is its path).
      assert.equal(err.details, 'deadline exceeded calling timeout /grpc.testing.TestService/EmptyCall');
      return true;
    });
  });
});

describe('breaker and outlier detection', () => {
  test('the breaker opens on failures and fails fast with WEFT_CIRCUIT_OPEN', async () => {
    const failing = await scripted((_call, cb) => cb({ code: Status.INTERNAL, details: 'boom' }));
    const c = client('breaker', [failing.server.endpoint], {
      circuitBreaker: { volumeThreshold: 5, errorThresholdPercent: 50, resetTimeoutMs: 60_000 },
      outlierDetection: false,
    });
    let open: ServiceError | undefined;
    for (let i = 0; i < 20 && !open; i++) {
      const err = (await unary(c, 'unaryCall', {}).catch((e) => e)) as ServiceError;
      if (err.metadata.get(WEFT_ERROR_KEY)[0] === 'WEFT_CIRCUIT_OPEN') open = err;
      else assert.equal(err.code, Status.INTERNAL);
    }
    assert.ok(open, 'the breaker opened');
    assert.equal(open.code, Status.UNAVAILABLE);
    const before = failing.hits.unary;
    await unary(c, 'unaryCall', {}).catch(() => {});
    assert.equal(failing.hits.unary, before, 'no call reached the server while open');
  });

  test('an endpoint failing in a row is ejected; traffic goes to the healthy one', async () => {
    const failing = await scripted((_call, cb) => cb({ code: Status.INTERNAL, details: 'boom' }));
    const good = await scripted(ok);
    const setup = {
      balancer: 'round-robin' as const,
      circuitBreaker: false as const,
      outlierDetection: { consecutiveFailures: 3 },
    };
    const c = client('outlier', [failing.server.endpoint, good.server.endpoint], setup);
    for (let i = 0; i < 20; i++) await unary(c, 'unaryCall', {}).catch(() => {});
    assert.equal(failing.hits.unary, 3, 'ejected after 3 consecutive failures');
    assert.equal(good.hits.unary, 17);
  });
});

describe('streams', () => {
  test('a server stream is retried before its first message, not after', async () => {
    const refusing = await scripted(ok, (call) =>
      call.emit('error', { code: Status.UNAVAILABLE, details: 'down' }),
    );
    const good = await scripted(ok, (call) => {
      call.write({ payload: { body: Buffer.alloc(3) } });
      call.end();
    });
    const c = client('stream-retry', [refusing.server.endpoint, good.server.endpoint], {
      balancer: 'round-robin',
      idempotentMethods: ['StreamingOutputCall'],
      circuitBreaker: false,
      outlierDetection: false,
      retry: { backoffInitialMs: 0 },
    });
    for (let i = 0; i < 4; i++) {
      const got: number[] = [];
      for await (const m of c.streamingOutputCall({})) got.push(m.payload.body.length);
      assert.deepEqual(got, [3]);
    }
    assert.ok(refusing.hits.stream >= 2);

    const midway = await scripted(ok, (call) => {
      call.write({ payload: { body: Buffer.alloc(1) } });
      setTimeout(() => call.emit('error', { code: Status.UNAVAILABLE, details: 'lost' }), 20);
    });
    const d = client('stream-midway', [midway.server.endpoint], {
      idempotentMethods: ['StreamingOutputCall'],
      circuitBreaker: false,
      retry: { backoffInitialMs: 0 },
    });
    const got: number[] = [];
    await assert.rejects(async () => {
      for await (const m of d.streamingOutputCall({}) as AsyncIterable<PayloadMsg>)
        got.push(m.payload.body.length);
    }, rejectsWith(Status.UNAVAILABLE));
    assert.deepEqual(got, [1], 'the first message was delivered');
    assert.equal(midway.hits.stream, 1, 'not retried after the first message');
  });

  test('cancelling a server stream cancels the handler and aborts its context signal', async () => {
    const weft = createGrpcServer();
    let aborted: Promise<unknown> | undefined;
    weft.addService(testServiceDefinition, {
      streamingOutputCall: (call: ServerWritableStream<object, object>) => {
        const signal = currentContext()!.signal!;
        aborted = new Promise((resolve) => signal.addEventListener('abort', () => resolve(signal.reason)));
        call.write({ payload: { body: Buffer.alloc(1) } });
      },
    } as never);
    const port = await weft.listen('127.0.0.1:0');
    const c = client('stream-cancel', [`127.0.0.1:${port}`]);
    const stream = c.streamingOutputCall({});
    const error = new Promise<ServiceError>((resolve) => stream.on('error', resolve));
    await new Promise((resolve) => stream.once('data', resolve));
    stream.cancel();
    assert.equal((await error).code, Status.CANCELLED);
    const reason = (await aborted) as { code: string };
    assert.equal(reason.code, 'WEFT_CANCELLED');
    await weft.drain();
  });
});

describe('interceptors', () => {
  test('interceptors given per call still run above the Weft stack', async () => {
    let seenHeader: string | undefined;
    const server = await scripted((call, cb) => {
      seenHeader = call.metadata.get('x-own')[0] as string | undefined;
      cb(null, {});
    });
    const counter = { attempts: 0 };
    const c = client('per-call', [server.server.endpoint], {
      stack: (stack) =>
        stack.insertAfter('endpoint', {
          role: 'count',
          description: 'count attempts (test)',
          params: {},
          make: (_params, next) => (call) => {
            counter.attempts++;
            return next(call);
          },
        }),
    });
    const own: Interceptor = (options, next) =>
      new InterceptingCall(next(options), {
        start(metadata, listener, nextStart) {
          metadata.set('x-own', 'yes');
          nextStart(metadata, listener);
        },
      });
    await unary(c, 'unaryCall', {}, { interceptors: [own] });
    assert.equal(seenHeader, 'yes', 'the per-call interceptor ran');
    assert.equal(counter.attempts, 1, 'the call went through the Weft stack');
  });
});

describe('policy from the config service', () => {
  test('a new policy applies to the next calls; an invalid one is refused and the old one kept', async () => {
    const bad = await scripted(unavailable());
    let policy: object | undefined;
    const listeners = new Set<(e: { revision: number }) => void>();
    let revision = 0;
    const source = {
      policy: () => policy as never,
      subscribe(listener: (e: { revision: number }) => void) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
    const publish = (next: object) => {
      policy = next;
      revision++;
      for (const l of listeners) l({ revision });
    };
    const c = client('configured', [bad.server.endpoint], {
      idempotentMethods: ['EmptyCall'],
      circuitBreaker: false,
      outlierDetection: false,
      retry: { backoffInitialMs: 0 },
      config: source,
    });
    await unary(c, 'emptyCall', {}).catch(() => {});
    assert.equal(bad.hits.empty, 3, 'retried up to maxAttempts');
    publish({ retry: { enabled: false } });
    await unary(c, 'emptyCall', {}).catch(() => {});
    assert.equal(bad.hits.empty, 4, 'the config service turned retries off');
    publish({ retry: { maxAttempts: 'many' } });
    const described = describeGrpcClient(c);
    assert.match(described?.rejectedConfig ?? '', /maxAttempts/);
    assert.equal(described?.policy.retry?.enabled, false, 'the last good policy stays');
    await unary(c, 'emptyCall', {}).catch(() => {});
    assert.equal(bad.hits.empty, 5);
    assert.deepEqual(
      described?.stack.map((m) => m.role),
      [
        'context',
        'telemetry',
        'stop',
        'route',
        'deadline',
        'fault',
        'breaker',
        'retry',
        'attempt',
        'balance',
        'endpoint',
      ],
    );
  });
});

describe('request streams', () => {
  /** A server whose client streams are shed (weft-rejected) before reading, or summed. */
  async function inputServer(shed: boolean) {
    const hits = { count: 0 };
    const server = await startGrpcServer((srv) =>
      srv.addService(testServiceDefinition, {
        streamingInputCall: (call: ServerReadableStream<PayloadMsg, object>, cb: sendUnaryData<object>) => {
          hits.count++;
          if (shed) {
            const md = new Metadata();
            md.set(Header.rejected, '1');
            cb({ code: Status.UNAVAILABLE, details: 'shed', metadata: md });
            return;
          }
          let total = 0;
          call.on('data', (m: PayloadMsg) => {
            total += m.payload.body.length;
          });
          call.on('end', () => cb(null, { aggregatedPayloadSize: total }));
        },
        fullDuplexCall: (call: ServerDuplexStream<object, object>) => {
          hits.count++;
          if (shed) {
            const md = new Metadata();
            md.set(Header.rejected, '1');
            call.emit('error', { code: Status.UNAVAILABLE, details: 'shed', metadata: md });
            return;
          }
          call.on('data', () => call.write({ payload: { body: Buffer.alloc(2) } }));
          call.on('end', () => call.end());
        },
      } as never),
    );
    servers.push(server);
    return { server, hits };
  }

  function sendStream(c: TestClient, sizes: number[]): Promise<number> {
    return new Promise((resolve, reject) => {
      const call = c.streamingInputCall((err: ServiceError | null, r: { aggregatedPayloadSize: number }) =>
        err ? reject(err) : resolve(r.aggregatedPayloadSize),
      );
      for (const n of sizes) call.write({ payload: { body: Buffer.alloc(n) } });
      call.end();
    });
  }

  test('a client stream shed before its response is replayed whole on another endpoint', async () => {
    const shedding = await inputServer(true);
    const good = await inputServer(false);
    const c = client('replay', [shedding.server.endpoint, good.server.endpoint], {
      balancer: 'round-robin',
      circuitBreaker: false,
      outlierDetection: false,
      retry: { backoffInitialMs: 0 },
    });
    for (let i = 0; i < 6; i++) assert.equal(await sendStream(c, [1000, 20, 300, 4000]), 5320);
    assert.ok(shedding.hits.count >= 3, `the shedding endpoint was tried (${shedding.hits.count})`);
    assert.equal(good.hits.count, 6);
  });

  test('a stream that wrote more than retryBufferBytes is not retried', async () => {
    const shedding = await inputServer(true);
    const c = client('replay-limit', [shedding.server.endpoint], {
      circuitBreaker: false,
      retryBufferBytes: 1000,
      retry: { backoffInitialMs: 0 },
    });
    await assert.rejects(sendStream(c, [600, 600]), rejectsWith(Status.UNAVAILABLE));
    assert.equal(shedding.hits.count, 1);
    const small = client('replay-small', [shedding.server.endpoint], {
      circuitBreaker: false,
      retry: { backoffInitialMs: 0 },
    });
    await assert.rejects(sendStream(small, [600, 600]), rejectsWith(Status.UNAVAILABLE));
    assert.equal(shedding.hits.count, 1 + 3, 'under the limit: retried up to maxAttempts');
  });

  test('a bidi stream is retried before its first response message', async () => {
    const shedding = await inputServer(true);
    const good = await inputServer(false);
    const c = client('bidi-replay', [shedding.server.endpoint, good.server.endpoint], {
      balancer: 'round-robin',
      circuitBreaker: false,
      outlierDetection: false,
      retry: { backoffInitialMs: 0 },
    });
    for (let i = 0; i < 4; i++) {
      const call = c.fullDuplexCall();
      call.write({});
      const first = await new Promise<PayloadMsg>((resolve) => call.once('data', resolve));
      assert.equal(first.payload.body.length, 2);
      call.end();
      for await (const _ of call);
    }
    assert.ok(shedding.hits.count >= 2);
    assert.equal(good.hits.count, 4);
  });
});
