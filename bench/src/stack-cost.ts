/**
 * The stack's own cost per call, without a network: the default client stack over a terminal that
 * answers at once, with each module removed in turn (ns per call, medians of rounds). Run with
 * `node --conditions=weft-source bench/src/stack-cost.ts`.
 */
import { Call, Destination, defaultClientStack, type Stack, StaticResolver } from '@weft/core';
import { type FakeConnection, type FakeResponse, fakeBinding, fakeEndpoints } from '@weft/core/testing';

const response = {
  status: 200,
  rejected: false,
  discard() {},
  onBodyDone(done: () => void) {
    done();
  },
} as unknown as FakeResponse;

function destination(stack: Stack<Call, FakeResponse>) {
  return new Destination<Call, FakeResponse, FakeConnection>({
    name: 'bench',
    resolver: new StaticResolver(fakeEndpoints(4)),
    policy: {},
    stack,
    binding: fakeBinding(() => Promise.resolve(response)),
  });
}

async function perCall(stack: Stack<Call, FakeResponse>, n: number): Promise<number> {
  const dest = destination(stack);
  await dest.call(new Call('bench', 'GET', '/', {}));
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i += 32) {
    const batch: Promise<unknown>[] = [];
    for (let j = 0; j < 32; j++) batch.push(dest.call(new Call('bench', 'GET', '/', {})));
    await Promise.all(batch);
  }
  const ns = Number(process.hrtime.bigint() - start) / n;
  dest.close();
  return ns;
}

const variants: [string, () => Stack<Call, FakeResponse>][] = [
  ['full default stack', () => defaultClientStack()],
  ['without breaker', () => defaultClientStack<Call, FakeResponse>().remove('breaker')],
  ['without retry', () => defaultClientStack<Call, FakeResponse>().remove('retry')],
  ['without deadline', () => defaultClientStack<Call, FakeResponse>().remove('deadline')],
  [
    'deadline timeoutMs 0',
    () => defaultClientStack<Call, FakeResponse>().configure('deadline', { timeoutMs: 0 }),
  ],
  ['without endpoint', () => defaultClientStack<Call, FakeResponse>().remove('endpoint')],
  ['without telemetry', () => defaultClientStack<Call, FakeResponse>().remove('telemetry')],
];
const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 5);
const n = 200_000;
const results = new Map<string, number[]>();
for (let r = 0; r < rounds; r++)
  for (const [name, make] of variants) {
    const list = results.get(name) ?? [];
    list.push(await perCall(make(), n));
    results.set(name, list);
  }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const full = median(results.get('full default stack')!);
for (const [name, xs] of results)
  console.log(
    `${name.padEnd(24)} ${median(xs).toFixed(0).padStart(6)} ns/call  (${(median(xs) - full).toFixed(0)} vs full)`,
  );
