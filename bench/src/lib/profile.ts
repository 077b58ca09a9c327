/**
 * CPU profile of a piece of the bench's own process (the client side), through the inspector's
 * sampling profiler — the same data as `node --cpu-prof`. Summarized as the top functions by self
 * time, grouped by function and source file, with the share of all samples.
 */
import { Session } from 'node:inspector/promises';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface ProfileSummary {
  totalSamples: number;
  top: { fn: string; where: string; selfPercent: number }[];
  /** Self time by component: Weft's packages, each dependency, Node's internals, native code. */
  components: { component: string; selfPercent: number }[];
}

function component(where: string, fn: string): string {
  if (where.startsWith('packages/')) return `weft ${where.split('/')[1]}`;
  if (where.startsWith('bench/')) return 'bench harness';
  if (where.startsWith('node:')) return 'node internals (JS)';
  if (where.startsWith('wasm')) return 'undici (llhttp wasm)';
  if (where === '')
    return fn === '(garbage collector)' ? 'garbage collector' : fn === '(idle)' ? 'idle' : 'native';
  const pkg = where.startsWith('@') ? where.split('/').slice(0, 2).join('/') : where.split('/')[0]!;
  return pkg;
}

export async function profileWhile(work: () => Promise<unknown>, top = 15): Promise<ProfileSummary> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    await work();
    const { profile } = (await session.post('Profiler.stop')) as { profile: { nodes: ProfileNode[] } };
    return summarize(profile.nodes, top);
  } finally {
    session.disconnect();
  }
}

function summarize(nodes: readonly ProfileNode[], top: number): ProfileSummary {
  const byFn = new Map<string, { fn: string; where: string; hits: number }>();
  let total = 0;
  for (const n of nodes) {
    const hits = n.hitCount ?? 0;
    total += hits;
    const { functionName, url, lineNumber } = n.callFrame;
    const fn = functionName || '(anonymous)';
    const where = url ? `${shorten(url)}:${lineNumber + 1}` : '';
    const key = `${fn}@${where}`;
    const entry = byFn.get(key) ?? { fn, where, hits: 0 };
    entry.hits += hits;
    byFn.set(key, entry);
  }
  const sorted = [...byFn.values()].sort((a, b) => b.hits - a.hits).slice(0, top);
  const byComponent = new Map<string, number>();
  for (const e of byFn.values()) {
    const c = component(e.where, e.fn);
    byComponent.set(c, (byComponent.get(c) ?? 0) + e.hits);
  }
  return {
    totalSamples: total,
    components: [...byComponent]
      .sort((a, b) => b[1] - a[1])
      .map(([c, hits]) => ({ component: c, selfPercent: total ? (100 * hits) / total : 0 })),
    top: sorted.map((e) => ({ fn: e.fn, where: e.where, selfPercent: total ? (100 * e.hits) / total : 0 })),
  };
}

/** Keeps the part of a path a reader recognizes (package and file), never the machine's prefix. */
function shorten(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) return path.slice(nm + 'node_modules/'.length);
  const pk = path.indexOf('/packages/');
  if (pk >= 0) return path.slice(pk + 1);
  const bn = path.indexOf('/bench/');
  if (bn >= 0) return path.slice(bn + 1);
  return path.startsWith('node:') ? path : path.split('/').slice(-2).join('/');
}

export function profileTable(title: string, summary: ProfileSummary): string {
  const rows = summary.top.map(
    (t) => `| ${t.selfPercent.toFixed(1)}% | \`${t.fn}\` | ${t.where || '(native)'} |`,
  );
  const comps = summary.components.map((c) => `${c.component} ${c.selfPercent.toFixed(1)}%`).join(', ');
  return [
    `${title} (${summary.totalSamples} samples at 200 µs). By component: ${comps}.`,
    '',
    '| self | function | where |',
    '| ---: | --- | --- |',
    ...rows,
  ].join('\n');
}

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

export interface AllocationSummary {
  bytesPerRequest: number;
  top: { fn: string; where: string; bytesPerRequest: number }[];
}

/**
 * Bytes allocated per request and where, from V8's sampling heap profiler with collected objects
 * included (so short-lived per-request garbage counts). `work` returns the number of requests.
 */
export async function allocationsWhile(work: () => Promise<number>, top = 15): Promise<AllocationSummary> {
  const session = new Session();
  session.connect();
  try {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 512,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    } as never);
    const requests = await work();
    const { profile } = (await session.post('HeapProfiler.getSamplingProfile')) as {
      profile: { head: HeapNode };
    };
    await session.post('HeapProfiler.stopSampling');
    const bySite = new Map<string, { fn: string; where: string; bytes: number }>();
    let total = 0;
    const walk = (n: HeapNode) => {
      const { functionName, url, lineNumber } = n.callFrame;
      const fn = functionName || '(anonymous)';
      const where = url ? `${shorten(url)}:${lineNumber + 1}` : '';
      const key = `${fn}@${where}`;
      const e = bySite.get(key) ?? { fn, where, bytes: 0 };
      e.bytes += n.selfSize;
      bySite.set(key, e);
      total += n.selfSize;
      for (const c of n.children) walk(c);
    };
    walk(profile.head);
    const n = Math.max(1, requests);
    return {
      bytesPerRequest: total / n,
      top: [...bySite.values()]
        .sort((a, b) => b.bytes - a.bytes)
        .slice(0, top)
        .map((e) => ({ fn: e.fn, where: e.where, bytesPerRequest: e.bytes / n })),
    };
  } finally {
    session.disconnect();
  }
}

export function allocationTable(title: string, s: AllocationSummary): string {
  return [
    `${title}: ${Math.round(s.bytesPerRequest).toLocaleString('en-US')} bytes allocated per request (sampled).`,
    '',
    '| bytes/request | function | where |',
    '| ---: | --- | --- |',
    ...s.top.map((t) => `| ${Math.round(t.bytesPerRequest)} | \`${t.fn}\` | ${t.where || '(native)'} |`),
  ].join('\n');
}
