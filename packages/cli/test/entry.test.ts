/** The CLI's "am I the main script" check, on Node.js versions with and without `import.meta.main`. */
import assert from 'node:assert/strict';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@weft/control-plane/testing';
import { isEntryModule } from '../src/entry.ts';

const main = new URL('../src/main.ts', import.meta.url);

test('import.meta.main decides when Node sets it', () => {
  assert.equal(isEntryModule({ main: true, url: main.href }, '/elsewhere.js'), true);
  assert.equal(isEntryModule({ main: false, url: main.href }, fileURLToPath(main)), false);
});

test('without import.meta.main (Node.js before 22.18), the script path decides, links resolved', () => {
  const dir = tempDir();
  try {
    const link = join(dir.path, 'weft.ts');
    symlinkSync(fileURLToPath(main), link);
    assert.equal(isEntryModule({ url: main.href }, fileURLToPath(main)), true);
    assert.equal(isEntryModule({ url: main.href }, link), true);
    assert.equal(isEntryModule({ url: main.href }, fileURLToPath(import.meta.url)), false);
    assert.equal(isEntryModule({ url: main.href }, undefined), false);
    assert.equal(isEntryModule({ url: main.href }, join(dir.path, 'missing.js')), false);
  } finally {
    dir.remove();
  }
});
