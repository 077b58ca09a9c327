/**
 * The Node.js version check every package runs at import: the range reader, the error it throws
 * (tested with faked version strings), and that each package checks exactly its `engines.node`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { assertNodeVersion, ErrorCode, isWeftError, nodeVersionSatisfies } from '@weft/core';

describe('nodeVersionSatisfies', () => {
  test('a lower bound', () => {
    assert.equal(nodeVersionSatisfies('>=22.19.0', '22.19.0'), true);
    assert.equal(nodeVersionSatisfies('>=22.19.0', 'v22.20.1'), true);
    assert.equal(nodeVersionSatisfies('>=22.19.0', '24.0.0'), true);
    assert.equal(nodeVersionSatisfies('>=22.19.0', '22.18.9'), false);
    assert.equal(nodeVersionSatisfies('>=22.19.0', '22.9.0'), false, 'minors compare as numbers');
    assert.equal(nodeVersionSatisfies('>=22.19.0', '20.19.5'), false);
  });

  test('alternatives with an upper major bound (a feature unflagged on two lines at once)', () => {
    const range = '>=22.13.0 <23 || >=23.4.0';
    for (const v of ['22.13.0', '22.21.1', '23.4.0', '24.11.0', '26.0.0-nightly2026'])
      assert.equal(nodeVersionSatisfies(range, v), true, v);
    for (const v of ['22.12.0', '22.5.1', '23.0.0', '23.3.9', '21.7.3'])
      assert.equal(nodeVersionSatisfies(range, v), false, v);
  });

  test('an unreadable running version is let through; an unreadable range is a bug, and says so', () => {
    assert.equal(nodeVersionSatisfies('>=22.19.0', 'unknown'), true);
    assert.throws(
      () => nodeVersionSatisfies('^22.19.0', '22.19.0'),
      /engines\.node: cannot read "\^22\.19\.0"/,
    );
  });
});

describe('assertNodeVersion', () => {
  test('returns on a supported version', () => {
    assertNodeVersion('@weft/http', '>=22.19.0', 'undici 8', '22.19.0');
    assertNodeVersion('@weft/http', '>=22.19.0', 'undici 8'); // this process's own Node
  });

  test('throws WEFT_UNSUPPORTED_RUNTIME naming the package, the range, the reason and the version found', () => {
    assert.throws(
      () => assertNodeVersion('@weft/http', '>=22.19.0', 'undici 8', '22.12.0'),
      (error: unknown) => {
        assert.ok(isWeftError(error, ErrorCode.UnsupportedRuntime));
        assert.equal(
          error.message,
          '@weft/http needs Node.js >=22.19.0 (undici 8); this is Node.js 22.12.0. Upgrade Node.js to a version in that range.',
        );
        return true;
      },
    );
  });
});

describe('each package checks its own engines.node', () => {
  const packages: [folder: string, constant: string][] = [
    ['core', 'runtime/node-check.ts#CORE_NODE_ENGINES'],
    ['discovery', 'node-check.ts#DISCOVERY_NODE_ENGINES'],
    ['http', 'node-check.ts#HTTP_NODE_ENGINES'],
    ['grpc', 'node-check.ts#GRPC_NODE_ENGINES'],
    ['control-plane', 'node-check.ts#CONTROL_PLANE_NODE_ENGINES'],
    ['cli', 'node-check.ts#CLI_NODE_ENGINES'],
  ];
  for (const [folder, ref] of packages) {
    test(folder, async () => {
      const [file, name] = ref.split('#') as [string, string];
      const root = new URL(`../../${folder}/`, import.meta.url);
      const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
      const check = (await import(new URL(`src/${file}`, root).href)) as Record<string, string>;
      assert.equal(check[name], manifest.engines.node);
      // The range is one the check can read, and this repository's own Node is inside it.
      assert.equal(nodeVersionSatisfies(check[name]!, process.versions.node), true);
    });
  }
});
