import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { propertyRuns as fuzz } from '@weft/core/testing';
import fc from 'fast-check';
import {
  DOCUMENT_KINDS,
  hostIssue,
  InstanceRegistration,
  NAME_PATTERN,
  normalizeHost,
  readSnapshotCache,
  type SseMessage,
  SseParser,
  serviceNameIssue,
  validateDocument,
} from '../src/config/index.ts';

/** Strings near the edge of the name and host rules: DNS-ish pieces joined with risky characters. */
const nearName = fc
  .array(
    fc.oneof(
      fc.stringMatching(/^[a-z0-9-]{0,8}$/),
      fc.constantFrom('.', '..', '-', ':', '/', '@', ' ', '\r\n', '[', ']', '%2e', 'A', '_', '\u0000', 'é'),
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(''));

test('service and document names: the checker and NAME_PATTERN agree, and no accepted name has an empty label', () => {
  fc.assert(
    fc.property(fc.oneof(nearName, fc.domain(), fc.string({ maxLength: 20 })), (name) => {
      const ok = serviceNameIssue(name) === undefined;
      assert.equal(ok, NAME_PATTERN.test(name), JSON.stringify(name));
      if (ok) assert.ok(!name.split('.').includes('') && name.length <= 253);
    }),
    fuzz(10),
  );
  assert.equal(serviceNameIssue('a'.repeat(63)), undefined);
  assert.notEqual(serviceNameIssue('a'.repeat(64)), undefined);
  assert.notEqual(serviceNameIssue(`${'a.'.repeat(126)}ab`), undefined, '254 characters');
});

test('hosts: an accepted host can be dialled as it is (URL host, no port, path or userinfo smuggled in)', () => {
  const host = fc.oneof(
    fc.ipV4(),
    fc.ipV6(),
    fc.ipV6().map((a) => `[${a}]`),
    fc.domain(),
    nearName,
    fc.string({ unit: 'binary', maxLength: 30 }),
  );
  fc.assert(
    fc.property(host, (h) => {
      if (hostIssue(h) !== undefined) return;
      const bare = normalizeHost(h);
      const url = new URL(`http://${isIPv6(bare) ? `[${bare}]` : bare}:8080/x`);
      assert.equal(url.port, '8080', h);
      assert.equal(url.pathname, '/x', h);
      assert.equal(url.username, '', h);
    }),
    fuzz(10),
  );
  fc.assert(
    fc.property(fc.ipV4(), fc.ipV6(), fc.domain(), (a, b, c) => [a, b, c].every((x) => !hostIssue(x))),
    fuzz(),
  );
});

test('registrations: parsed or refused with issues naming a field, never thrown', () => {
  const body = fc.oneof(
    fc.jsonValue(),
    fc.record(
      {
        id: fc.oneof(fc.string({ maxLength: 20 }), nearName),
        address: fc.oneof(fc.ipV4(), fc.domain(), nearName, fc.jsonValue()),
        port: fc.oneof(fc.integer({ min: -2, max: 70_000 }), fc.double(), fc.string()),
        labels: fc.oneof(
          fc.dictionary(nearName, fc.oneof(fc.string({ unit: 'binary', maxLength: 10 }), fc.nat())),
          fc.jsonValue(),
        ),
        weight: fc.oneof(fc.double(), fc.nat()),
        ttlMs: fc.integer(),
      },
      { requiredKeys: [] },
    ),
  );
  fc.assert(
    fc.property(body, (b) => {
      const r = InstanceRegistration.safeParse(b);
      if (!r.success) {
        assert.ok(r.error.issues.length > 0);
        return;
      }
      assert.equal(hostIssue(r.data.address), undefined);
      assert.ok(!r.data.address.startsWith('['));
      for (const v of Object.values(r.data.labels ?? {})) assert.ok(!/[\r\n\0]/.test(v));
    }),
    fuzz(5),
  );
});

test('every config document kind: valid documents validate again to themselves; invalid ones give field issues', () => {
  for (const [kind, schema] of Object.entries(DOCUMENT_KINDS)) {
    const keys = Object.keys((schema as unknown as { shape: Record<string, unknown> }).shape);
    const spec = fc.oneof(
      fc.dictionary(fc.constantFrom(...keys, 'unknownField'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
      fc.dictionary(
        fc.constantFrom(...keys),
        fc.oneof(fc.integer(), fc.dictionary(fc.string(), fc.integer())),
        {
          maxKeys: 3,
        },
      ),
      fc.jsonValue({ maxDepth: 3 }),
    );
    const doc = fc.oneof(
      fc.record(
        { kind: fc.constantFrom(kind, 'Nope'), name: fc.oneof(fc.domain(), nearName), spec },
        { requiredKeys: ['kind'] },
      ),
      fc.jsonValue({ maxDepth: 3 }),
    );
    fc.assert(
      fc.property(doc, (d) => {
        const r = validateDocument(d, 'documents.0');
        if (r.ok) {
          const again = validateDocument(r.document);
          assert.ok(again.ok);
          assert.deepEqual(again.document, r.document);
          assert.equal(serviceNameIssue(r.document.name), undefined);
        } else {
          assert.ok(r.issues.length > 0);
          for (const issue of r.issues) assert.match(issue, /^documents\.0(\.[^:]+)?: \S/);
        }
      }),
      fuzz(5),
    );
  }
});

/** Serializes events with a chosen line ending; returns the text and the messages it must give. */
const sseStream = fc
  .tuple(
    fc.array(
      fc.record({
        event: fc.option(fc.stringMatching(/^[a-z]{1,8}$/), { nil: undefined }),
        data: fc.array(
          fc.string({ maxLength: 20 }).filter((s) => !/[\r\n]/.test(s)),
          { minLength: 1, maxLength: 3 },
        ),
        id: fc.option(fc.stringMatching(/^[a-z0-9.]{1,10}$/), { nil: undefined }),
        comment: fc.option(fc.stringMatching(/^[a-z ]{0,10}$/), { nil: undefined }),
      }),
      { maxLength: 6 },
    ),
    fc.constantFrom('\n', '\r\n', '\r'),
  )
  .map(([events, eol]) => {
    let text = '';
    let lastId = '';
    const expected: SseMessage[] = [];
    for (const e of events) {
      if (e.comment !== undefined) text += `:${e.comment}${eol}`;
      if (e.event) text += `event: ${e.event}${eol}`;
      if (e.id !== undefined) {
        text += `id: ${e.id}${eol}`;
        lastId = e.id;
      }
      for (const d of e.data) text += `data: ${d}${eol}`;
      text += eol;
      expected.push({ event: e.event || 'message', data: e.data.join('\n'), id: lastId });
    }
    return { text, expected };
  });

function parse(chunks: string[]): SseMessage[] {
  const out: SseMessage[] = [];
  const p = new SseParser((m) => out.push(m));
  for (const c of chunks) p.push(c);
  return out;
}

function split(text: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const chunks: string[] = [];
  let from = 0;
  for (const c of at) {
    chunks.push(text.slice(from, c));
    from = c;
  }
  chunks.push(text.slice(from));
  return chunks;
}

test('SSE parser: the events of a stream, however it is cut into chunks; junk never throws', () => {
  fc.assert(
    fc.property(sseStream, fc.array(fc.nat(), { maxLength: 10 }), ({ text, expected }, cuts) => {
      assert.deepEqual(parse([text]), expected);
      assert.deepEqual(parse(split(text, cuts)), expected);
    }),
    fuzz(5),
  );
  fc.assert(
    fc.property(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (text, cuts) => {
        assert.deepEqual(parse(split(text, cuts)), parse([text]));
      },
    ),
    fuzz(5),
  );
});

const dir = mkdtempSync(join(tmpdir(), 'weft-fuzz-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('config cache files: a damaged or foreign file reads as no cache, never a throw', async () => {
  const file = join(dir, 'config.json');
  const content = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 100 }),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc
      .record(
        {
          format: fc.constantFrom('weft-config-cache/1', 'other'),
          storeId: fc.oneof(fc.string(), fc.integer()),
          revision: fc.oneof(fc.integer(), fc.double(), fc.string()),
          documents: fc.oneof(fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 2 }), fc.jsonValue()),
          instances: fc.oneof(fc.constant([]), fc.jsonValue()),
        },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v)),
  );
  await fc.assert(
    fc.asyncProperty(content, async (text) => {
      writeFileSync(file, text);
      const snap = await readSnapshotCache(file);
      if (snap === undefined) return;
      assert.equal(typeof snap.storeId, 'string');
      assert.ok(Number.isSafeInteger(snap.revision));
      assert.ok(Array.isArray(snap.documents) && Array.isArray(snap.instances));
    }),
    fuzz(1, true),
  );
});
