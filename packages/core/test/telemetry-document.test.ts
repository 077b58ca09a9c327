/**
 * The `Telemetry` document: what the schema accepts and refuses (naming the field), and the
 * client's view of it (mesh and service documents kept apart, an invalid one changes nothing).
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigState, redactTelemetry, TelemetrySpec, validateDocument } from '@weft/core/config';

const issuesOf = (spec: unknown) => {
  const r = validateDocument({ kind: 'Telemetry', name: 'mesh', spec });
  assert.equal(r.ok, false, 'expected the document to be refused');
  return r.ok ? [] : r.issues;
};

describe('Telemetry schema', () => {
  test('accepts every field; header names are lower-cased; nothing is defaulted in the document', () => {
    const spec = TelemetrySpec.parse({
      traces: {
        endpoint: 'http://collector:4318/v1/traces',
        protocol: 'http/json',
        headers: { 'X-Team': 'shop', authorization: { fromEnv: 'WEFT_OTLP_AUTH' } },
        samplingRatio: 0.25,
      },
      metrics: { endpoint: 'https://collector/v1/metrics', exportIntervalMs: 5000, enabled: false },
      resourceAttributes: { 'deployment.environment.name': 'prod', 'shard.count': 3, canary: true },
    });
    assert.deepEqual(spec.traces?.headers, {
      'x-team': 'shop',
      authorization: { fromEnv: 'WEFT_OTLP_AUTH' },
    });
    assert.equal(
      spec.metrics?.protocol,
      undefined,
      'defaults are the package’s, so a service document can fall back to mesh',
    );
    assert.deepEqual(TelemetrySpec.parse({}), {});
  });

  test('refuses unknown keys and bad values, naming the field', () => {
    assert.match(issuesOf({ traces: { url: 'http://x' } }).join('\n'), /^spec\.traces: .*url/m);
    assert.match(issuesOf({ tracing: {} }).join('\n'), /^spec: .*tracing/m);
    assert.match(
      issuesOf({ traces: { endpoint: 'grpc://x:4317' } }).join('\n'),
      /^spec\.traces\.endpoint: must be an http\(s\) URL/m,
    );
    assert.match(
      issuesOf({ traces: { protocol: 'grpc' } }).join('\n'),
      /^spec\.traces\.protocol: must be one of http\/protobuf, http\/json/m,
    );
    assert.match(
      issuesOf({ traces: { samplingRatio: 1.5 } }).join('\n'),
      /^spec\.traces\.samplingRatio: must be from 0 to 1/m,
    );
    assert.match(
      issuesOf({ metrics: { exportIntervalMs: 10 } }).join('\n'),
      /^spec\.metrics\.exportIntervalMs: must be from 1000/m,
    );
    assert.match(
      issuesOf({ metrics: { headers: { 'x-a': 'a\r\nb' } } }).join('\n'),
      /^spec\.metrics\.headers\.x-a: /m,
    );
    assert.match(
      issuesOf({ resourceAttributes: { 'service.name': 'other' } }).join('\n'),
      /resourceAttributes.*service\.name.*set by the process itself/,
    );
  });

  test('fromEnv may only name WEFT_OTLP_… variables, so a document cannot read the process’s token', () => {
    const bad = issuesOf({ traces: { headers: { authorization: { fromEnv: 'WEFT_TOKEN' } } } }).join('\n');
    assert.match(
      bad,
      /^spec\.traces\.headers\.authorization\.fromEnv: must name an environment variable starting with WEFT_OTLP_/m,
    );
    assert.match(
      issuesOf({ traces: { headers: { a: { fromEnv: 'WEFT_OTLP_A', extra: 1 } } } }).join('\n'),
      /headers\.a/,
    );
  });
});

describe('Telemetry in describe() output', () => {
  test('literal header values are redacted, fromEnv names and everything else kept', () => {
    const spec = TelemetrySpec.parse({
      traces: {
        endpoint: 'http://c/v1/traces',
        headers: { 'x-key': 'sk-live-1', auth: { fromEnv: 'WEFT_OTLP_AUTH' } },
      },
      metrics: { exportIntervalMs: 5000 },
    });
    assert.deepEqual(redactTelemetry(spec), {
      traces: {
        endpoint: 'http://c/v1/traces',
        headers: { 'x-key': '(redacted)', auth: { fromEnv: 'WEFT_OTLP_AUTH' } },
      },
      metrics: { exportIntervalMs: 5000 },
    });
    assert.equal(spec.traces?.headers?.['x-key'], 'sk-live-1', 'the spec itself is left as it was');
  });
});

describe('Telemetry in the client state', () => {
  const doc = (name: string, spec: unknown, revision: number) => ({
    kind: 'Telemetry' as const,
    name,
    spec: spec as TelemetrySpec,
    revision,
    createRevision: revision,
  });

  test('keeps mesh and service documents apart; deletes them; skips an invalid one keeping the last', () => {
    const state = new ConfigState();
    state.load({
      storeId: 's',
      revision: 2,
      documents: [
        doc('mesh', { traces: { samplingRatio: 0.5 } }, 1),
        doc('orders', { metrics: { exportIntervalMs: 2000 } }, 2),
      ],
      instances: [],
    });
    assert.equal(state.telemetry('mesh')?.traces?.samplingRatio, 0.5);
    assert.equal(state.telemetry('orders')?.metrics?.exportIntervalMs, 2000);
    state.apply({
      revision: 3,
      at: new Date(0).toISOString(),
      changes: [{ op: 'put', document: doc('mesh', { traces: { samplingRatio: 7 } }, 3) }],
    });
    assert.equal(state.telemetry('mesh')?.traces?.samplingRatio, 0.5, 'the invalid document is skipped');
    assert.match(state.problems.join('\n'), /Telemetry\/mesh: spec\.traces\.samplingRatio/);
    state.apply({
      revision: 4,
      at: new Date(0).toISOString(),
      changes: [{ op: 'delete', kind: 'Telemetry', name: 'orders' }],
    });
    assert.equal(state.telemetry('orders'), undefined);
    assert.deepEqual([...state.telemetries().keys()], ['mesh']);
  });
});
