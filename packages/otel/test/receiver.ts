/**
 * An OTLP/HTTP receiver for the tests: a node:http server on port 0 that keeps every export request
 * (path, headers, body) and decodes the JSON ones. Protobuf bodies are kept as bytes: the strings
 * they carry (service names, attribute values) can be found in them without a decoder.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedExport {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The decoded body of an `application/json` export. */
  readonly json: OtlpJson | undefined;
  /** `Date.now()` when it arrived. */
  readonly at: number;
}

interface KeyValue {
  key: string;
  value: { stringValue?: string; intValue?: number | string; boolValue?: boolean; doubleValue?: number };
}
interface OtlpJson {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: { spans?: { traceId: string; spanId: string; name: string }[] }[];
  }[];
  resourceMetrics?: {
    resource?: { attributes?: KeyValue[] };
    scopeMetrics?: { metrics?: { name: string }[] }[];
  }[];
}

export interface ReceivedSpan {
  readonly traceId: string;
  readonly name: string;
  readonly resource: Record<string, unknown>;
}

export interface Receiver {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly exports: ReceivedExport[];
  /** Every span of every JSON trace export so far. */
  spans(): ReceivedSpan[];
  /** The export requests to `path` (`/v1/traces`, `/v1/metrics`). */
  at(path: string): ReceivedExport[];
  close(): Promise<void>;
}

const attributes = (list: KeyValue[] | undefined) =>
  Object.fromEntries(
    (list ?? []).map((a) => [
      a.key,
      a.value.stringValue ?? a.value.boolValue ?? a.value.doubleValue ?? Number(a.value.intValue),
    ]),
  );

export async function startReceiver(): Promise<Receiver> {
  const exports: ReceivedExport[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const isJson = req.headers['content-type']?.startsWith('application/json') ?? false;
    exports.push({
      path: req.url ?? '',
      headers: req.headers,
      body,
      json: isJson ? (JSON.parse(body.toString('utf8')) as OtlpJson) : undefined,
      at: Date.now(),
    });
    res.setHeader('content-type', isJson ? 'application/json' : 'application/x-protobuf');
    res.end(isJson ? '{}' : '');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    exports,
    at: (path) => exports.filter((e) => e.path === path),
    spans: () =>
      exports.flatMap((e) =>
        (e.json?.resourceSpans ?? []).flatMap((rs) =>
          (rs.scopeSpans ?? []).flatMap((ss) =>
            (ss.spans ?? []).map((s) => ({
              traceId: s.traceId,
              name: s.name,
              resource: attributes(rs.resource?.attributes),
            })),
          ),
        ),
      ),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The resource attributes of a JSON metrics export. */
export const metricResource = (e: ReceivedExport): Record<string, unknown> =>
  attributes(e.json?.resourceMetrics?.[0]?.resource?.attributes);

/** The metric names of a JSON metrics export. */
export const metricNames = (e: ReceivedExport): string[] =>
  (e.json?.resourceMetrics ?? []).flatMap((rm) =>
    (rm.scopeMetrics ?? []).flatMap((sm) => (sm.metrics ?? []).map((m) => m.name)),
  );

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Retries `check` until it passes or `ms` have gone by. */
export async function eventually(check: () => void | Promise<void>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > end) throw error;
      await delay(20);
    }
  }
}
