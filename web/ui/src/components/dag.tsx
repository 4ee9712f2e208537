// The task graph as SVG: boxes coloured by each task's state, edges left to right, trigger rules
// other than all_success marked on the box. Clicking a task selects it.
import { useMemo } from 'preact/hooks';
import { layoutDag, nodeHeight, nodeWidth } from '../lib/dag';
import type { TaskSpec } from '../lib/types';
import { stateLabel } from './common';

export function Dag(props: {
  tasks: TaskSpec[];
  states?: Record<string, string>;
  selected?: string | null;
  href?: (task: string) => string;
}) {
  const layout = useMemo(() => layoutDag(props.tasks), [props.tasks]);
  const spec = useMemo(() => new Map(props.tasks.map((t) => [t.name, t])), [props.tasks]);
  const pad = 8;
  return (
    <div class="dag-wrap">
      <svg class="dag" width={layout.width + pad * 2} height={layout.height + pad * 2} role="group" aria-label="task graph">
        <g transform={`translate(${pad},${pad})`}>
          {layout.edges.map((e) => {
            const [[x1, y1], [x2, y2]] = e.points;
            const mx = (x1 + x2) / 2;
            return <path key={e.from + '>' + e.to} class="edge" d={`M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`} />;
          })}
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
