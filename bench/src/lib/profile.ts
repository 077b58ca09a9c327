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
  return {
    totalSamples: total,
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
  return [
    `${title} (${summary.totalSamples} samples at 200 µs)`,
    '',
    '| self | function | where |',
    '| ---: | --- | --- |',
    ...rows,
  ].join('\n');
}
