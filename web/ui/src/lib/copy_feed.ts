// The copies' live figures, kept for the whole tab from the one shared event stream: the copies
// view and a copy task's page read the same series, so navigating between them keeps it.
import { signal } from '@preact/signals';
import { applyReport, isCopyReport, type LiveCopy } from './copy_live';
import { stream } from './state';

export const copyKey = (job: string, task: string) => `${job}\u0000${task}`;

// By copyKey; replaced (not mutated) on each report so that readers re-render.
export const liveCopies = signal<ReadonlyMap<string, LiveCopy>>(new Map());

let listening = false;

// Starts collecting (once per tab); reports that arrived before are not replayed (progress is
// live only), the stored metrics stand in for them.
export function watchCopies(): void {
  if (listening) return;
  listening = true;
  stream.subscribe((e) => {
    if (e.kind !== 'task.progress' || !e.job || !e.task || typeof e.run !== 'number' || !isCopyReport(e.payload)) return;
    const key = copyKey(e.job, e.task);
    const prev = liveCopies.value.get(key);
    const next = applyReport(prev, e.run, e.payload, Date.now());
    if (next === prev) return;
    const map = new Map(liveCopies.value);
    map.set(key, next);
    liveCopies.value = map;
  });
}
