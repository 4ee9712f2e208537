// The task graph as SVG: boxes coloured by each task's state, edges left to right, trigger rules
// other than all_success marked on the box. Clicking a task selects it.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { layoutDag, nodeHeight, nodeWidth, type DagLayout } from '../lib/dag';
import { layoutInWorker, needsWorker } from '../lib/dag_layout';
import type { TaskSpec } from '../lib/types';
import { stateLabel } from './common';

const minScale = 0.75;

// Curves between columns, straight lines through the columns an edge crosses (lib/dag.ts).
function edgePath(points: [number, number][]): string {
  let d = `M${points[0][0]},${points[0][1]}`;
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1];
    const [x, y] = points[i];
    if (i % 2 === 1) {
      const mx = (x0 + x) / 2;
      d += ` C${mx},${y0} ${mx},${y} ${x},${y}`;
    } else {
      d += ` L${x},${y}`;
    }
  }
  return d;
}

export function Dag(props: {
  tasks: TaskSpec[];
  states?: Record<string, string>;
  selected?: string | null;
  href?: (task: string) => string;
}) {
  // A large graph is laid out in a worker (lib/dag_layout.ts); a small one right here.
  const large = needsWorker(props.tasks);
  const small = useMemo(() => (large ? null : layoutDag(props.tasks)), [props.tasks, large]);
  const [async, setAsync] = useState<{ tasks: TaskSpec[]; layout: DagLayout } | null>(null);
  useEffect(() => {
    if (!large) return;
    let live = true;
    void layoutInWorker(props.tasks).then((layout) => {
      if (live) setAsync({ tasks: props.tasks, layout });
    });
    return () => {
      live = false;
    };
  }, [props.tasks, large]);
  const spec = useMemo(() => new Map(props.tasks.map((t) => [t.name, t])), [props.tasks]);
  const layout = small ?? (async && async.tasks === props.tasks ? async.layout : null);
  if (!layout) {
    return <div class="dag-wrap"><p class="muted" role="status">Laying out {props.tasks.length} tasks…</p></div>;
  }
  const pad = 8;
  const width = layout.width + pad * 2;
  const height = layout.height + pad * 2;
  // Shrinks to the panel's width, down to minScale of its natural size (names stay readable);
  // a wider graph scrolls instead.
  const style = { width: '100%', maxWidth: `${width}px`, minWidth: `${Math.round(width * minScale)}px`, height: 'auto' };
  // A graph wider than its panel scrolls: without links inside (the job page) the panel itself
  // takes focus, so the keyboard can scroll it too.
  const focusable = !props.href;
  return (
    <div class="dag-wrap" tabIndex={focusable ? 0 : undefined} role={focusable ? 'region' : undefined} aria-label={focusable ? 'task graph' : undefined}>
      <svg class="dag" viewBox={`0 0 ${width} ${height}`} width={width} height={height} style={style} role="group" aria-label="task graph">
        <g transform={`translate(${pad},${pad})`}>
          {layout.edges.map((e) => (
            <path key={e.from + '>' + e.to} class="edge" d={edgePath(e.points)} />
          ))}
          {layout.nodes.map((n) => {
            const t = spec.get(n.name)!;
            const state = props.states?.[n.name] ?? 'none';
            const label = `${n.name}: ${t.type}${props.states ? ', ' + stateLabel(state) : ''}`;
            const body = (
              <g class={`node st-${state}${props.selected === n.name ? ' selected' : ''}`} transform={`translate(${n.x},${n.y})`} data-task={n.name} data-state={state}>
                <rect width={nodeWidth} height={nodeHeight} rx="6" />
                <rect class="node-bar" width="4" height={nodeHeight} rx="2" />
                <text x="14" y="17" class="node-name">{n.name.length > 20 ? n.name.slice(0, 19) + '…' : n.name}</text>
                <text x="14" y="31" class="node-kind">
                  {t.type}
                  {t.trigger_rule !== 'all_success' ? ` · ${t.trigger_rule}` : ''}
                  {t.pool ? ` · ${t.pool}` : ''}
                </text>
                <title>{label}</title>
              </g>
            );
            return props.href ? (
              <a key={n.name} href={props.href(n.name)} aria-label={label}>{body}</a>
            ) : (
              <g key={n.name}>{body}</g>
            );
          })}
        </g>
      </svg>
    </div>
  );
}
