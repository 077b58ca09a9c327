/**
 * A layered layout for the service graph, small enough to keep here rather than pull in a graph
 * library: callers left, callees right. Each service's layer is the longest chain of callers
 * before it (cycles are cut where a call goes back to a service already on the path), and each
 * layer is ordered by the mean position of its callers, which keeps most edges from crossing in
 * meshes of the size a dashboard shows.
 */

export interface Placed {
  readonly id: string;
  readonly x: number;
  readonly y: number;
}

export interface LayoutOptions {
  /** Horizontal distance between layers. Defaults to 360. */
  layerGap?: number;
  /** Vertical distance between services of one layer. Defaults to 110. */
  rowGap?: number;
}

export function layeredLayout(
  ids: readonly string[],
  edges: readonly { from: string; to: string }[],
  options: LayoutOptions = {},
): { nodes: Map<string, Placed>; width: number; height: number } {
  const layerGap = options.layerGap ?? 360;
  const rowGap = options.rowGap ?? 110;
  const out = new Map<string, string[]>();
  const inn = new Map<string, string[]>();
  for (const id of ids) {
    out.set(id, []);
    inn.set(id, []);
  }
  for (const e of edges) {
    if (e.from === e.to || !out.has(e.from) || !out.has(e.to)) continue;
    out.get(e.from)!.push(e.to);
    inn.get(e.to)!.push(e.from);
  }
  // Cut cycles: one depth-first pass (callers first) drops every edge back to a service still on
  // the path, which leaves a DAG, in linear time whatever the mesh's cycles.
  const state = new Map<string, 1 | 2>();
  const order: string[] = [];
  const dag = new Map<string, string[]>(ids.map((id) => [id, []]));
  const visit = (id: string) => {
    state.set(id, 1);
    for (const next of out.get(id)!) {
      const seen = state.get(next);
      if (seen === 1) continue;
      dag.get(id)!.push(next);
      if (seen === undefined) visit(next);
    }
    state.set(id, 2);
    order.push(id);
  };
  const roots = ids.filter((id) => inn.get(id)!.length === 0);
  for (const id of [...roots, ...ids]) if (!state.has(id)) visit(id);
  // Each service's layer: the longest chain of callers before it, in topological order.
  const layer = new Map<string, number>(ids.map((id) => [id, 0]));
  for (const id of order.reverse())
    for (const next of dag.get(id)!) layer.set(next, Math.max(layer.get(next)!, layer.get(id)! + 1));

  const layers: string[][] = [];
  for (const id of [...ids].sort()) {
    const l = layer.get(id)!;
    const members = layers[l] ?? [];
    members.push(id);
    layers[l] = members;
  }
  const row = new Map<string, number>();
  layers.forEach((members, l) => {
    if (l > 0) {
      const mean = (id: string) => {
        const rows = inn
          .get(id)!
          .map((p) => row.get(p))
          .filter((r): r is number => r !== undefined);
        return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : Number.MAX_SAFE_INTEGER;
      };
      members.sort((a, b) => mean(a) - mean(b) || (a < b ? -1 : 1));
    }
    members.forEach((id, i) => {
      row.set(id, i);
    });
  });
  const tallest = Math.max(1, ...layers.map((m) => m?.length ?? 0));
  const nodes = new Map<string, Placed>();
  layers.forEach((members, l) => {
    const offset = ((tallest - members.length) * rowGap) / 2;
    members.forEach((id, i) => {
      nodes.set(id, { id, x: 110 + l * layerGap, y: 60 + offset + i * rowGap });
    });
  });
  return {
    nodes,
    width: 220 + Math.max(0, layers.length - 1) * layerGap,
    height: 120 + (tallest - 1) * rowGap,
  };
}
