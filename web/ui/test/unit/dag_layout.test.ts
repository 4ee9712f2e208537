import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layoutDag, nodeHeight, type DagInput, type DagLayout } from '../../src/lib/dag';
import { layoutInWorker, needsWorker, setWorkerFactory, workerThreshold, type LayoutWorker } from '../../src/lib/dag_layout';

// 200 tasks in 10 layers of 20, each depending on two tasks of the layer before and, every
// seventh, on one three layers back (an edge that crosses columns).
function wide(): DagInput[] {
  const tasks: DagInput[] = [];
  for (let l = 0; l < 10; l++) {
    for (let i = 0; i < 20; i++) {
      const deps = l === 0 ? [] : [`t${l - 1}_${i}`, `t${l - 1}_${(i + 7) % 20}`];
      if (l >= 3 && i % 7 === 0) deps.push(`t${l - 3}_${(i + 3) % 20}`);
      tasks.push({ name: `t${l}_${i}`, depends_on: deps });
    }
  }
  return tasks;
}

function checkLayout(tasks: DagInput[], layout: DagLayout) {
  assert.equal(layout.nodes.length, tasks.length);
  const at = new Map(layout.nodes.map((n) => [n.name, n]));
  for (const t of tasks) {
    for (const up of t.depends_on) assert.ok(at.get(up)!.x < at.get(t.name)!.x, `${up} left of ${t.name}`);
  }
  const columns = new Map<number, number[]>();
  for (const n of layout.nodes) (columns.get(n.x) ?? columns.set(n.x, []).get(n.x)!).push(n.y);
  for (const ys of columns.values()) {
    ys.sort((a, b) => a - b);
    for (let i = 1; i < ys.length; i++) assert.ok(ys[i] - ys[i - 1] >= nodeHeight, 'boxes of a column do not overlap');
  }
  for (const n of layout.nodes) assert.ok(n.y >= 0 && n.y + nodeHeight <= layout.height);
  assert.equal(layout.edges.length, tasks.reduce((s, t) => s + t.depends_on.length, 0));
}

test('a 200-task graph lays out left to right with no box over another', () => {
  const tasks = wide();
  checkLayout(tasks, layoutDag(tasks));
});

test('graphs above the threshold go to the worker, and its answer is the same layout', async () => {
  assert.equal(needsWorker(wide().slice(0, workerThreshold)), false);
  assert.equal(needsWorker(wide().slice(0, workerThreshold + 1)), true);
  const posted: number[] = [];
  setWorkerFactory(() => {
    const w: LayoutWorker = {
      onmessage: null,
      onerror: null,
      postMessage(m) {
        posted.push(m.tasks.length);
        // Answers out of order, as a busy worker may: each promise gets its own layout.
        setTimeout(() => w.onmessage?.({ data: { id: m.id, layout: layoutDag(m.tasks) } }), m.tasks.length === 200 ? 20 : 1);
      },
    };
    return w;
  });
  const tasks = wide();
  const [big, smaller] = await Promise.all([layoutInWorker(tasks), layoutInWorker(tasks.slice(0, 60))]);
  assert.deepEqual(posted, [200, 60]);
  checkLayout(tasks, big);
  assert.deepEqual(big, layoutDag(tasks));
  assert.equal(smaller.nodes.length, 60);
});

test('a worker that fails hands its pending layouts back to the main thread', async () => {
  let w: LayoutWorker | null = null;
  setWorkerFactory(() => (w = { onmessage: null, onerror: null, postMessage() {} }));
  const tasks = wide();
  const waiting = layoutInWorker(tasks);
  w!.onerror?.(new Error('worker script failed to load'));
  assert.deepEqual(await waiting, layoutDag(tasks));
  // No worker at all (an old browser): laid out here.
  setWorkerFactory(() => null);
  assert.equal((await layoutInWorker(tasks)).nodes.length, 200);
});
