import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hostIssue } from '@weft/core/config';
import { propertyRuns as fuzz } from '@weft/core/testing';
import fc from 'fast-check';
import { type InProcessService, startInProcess } from './inproc.ts';
import { call, tempDir } from './service.ts';

const nearName = fc
  .array(
    fc.oneof(
      fc.stringMatching(/^[a-z0-9-]{0,6}$/),
      fc.constantFrom('.', '..', ':', '/', ' ', '\r\n', '%', '[', ']', 'A', '_', '\u0000', 'é', '?', '#'),
    ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join(''));
const host = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.domain(),
  nearName,
  fc.constantFrom('127.0.0.1:8080', 'http://10.0.0.1', '[::1]', '10.0.0.1\r\nx: y'),
  fc.jsonValue({ maxDepth: 1 }),
);
const registration = fc.oneof(
  { weight: 3, arbitrary: fc.record({ address: host, port: fc.integer({ min: 1, max: 65535 }) }) },
  fc.record(
    {
      id: fc.oneof(nearName, fc.string({ maxLength: 8 })),
      address: host,
      port: fc.oneof(fc.integer({ min: -1, max: 70_000 }), fc.double(), fc.string({ maxLength: 3 })),
      labels: fc.oneof(
        fc.dictionary(nearName, fc.oneof(fc.string({ unit: 'binary', maxLength: 8 }), fc.integer()), {
          maxKeys: 3,
        }),
        fc.jsonValue({ maxDepth: 1 }),
      ),
      weight: fc.oneof(fc.double(), fc.integer({ min: -1, max: 5 })),
      ttlMs: fc.oneof(fc.integer({ min: 0, max: 4_000_000 }), fc.double()),
      extra: fc.jsonValue({ maxDepth: 1 }),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 2 }),
);
/** The issue prefixes a registration may be refused with: each names a field of the request. */
const FIELD = /^(\(root\)|service|address|port|labels|id|weight|ttlMs|extra)[.:]/;

describe('registry, document and token input from anyone', () => {
  let svc: InProcessService;
  const dir = tempDir();
  before(async () => {
    // No reaper: a short lease expiring mid-property would change the state under the comparison.
    svc = await startInProcess({ reapIntervalMs: 1_000_000_000 });
  });
  after(async () => {
    await svc.close();
    dir.remove();
  });
  const state = async () => {
    const snap = (await call(svc.url, 'GET', '/v1/snapshot', { token: svc.token })).body;
    const tokens = (await call(svc.url, 'GET', '/v1/tokens', { token: svc.token })).body.tokens;
    return JSON.stringify({ snap, tokens });
  };

  test('registrations: 201/200, or a 400 whose issues name the field, and then nothing changed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ weight: 3, arbitrary: fc.constant('users') }, nearName),
        registration,
        async (service, body) => {
          const before = await state();
          const r = await call(svc.url, 'POST', `/v1/services/${encodeURIComponent(service)}/instances`, {
            token: svc.token,
            body,
          });
          if (r.status === 201 || r.status === 200) {
            const stored = r.body.instance;
            assert.equal(
              hostIssue(stored.address),
              undefined,
              `stored address ${JSON.stringify(stored.address)}`,
            );
            for (const v of Object.values(stored.labels)) assert.doesNotMatch(String(v), /[\r\n\0]/);
            const reread = await call(svc.url, 'GET', `/v1/services/${service}/endpoints`, {
              token: svc.token,
            });
            assert.ok(reread.body.instances.some((i: { id: string }) => i.id === stored.id));
            return;
          }
          assert.ok(r.status === 400 || r.status === 404, `status ${r.status}: ${JSON.stringify(r.body)}`);
          if (r.status === 400) {
            assert.ok(
              Array.isArray(r.body.error.issues) && r.body.error.issues.length > 0,
              JSON.stringify(r.body),
            );
            for (const issue of r.body.error.issues) assert.match(issue, FIELD);
          }
          assert.equal(await state(), before, 'a refused registration changed the state');
        },
      ),
      fuzz(1, true),
    );
  });

  test('documents and tokens: applied, or refused naming the field with nothing stored', async () => {
    const doc = fc.oneof(
      fc.record({
        kind: fc.constantFrom('DestinationPolicy', 'Route'),
        name: fc.oneof(fc.domain(), nearName),
        spec: fc.oneof(
          fc.record(
            { timeoutMs: fc.oneof(fc.integer({ min: -5, max: 100_000 }), fc.string()) },
            { requiredKeys: [] },
          ),
          fc.jsonValue({ maxDepth: 2 }),
        ),
      }),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const token = fc.record(
      {
        name: fc.oneof(nearName, fc.string({ maxLength: 8 })),
        role: fc.constantFrom('admin', 'service', 'root', 1),
        service: fc.oneof(nearName, fc.integer()),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(doc, { maxLength: 3 }), token, async (documents, t) => {
        const before = await state();
        const applied = await call(svc.url, 'POST', '/v1/apply', { token: svc.token, body: { documents } });
        if (applied.status !== 200) {
          assert.equal(applied.status, 400, JSON.stringify(applied.body));
          for (const issue of applied.body.error.issues ?? [applied.body.error.message])
            assert.match(issue, /^(documents(\.\d+)?(\.[^:]+)?|\(root\)|too_many)?.*: /);
          assert.equal(await state(), before, 'a refused apply changed the state');
        }
        const between = await state();
        const made = await call(svc.url, 'POST', '/v1/tokens', { token: svc.token, body: t });
        if (made.status !== 201) {
          assert.equal(made.status, 400);
          for (const issue of made.body.error.issues) assert.match(issue, /^(name|role|service|[^:]+): /);
          assert.equal(await state(), between, 'a refused token request changed the state');
        }
      }),
      fuzz(0.5, true),
    );
  });
});
