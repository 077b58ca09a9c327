/**
 * The CLI's input from anyone: files for `weft apply` and arbitrary argument lists, against a real
 * config service. Invariants: a document or a FileError naming file, document and field; an exit
 * status of 0, 1 or 2 with a message, never an unexpected error; a refused apply stores nothing.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ServiceProcess, startService, tempDir } from '@weft/control-plane/testing';
import { propertyRuns as fuzz } from '@weft/core/testing';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { FileError, parseDocuments } from '../src/files.ts';
import { main } from '../src/main.ts';

const nearName = fc
  .array(
    fc.oneof(
      fc.stringMatching(/^[a-z0-9-]{0,6}$/),
      fc.constantFrom('.', '..', ':', '/', ' ', '\r\n', '%', '[', ']', 'A', '_', '\u0000', 'é', '?', '#'),
    ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join(''));

describe('CLI input from anyone', () => {
  let svc: ServiceProcess;
  const dir = tempDir();
  before(async () => {
    svc = await startService();
  });
  after(async () => {
    await svc.stop();
    dir.remove();
  });
  const state = async () => {
    const get = async (path: string) =>
      (await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${svc.token}` } })).text();
    return JSON.stringify({ snap: await get('/v1/snapshot'), tokens: await get('/v1/tokens') });
  };

  test('CLI files: documents, or a FileError listing file, document and field; never another error', () => {
    const text = fc.oneof(
      fc
        .array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 })
        .map((docs) => docs.map((d) => toYaml(d)).join('---\n')),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc
        .array(
          fc.record({
            kind: fc.constantFrom('DestinationPolicy', 'policy'),
            name: nearName,
            spec: fc.jsonValue({ maxDepth: 1 }),
          }),
          { maxLength: 3 },
        )
        .map((docs) => JSON.stringify({ documents: docs })),
    );
    fc.assert(
      fc.property(text, (t) => {
        try {
          const docs = parseDocuments(t, 'in.yaml');
          assert.ok(docs.length > 0);
        } catch (error) {
          assert.ok(error instanceof FileError, String(error));
          assert.ok(error.issues.length > 0 || error.message.startsWith('in.yaml'));
          for (const issue of error.issues) assert.match(issue, /^in\.yaml/);
        }
      }),
      fuzz(5),
    );
  });

  test('CLI arguments: an exit status of 0, 1 or 2 and a message, never an unexpected error; a refused apply stores nothing', async () => {
    const file = join(dir.path, 'in.yaml');
    const word = fc.oneof(
      nearName,
      fc.constantFrom(
        'policy',
        'users',
        '-o',
        'json',
        '--if-revision',
        '12',
        '-n',
        'x',
        '--role',
        'admin',
        '--service',
        '-f',
        file,
        '--help',
      ),
    );
    const argv = fc.tuple(
      fc.constantFrom(
        ['get'],
        ['delete'],
        ['history'],
        ['rollback'],
        ['endpoints'],
        ['token', 'create'],
        ['token', 'delete'],
        ['token', 'list'],
        ['apply', '-f', file],
        ['nope'],
      ),
      fc.array(word, { maxLength: 4 }),
      fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.jsonValue({ maxDepth: 2 }).map((v) => toYaml(v)),
      ),
    );
    await fc.assert(
      fc.asyncProperty(argv, async ([command, rest, content]) => {
        writeFileSync(file, content);
        const before = await state();
        let err = '';
        const code = await main(['--server', svc.url, '--token', svc.token, ...command, ...rest], {
          out: () => {},
          err: (t) => {
            err += t;
          },
        });
        assert.ok(code === 0 || code === 1 || code === 2, `exit ${code}`);
        assert.doesNotMatch(err, /TypeError|RangeError|Cannot read prop|is not a function|undefined is not/);
        if (code !== 0) assert.ok(err.length > 0, 'a failure says why');
        if (command[0] === 'apply' && code !== 0) assert.equal(await state(), before);
      }),
      fuzz(0.5, true),
    );
  });
});
