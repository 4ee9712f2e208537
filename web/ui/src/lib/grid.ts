// The runs × tasks grid of a job (Airflow's grid view): one column per run, oldest on the left,
// one row per task in the job's order, and keyboard movement between cells.

export interface GridRun {
  id: number;
  state: string;
  logical_time: string | null;
  created_at: string | null;
  tasks: { task: string; state: string; try_number: number }[];
}

export interface GridCell {
  run: number;
  task: string;
  state: string; // "none" when the run has no such task (the job changed since)
  tries: number;
}

export interface GridModel {
  runs: { id: number; state: string; time: string | null }[];
  tasks: string[];
  cells: GridCell[][]; // [task row][run column]
}

// `runs` newest first, as the API lists them.
export function buildGrid(taskOrder: string[], runs: GridRun[]): GridModel {
  const ordered = [...runs].reverse();
  const tasks = [...taskOrder];
  for (const r of ordered) for (const t of r.tasks) if (!tasks.includes(t.task)) tasks.push(t.task);
  const cells = tasks.map((task) =>
    ordered.map((r) => {
      const t = r.tasks.find((x) => x.task === task);
      return { run: r.id, task, state: t ? t.state : 'none', tries: t ? t.try_number : 0 };
    }),
  );
  return { runs: ordered.map((r) => ({ id: r.id, state: r.state, time: r.logical_time ?? r.created_at })), tasks, cells };
}

export interface GridPos {
  row: number;
  col: number;
}

// The cell an arrow, Home or End key moves to; unchanged for other keys and at the edges.
export function moveInGrid(model: GridModel, pos: GridPos, key: string): GridPos {
  const rows = model.tasks.length;
  const cols = model.runs.length;
  if (rows === 0 || cols === 0) return pos;
  const clamp = (v: number, n: number) => Math.max(0, Math.min(n - 1, v));
  switch (key) {
    case 'ArrowUp': return { row: clamp(pos.row - 1, rows), col: pos.col };
    case 'ArrowDown': return { row: clamp(pos.row + 1, rows), col: pos.col };
    case 'ArrowLeft': return { row: pos.row, col: clamp(pos.col - 1, cols) };
    case 'ArrowRight': return { row: pos.row, col: clamp(pos.col + 1, cols) };
    case 'Home': return { row: pos.row, col: 0 };
    case 'End': return { row: pos.row, col: cols - 1 };
    default: return pos;
  }
}
