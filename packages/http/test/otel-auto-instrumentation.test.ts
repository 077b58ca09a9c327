/**
 * Weft beside OpenTelemetry's auto-instrumentation. Weft makes a CLIENT span per attempt and a
 * SERVER span per request itself; `@opentelemetry/instrumentation-undici` and
 * `@opentelemetry/instrumentation-http` (both in `getNodeAutoInstrumentations()`) would make a second
 * of each. These tests show the doubling with their defaults and that the documented settings
 * (docs/operations.md) leave one span per hop, with one trace across it.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { createClient, isWeftRequest } from '@weft/http';
import { installOtel, spans } from './chain-otel.ts';

let uninstall: () => Promise<void>;
before(() => {
  uninstall = installOtel();
});
after(() => uninstall());

/** A Weft server (Express) that reports the traceparent headers it received. */
async function weftServer() {
  // Imported here, after the instrumentation is enabled, so that its http patch sees Express load.
  const { default: express } = await import('express');
  const { weft } = await import('@weft/http/express');
  const mesh = weft({ drainSignals: false });
  const app = express()
    .use(mesh)
    .get('/', (req, res) => {
      res.json({ traceparent: req.headers.traceparent });
    });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  mesh.attach(server);
  return { endpoint: `127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => mesh.drain() };
}

async function oneCall(endpoint: string): Promise<{ traceparent: string }> {
  const client = createClient({ service: 'auto', endpoints: [endpoint] });
  try {
    return (await (await client.fetch('/')).json()) as { traceparent: string };
  } finally {
    await client.close();
  }
}

const count = (kind: SpanKind) => spans.getFinishedSpans().filter((s) => s.kind === kind).length;

describe('Weft with OpenTelemetry auto-instrumentation', () => {
  test('with their defaults, undici and http instrumentation double each hop', async () => {
    const undici = new UndiciInstrumentation();
    const http = new HttpInstrumentation();
    const server = await weftServer();
    try {
      spans.reset();
      await oneCall(server.endpoint);
      assert.equal(count(SpanKind.CLIENT), 2, "Weft's attempt span and undici instrumentation's");
      assert.equal(count(SpanKind.SERVER), 2, "Weft's server span and http instrumentation's");
    } finally {
      await server.close();
      undici.disable();
      http.disable();
    }
  });

  test('with the documented settings: one CLIENT and one SERVER span, one trace', async () => {
    const undici = new UndiciInstrumentation({ ignoreRequestHook: isWeftRequest });
    const http = new HttpInstrumentation({ disableIncomingRequestInstrumentation: true });
    const server = await weftServer();
    try {
      spans.reset();
      const seen = await oneCall(server.endpoint);
      const finished = spans.getFinishedSpans();
      const client = finished.filter((s) => s.kind === SpanKind.CLIENT);
      const serverSpans = finished.filter((s) => s.kind === SpanKind.SERVER);
      assert.equal(client.length, 1);
      assert.equal(serverSpans.length, 1);
      const [, traceId, spanId] = seen.traceparent.split('-');
      assert.equal(client[0]!.spanContext().traceId, traceId, 'the server saw the attempt span as parent');
      assert.equal(client[0]!.spanContext().spanId, spanId);
      assert.equal(serverSpans[0]!.spanContext().traceId, traceId, 'one trace across the hop');
      // Other undici traffic keeps its spans: once no Weft pool talks to that origin, a plain
      // request to it is instrumented again.
      spans.reset();
      const { request } = await import('undici');
      const r = await request(`http://${server.endpoint}/healthz`);
      await r.body.text();
      assert.equal(count(SpanKind.CLIENT), 1, 'a request outside Weft is still instrumented');
      assert.equal(isWeftRequest({ origin: 'http://example.invalid' }), false);
    } finally {
      await server.close();
      undici.disable();
      http.disable();
    }
  });
});
