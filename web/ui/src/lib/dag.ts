// A layered left-to-right layout of a job's task graph: each task in the column of its longest
// path from a root, rows ordered by the mean row of their upstream tasks (two sweeps) to keep
// edges short. Small and synchronous: job graphs are tens of tasks, not thousands.

export interface DagInput {
  name: string;
  depends_on: string[];
}

export interface DagNode {
  name: string;
  layer: number;
  row: number;
  x: number;
  y: number;
}

export interface DagEdge {
  from: string;
  to: string;
  points: [number, number][];
}

export interface DagLayout {
  nodes: DagNode[];
  edges: DagEdge[];
  width: number;
  height: number;
}

export const nodeWidth = 176;
export const nodeHeight = 40;
const layerGap = 56;
const rowGap = 14;

export function layoutDag(tasks: DagInput[]): DagLayout {
  const byName = new Map(tasks.map((t) => [t.name, t]));
  const layer = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (name: string): number => {
    const known = layer.get(name);
    if (known !== undefined) return known;
    if (visiting.has(name)) return 0; // a cycle cannot pass config validation; stay finite anyway
    visiting.add(name);
    const t = byName.get(name);
    let d = 0;
    for (const up of t?.depends_on ?? []) if (byName.has(up)) d = Math.max(d, depth(up) + 1);
    visiting.delete(name);
    layer.set(name, d);
    return d;
  };
  tasks.forEach((t) => depth(t.name));
  const layers: string[][] = [];
  for (const t of tasks) (layers[layer.get(t.name)!] ??= []).push(t.name);
  const rowOf = new Map<string, number>();
  layers.forEach((names) => names.forEach((n, i) => rowOf.set(n, i)));
  for (let sweep = 0; sweep < 2; sweep++) {
    for (let l = 1; l < layers.length; l++) {
      const score = (n: string) => {
        const ups = (byName.get(n)?.depends_on ?? []).filter((u) => rowOf.has(u));
        return ups.length ? ups.reduce((s, u) => s + rowOf.get(u)!, 0) / ups.length : rowOf.get(n)!;
      };
      layers[l].sort((a, b) => score(a) - score(b));
      layers[l].forEach((n, i) => rowOf.set(n, i));
    }
  }
  const tallest = Math.max(1, ...layers.map((l) => l.length));
  const height = tallest * nodeHeight + (tallest - 1) * rowGap;
  const nodes: DagNode[] = [];
  layers.forEach((names, l) => {
    const columnHeight = names.length * nodeHeight + (names.length - 1) * rowGap;
    const top = (height - columnHeight) / 2;
    names.forEach((name, row) => {
      nodes.push({ name, layer: l, row, x: l * (nodeWidth + layerGap), y: top + row * (nodeHeight + rowGap) });
    });
  });
  const at = new Map(nodes.map((n) => [n.name, n]));
  const edges: DagEdge[] = [];
  for (const t of tasks) {
    for (const up of t.depends_on) {
      const a = at.get(up);
      const b = at.get(t.name);
      if (!a || !b) continue;
      edges.push({
        from: up,
        to: t.name,
        points: [[a.x + nodeWidth, a.y + nodeHeight / 2], [b.x, b.y + nodeHeight / 2]],
      });
    }
  }
  const width = layers.length * nodeWidth + Math.max(0, layers.length - 1) * layerGap;
  return { nodes, edges, width, height };
}
