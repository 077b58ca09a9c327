/**
 * The server stack is one stack for every protocol: a module written once runs in an Express, a
 * Fastify and a gRPC server, inserted by role the same way, and its refusal reaches each client as
 * that protocol's reply; admission samples follow one rule; bad stack edits are refused; the admin
 * document shows the stack. Real servers on 127.0.0.1 port 0, virtual time for the deadlines.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import {
  Metadata,
  type ServerUnaryCall,
  type ServiceError,
  status as Status,
  type sendUnaryData,
} from '@grpc/grpc-js';
import {
  ErrorCode,
  Header,
  type ServerModule,
  ServerRejection,
  type ServerRuntimeBase,
  type ServerStack,
  WeftError,
} from '@weft/core';
import { VirtualClock } from '@weft/core/testing';
import { weft as weftExpress } from '@weft/http/express';
import { weft as weftFastify } from '@weft/http/fastify';
import express from 'express';
import Fastify from 'fastify';
import { request } from 'undici';
import { createGrpcServer } from '../src/index.ts';
import { type TestClient, TestServiceClient } from './helpers.ts';

// The module under test, defined once for all three servers: it counts the calls it sees and
// refuses those carrying `x-block` — `1` as a denial, `busy` as a retryable shed.
let seenByModule = 0;
const blockModule: ServerModule<{ header: string }> = {
  role: 'block',
  description: 'count calls; refuse those carrying x-block',
  params: { header: 'x-block' },
  needs: ['deadline'],
  make: (params, next) => (call) => {
    seenByModule++;
    const value = call.header(params.header);
    if (value === '1') throw new WeftError(ErrorCode.PermissionDenied, 'blocked by x-block');
    if (value === 'busy')
      throw new ServerRejection(ErrorCode.Rejected, 'busy by x-block', { reason: 'blocked' });
    next(call);
  },
};
const withBlock = (s: ServerStack) => s.insertAfter('admission', blockModule);

type Kind = 'express' | 'fastify' | 'grpc';
const KINDS: readonly Kind[] = ['express', 'fastify', 'grpc'];
type Scenario = 'ok' | 'missing' | 'fail' | 'slow' | 'hang';

/** What the client saw: an HTTP status, or a gRPC code (0 for OK), and the Weft markers. */
interface Answer {
  status: number;
  rejected: boolean;
  noRetry: boolean;
}

interface Harness {
  readonly runtime: ServerRuntimeBase & { describe(): object };
  /** Handler runs, by scenario. */
  readonly ran: Record<string, number>;
  /** The HTTP server's base URL (undefined for gRPC). */
  readonly url?: string;
  call(scenario: Scenario, headers?: Record<string, string>, signal?: AbortSignal): Promise<Answer>;
  close(): Promise<void>;
}

interface Options {
  stack?: (s: ServerStack) => ServerStack;
  clock?: VirtualClock;
  adminPath?: string;
}

/** Holds `hang` handlers until the test lets them go. */
let releaseHung: () => void = () => {};
let hung = Promise.resolve();
let hangStarted: () => void = () => {};

async function runScenario(scenario: Scenario, clock: VirtualClock | undefined): Promise<number> {
  if (scenario === 'slow') await clock?.advance(2000);
  if (scenario === 'hang') {
    hangStarted();
    await hung;
  }
  return { ok: 200, missing: 404, fail: 500, slow: 200, hang: 200 }[scenario];
}

const GRPC_CODE: Record<number, Status> = { 200: Status.OK, 404: Status.NOT_FOUND, 500: Status.INTERNAL };

