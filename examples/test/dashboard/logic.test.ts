/** The dashboard's pure parts, without a browser: the diff and the graph layout. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { diffLines, sortedJson, withContext } from '../../../packages/control-plane/ui/src/diff.ts';
import { layeredLayout } from '../../../packages/control-plane/ui/src/layout.ts';

describe('dashboard diff', () => {
  test('key order is not a change; a changed value is one line out and one in', () => {
    const before = sortedJson({ b: { weight: 30 }, a: 1 });
    const after = sortedJson({ a: 1, b: { weight: 70 } });
    const lines = diffLines(before, after);
    assert.deepEqual(
      lines.filter((l) => l.op !== ' '),
      [
        { op: '-', text: '    "weight": 30' },
        { op: '+', text: '    "weight": 70' },
      ],
    );
    assert.deepEqual(
      diffLines(before, before).filter((l) => l.op !== ' '),
      [],
    );
  });

  test('a created document is all additions; long unchanged runs fold into one line', () => {
    assert.ok(diffLines('', sortedJson({ a: 1 })).every((l) => l.op === '+'));
    const big = (v: number) =>
      sortedJson(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i + 10}`, i === 20 ? v : i])));
    const folded = withContext(diffLines(big(1), big(2)), 2);
    assert.deepEqual(
      folded.map((l) => l.op),
      [' ', ' ', ' ', '-', '+', ' ', ' ', ' '],
    );
    assert.equal(folded[0]!.text, '…');
    assert.equal(folded.at(-1)!.text, '…');
  });
});

describe('dashboard graph layout', () => {
  test('callers sit left of their callees, and a cycle does not loop', () => {
    const { nodes } = layeredLayout(
      ['catalog', 'frontend', 'loadgen', 'inventory'],
      [
        { from: 'loadgen', to: 'frontend' },
        { from: 'frontend', to: 'catalog' },
        { from: 'frontend', to: 'inventory' },
        { from: 'catalog', to: 'frontend' },
      ],
    );
    const x = (id: string) => nodes.get(id)!.x;
    assert.ok(x('loadgen') < x('frontend'));
    assert.ok(x('frontend') < x('catalog'));
    assert.equal(x('catalog'), x('inventory'));
    assert.notEqual(nodes.get('catalog')!.y, nodes.get('inventory')!.y);
  });

  test('a mesh full of cycles (100 services × 20 calls each) is laid out at once', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `svc-${i}`);
    const edges = ids.flatMap((_, s) =>
      Array.from({ length: 20 }, (_, e) => ({ from: ids[s]!, to: ids[(s + 1 + e) % 100]! })),
    );
    const started = performance.now();
    const { nodes } = layeredLayout(ids, edges);
    assert.ok(performance.now() - started < 500, `${performance.now() - started} ms`);
    assert.equal(nodes.size, 100);
    assert.equal(new Set([...nodes.values()].map((n) => `${n.x},${n.y}`)).size, 100);
  });

  test('services without calls are still placed, each at its own spot', () => {
    const { nodes } = layeredLayout(['a', 'b', 'c'], []);
    const spots = new Set([...nodes.values()].map((n) => `${n.x},${n.y}`));
    assert.equal(spots.size, 3);
  });
});
