// A layered left-to-right layout of a job's task graph: each task in the column of its longest
// path from a root, rows ordered by the mean row of their upstream tasks (two sweeps) to keep
// edges short. An edge that skips columns gets a waypoint in each column it crosses, a thin row
// of its own, so it runs between boxes instead of under them. A pure function of the task list:
// lib/dag_layout.ts runs it in a web worker for graphs of more than 50 tasks.

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
  // The start (right of `from`), an entry and an exit point per column crossed, the end (left
  // of `to`): a curve joins each exit to the next entry, a straight line each entry to its exit.
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
const waypointHeight = 8;
const isWaypoint = (name: string) => name.startsWith('\u0000');

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
  // Waypoints: "\0from>to#layer", upstream of each the previous one (or `from`).
  const upstream = new Map<string, string[]>(tasks.map((t) => [t.name, t.depends_on.filter((u) => byName.has(u))]));
  const route = new Map<string, string[]>(); // "from>to" -> its waypoints, left to right
  for (const t of tasks) {
    for (const up of upstream.get(t.name)!) {
      const via: string[] = [];
      let prev = up;
      for (let l = layer.get(up)! + 1; l < layer.get(t.name)!; l++) {
        const w = `\u0000${up}>${t.name}#${l}`;
        upstream.set(w, [prev]);
        layers[l].push(w);
        via.push(w);
        prev = w;
      }
      route.set(`${up}>${t.name}`, via);
    }
  }
  const rowOf = new Map<string, number>();
  layers.forEach((names) => names.forEach((n, i) => rowOf.set(n, i)));
  for (let sweep = 0; sweep < 2; sweep++) {
    for (let l = 1; l < layers.length; l++) {
      const score = (n: string) => {
        const ups = (upstream.get(n) ?? []).filter((u) => rowOf.has(u));
        return ups.length ? ups.reduce((s, u) => s + rowOf.get(u)!, 0) / ups.length : rowOf.get(n)!;
      };
      layers[l].sort((a, b) => score(a) - score(b));
      layers[l].forEach((n, i) => rowOf.set(n, i));
    }
  }
  const heightOf = (name: string) => (isWaypoint(name) ? waypointHeight : nodeHeight);
  const columnHeight = (names: string[]) =>
    names.reduce((h, n) => h + heightOf(n), 0) + Math.max(0, names.length - 1) * rowGap;
  const height = Math.max(nodeHeight, ...layers.map(columnHeight));
  const nodes: DagNode[] = [];
  const waypointY = new Map<string, number>();
  layers.forEach((names, l) => {
    let y = (height - columnHeight(names)) / 2;
    names.forEach((name, row) => {
      if (isWaypoint(name)) {
        waypointY.set(name, y + waypointHeight / 2);
      } else {
        nodes.push({ name, layer: l, row, x: l * (nodeWidth + layerGap), y });
      }
      y += heightOf(name) + rowGap;
    });
  });
  const at = new Map(nodes.map((n) => [n.name, n]));
  const edges: DagEdge[] = [];
  for (const t of tasks) {
    for (const up of t.depends_on) {
      const a = at.get(up);
      const b = at.get(t.name);
      if (!a || !b) continue;
      const points: [number, number][] = [[a.x + nodeWidth, a.y + nodeHeight / 2]];
      (route.get(`${up}>${t.name}`) ?? []).forEach((w, i) => {
        const x = (a.layer + 1 + i) * (nodeWidth + layerGap);
        const y = waypointY.get(w)!;
        points.push([x, y], [x + nodeWidth, y]);
      });
      points.push([b.x, b.y + nodeHeight / 2]);
      edges.push({ from: up, to: t.name, points });
    }
  }
  const width = layers.length * nodeWidth + Math.max(0, layers.length - 1) * layerGap;
  return { nodes, edges, width, height };
}