async function start(kind: Kind, options: Options): Promise<Harness> {
  const ran: Record<string, number> = {};
  const handle = (scenario: Scenario) => {
    ran[scenario] = (ran[scenario] ?? 0) + 1;
    return runScenario(scenario, options.clock);
  };
  const serverOptions = { drainSignals: false as const, ...options };
  if (kind === 'grpc') {
    const grpc = createGrpcServer({ ...serverOptions, health: false });
    grpc.addService(TestServiceClient.service, {
      unaryCall: async (call: ServerUnaryCall<object, object>, cb: sendUnaryData<object>) => {
        const status = await handle(String(call.metadata.get('x-scenario')[0]) as Scenario);
        if (status === 200) cb(null, {});
        else cb({ code: GRPC_CODE[status], details: 'scenario' });
      },
    } as never);
    const port = await grpc.listen('127.0.0.1:0');
    const client: TestClient = new TestServiceClient(
      `127.0.0.1:${port}`,
      (await import('@grpc/grpc-js')).credentials.createInsecure(),
    );
    return {
      runtime: grpc.runtime,
      ran,
      call: (scenario, headers = {}, signal) =>
        new Promise((resolve) => {
          const md = new Metadata();
          md.set('x-scenario', scenario);
          for (const [k, v] of Object.entries(headers)) md.set(k, v);
          const unary = client.unaryCall({}, md, (err: ServiceError | null) => {
            const trailers = err?.metadata;
            resolve({
              status: err ? err.code : Status.OK,
              rejected: trailers?.get(Header.rejected)[0] === '1',
              noRetry: trailers?.get(Header.noRetry)[0] === '1',
            });
          });
          signal?.addEventListener('abort', () => unary.cancel());
        }),
      async close() {
        client.close();
        grpc.server.forceShutdown();
      },
    };
  }
  let server: Server;
  let runtime: Harness['runtime'];
  let closeApp: () => Promise<void>;
  if (kind === 'express') {
    const app = express();
    const mesh = weftExpress(serverOptions);
    app.use(mesh);
    app.get('/:scenario', async (req, res) => {
      res.status(await handle(req.params.scenario as Scenario)).send('done');
    });
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    runtime = mesh.runtime;
    closeApp = () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
  } else {
    const app = Fastify();
    await app.register(weftFastify, serverOptions);
    app.get('/:scenario', async (req, reply) => {
      reply.code(await handle((req.params as { scenario: Scenario }).scenario));
      return 'done';
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    server = app.server;
    runtime = app.weft.runtime;
    closeApp = async () => {
      const closing = app.close();
      app.server.closeAllConnections();
      await closing;
    };
  }
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    runtime,
    ran,
    url,
    async call(scenario, headers = {}, signal) {
      try {
        const res = await request(`${url}/${scenario}`, { headers, signal: signal ?? null });
        await res.body.text();
        return {
          status: res.statusCode,
          rejected: res.headers[Header.rejected] === '1',
          noRetry: res.headers[Header.noRetry] === '1',
        };
      } catch {
        return { status: -1, rejected: false, noRetry: false };
      }
    },
    close: closeApp,
  };
}

const harnesses: Harness[] = [];
after(async () => {
  await Promise.all(harnesses.map((h) => h.close()));
});
async function server(kind: Kind, options: Options): Promise<Harness> {
  const h = await start(kind, options);
  harnesses.push(h);
  return h;
}

const PERMISSION_DENIED: Record<Kind, number> = {
  express: 403,
  fastify: 403,
  grpc: Status.PERMISSION_DENIED,
};
const SHED: Record<Kind, number> = { express: 503, fastify: 503, grpc: Status.UNAVAILABLE };
const OK: Record<Kind, number> = { express: 200, fastify: 200, grpc: Status.OK };

describe('one server module, inserted by role, in every server', () => {
  for (const kind of KINDS) {
    test(`${kind}: it runs for every call; its refusals reach the client as ${kind === 'grpc' ? 'gRPC codes' : 'HTTP replies'}; the handler never runs`, async () => {
      const h = await server(kind, { stack: withBlock });
      const before = seenByModule;
      assert.deepEqual(await h.call('ok'), { status: OK[kind], rejected: false, noRetry: false });
      const denied = await h.call('ok', { 'x-block': '1' });
      // A denial is never retried: another endpoint would decide the same.
      assert.deepEqual(denied, { status: PERMISSION_DENIED[kind], rejected: false, noRetry: true });
      const busy = await h.call('ok', { 'x-block': 'busy' });
      assert.deepEqual(busy, { status: SHED[kind], rejected: true, noRetry: false }, 'retryable elsewhere');
      assert.equal(seenByModule - before, 3, 'the module saw every call');
      assert.equal(h.ran.ok, 1, 'the handler ran only for the call the module let through');
      assert.equal(h.runtime.shed.permission_denied, 1);
      assert.equal(h.runtime.shed.blocked, 1);
      assert.equal(h.runtime.admission.snapshot().concurrency?.inflight, 0, 'every permit came back');
      assert.equal(h.runtime.drainState.inflight, 0);
    });
  }
});

describe('admission samples: one rule for HTTP and gRPC', () => {
  test('the same calls give the same samples on Express, Fastify and gRPC', async () => {
    const samples: Record<string, object> = {};
    for (const kind of KINDS) {
      const clock = new VirtualClock(1_000_000);
      const h = await server(kind, { stack: withBlock, clock });
      const deadline = { [Header.deadline]: '1000' };
      assert.equal((await h.call('ok', deadline)).status, OK[kind]);
      await h.call('missing', deadline); // the caller's fault (404, NOT_FOUND): a valid latency sample
      await h.call('fail', deadline); // the server's fault (500, INTERNAL): says nothing about load
      await h.call('slow', deadline); // answered after its deadline: the server is too slow
      await h.call('ok', { ...deadline, 'x-block': '1' }); // refused below admission: nothing
      // Abandoned by the client before its deadline: nothing.
      hung = new Promise((resolve) => {
        releaseHung = resolve;
      });
      const started = new Promise<void>((resolve) => {
        hangStarted = resolve;
      });
      const abort = new AbortController();
      const cancelled = h.call('hang', deadline, abort.signal);
      await started;
      abort.abort();
      await cancelled;
      while (h.runtime.admission.snapshot().concurrency?.inflight !== 0)
        await new Promise((r) => setTimeout(r, 5));
      releaseHung();
      samples[kind] = h.runtime.admission.snapshot().released;
    }
    const expected = { success: 2, dropped: 1, ignored: 3 };
    assert.deepEqual(samples, { express: expected, fastify: expected, grpc: expected });
  });
});

describe('stack edits are checked when the server is made', () => {
  const refused = (pattern: RegExp) => (e: { code?: string; message?: string }) => {
    assert.equal(e.code, 'WEFT_INVALID_OPTION');
    assert.match(String(e.message), pattern);
    return true;
  };
  const noContext = (s: ServerStack) => s.remove('context');
  const tooHigh = (s: ServerStack) => s.insertBefore('drain', blockModule);

  test('a stack without context is refused, for HTTP and gRPC alike', async () => {
    const message =
      /stack refused: the handler needs call\.context, but module context set it, and this edit takes it away/;
    assert.throws(() => weftExpress({ stack: noContext }), refused(message));
    assert.throws(() => createGrpcServer({ stack: noContext }), refused(message));
    const app = Fastify();
    app.register(weftFastify, { stack: noContext });
    await assert.rejects(async () => {
      await app.ready();
    }, refused(message));
    await app.close().catch(() => {});
  });

  test('a module above what it needs is refused, naming both', () => {
    const message =
      /stack refused: module block needs call\.deadline, but module deadline, which sets it, is below it/;
    assert.throws(() => weftExpress({ stack: tooHigh }), refused(message));
    assert.throws(() => createGrpcServer({ stack: tooHigh }), refused(message));
  });

  test('a misspelt stack option and a stack edit that returns no stack are refused', () => {
    assert.throws(
      () => weftExpress({ stak: withBlock } as never),
      refused(/no option "stak"; did you mean "stack"\?/),
    );
    assert.throws(
      () => createGrpcServer({ stak: withBlock } as never),
      refused(/no option "stak"; did you mean "stack"\?/),
    );
    assert.throws(
      () => weftExpress({ stack: (() => undefined) as never }),
      refused(/stack: must return the Stack it was given/),
    );
    assert.throws(
      () => createGrpcServer({ stack: 'default' as never }),
      refused(/stack: must be a function/),
    );
  });
});

describe('the admin document shows the server stack', () => {
  const roles = [
    'drain',
    'deadline',
    'switch',
    'admission',
    'block',
    'authorization',
    'telemetry',
    'context',
  ];

  test('HTTP adminPath and the gRPC runtime describe it, with the clients', async () => {
    for (const kind of ['express', 'fastify'] as const) {
      const h = await server(kind, { stack: withBlock, adminPath: '/weft/admin' });
      const res = await request(`${h.url}/weft/admin`);
      assert.equal(res.statusCode, 200);
      const admin = (await res.body.json()) as { server: { stack: { role: string }[] }; clients: unknown[] };
      assert.deepEqual(
        admin.server.stack.map((m) => m.role),
        roles,
      );
      assert.ok(Array.isArray(admin.clients));
    }
    const grpc = await server('grpc', { stack: withBlock });
    const described = grpc.runtime.describe() as {
      server: { protocol: string; stack: { role: string; description: string; params: object }[] };
      clients: unknown[];
    };
    assert.equal(described.server.protocol, 'grpc');
    assert.deepEqual(
      described.server.stack.map((m) => m.role),
      roles,
    );
    assert.deepEqual(described.server.stack[4], {
      role: 'block',
      description: 'count calls; refuse those carrying x-block',
      params: { header: 'x-block' },
    });
    assert.ok(Array.isArray(described.clients));
  });
});
