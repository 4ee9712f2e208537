// Every attempt of every task on one time axis: the queue wait as a faint bar, each try as a
// solid bar in the state it ended in, so retries and waiting show at a glance.
import { now, zoneChoice } from '../lib/state';
import { formatDuration, formatInstant, resolveZone } from '../lib/time';
import type { TaskInstance } from '../lib/types';
import { stateLabel } from './common';

const t = (s: string | null | undefined) => (s ? Date.parse(s) : NaN);

export function Gantt({ tasks, jobZone, href }: { tasks: TaskInstance[]; jobZone?: string; href: (task: string) => string }) {
  const current = now.value;
  let lo = Infinity;
  let hi = -Infinity;
  for (const task of tasks) {
    for (const v of [t(task.queued_at), t(task.started_at)]) if (!Number.isNaN(v)) lo = Math.min(lo, v);
    for (const a of task.attempts) if (!Number.isNaN(t(a.started_at))) lo = Math.min(lo, t(a.started_at));
    const end = Number.isNaN(t(task.finished_at)) ? (task.started_at ? current : NaN) : t(task.finished_at);
    if (!Number.isNaN(end)) hi = Math.max(hi, end);
  }
  if (!Number.isFinite(lo)) return <p class="muted">No task has started yet.</p>;
  if (!Number.isFinite(hi) || hi <= lo) hi = lo + 1000;
  const span = hi - lo;
  const pct = (v: number) => `${(((v - lo) / span) * 100).toFixed(3)}%`;
  const width = (a: number, b: number) => `${Math.max(0.4, ((b - a) / span) * 100).toFixed(3)}%`;
  const zone = resolveZone(zoneChoice.value, jobZone);
  return (
    <div class="gantt" role="table" aria-label="attempts over time">
      <div class="gantt-axis" role="row">
        <span role="columnheader">{formatInstant(lo, zone)}</span>
        <span role="columnheader" class="muted">{formatDuration(span)}</span>
        <span role="columnheader">{formatInstant(hi, zone, false)}</span>
      </div>
      {tasks.map((task) => {
        const queued = t(task.queued_at);
        const firstStart = task.attempts.length ? t(task.attempts[0].started_at) : t(task.started_at);
        return (
          <div class="gantt-row" role="row" key={task.task}>
            <div class="gantt-label" role="rowheader"><a href={href(task.task)}>{task.task}</a></div>
            <div class="gantt-track" role="cell">
              {!Number.isNaN(queued) && !Number.isNaN(firstStart) && firstStart > queued && (
                <span class="bar wait" style={{ left: pct(queued), width: width(queued, firstStart) }} title={`queued ${formatDuration(firstStart - queued)}`} />
              )}
              {task.attempts.map((a) => {
                const s = t(a.started_at);
                if (Number.isNaN(s)) return null;
                const e = Number.isNaN(t(a.finished_at)) ? current : t(a.finished_at);
                const state = a.state ?? 'none';
                return (
                  <span
                    key={a.try}
                    class={`bar st-${state}`}
                    data-state={state}
                    style={{ left: pct(s), width: width(s, e) }}
                    title={`try ${a.try}: ${stateLabel(state)}, ${formatDuration(e - s)}`}
                  />
                );
              })}
            </div>
          </div>
        );
      })}
    </div>
  );
}
