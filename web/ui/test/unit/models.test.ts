import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layoutDag, nodeWidth } from '../../src/lib/dag';
import { buildGrid, moveInGrid } from '../../src/lib/grid';
import { fieldOfMessage } from '../../src/lib/params';

const run = (id: number, state: string, tasks: [string, string, number?][]) => ({
  id, state, logical_time: null, created_at: `2026-01-0${id}T00:00:00Z`,
  tasks: tasks.map(([task, s, tries]) => ({ task, state: s, try_number: tries ?? 1 })),
});

test('the grid puts the oldest run left and a task the run lacks as none', () => {
  const g = buildGrid(['extract', 'load'], [
    run(3, 'running', [['extract', 'success'], ['load', 'running', 2]]),
    run(2, 'failed', [['extract', 'failed'], ['load', 'upstream_failed'], ['old', 'success']]),
  ]);
  assert.deepEqual(g.runs.map((r) => r.id), [2, 3]);
  assert.deepEqual(g.tasks, ['extract', 'load', 'old']);
  assert.deepEqual(g.cells[1].map((c) => [c.run, c.state, c.tries]), [[2, 'upstream_failed', 1], [3, 'running', 2]]);
  assert.deepEqual(g.cells[2].map((c) => c.state), ['success', 'none']);
});

test('arrow keys move within the grid and stop at its edges', () => {
  const g = buildGrid(['a', 'b'], [run(2, 'success', [['a', 'success'], ['b', 'success']]), run(1, 'success', [['a', 'success'], ['b', 'success']])]);
  let p = { row: 0, col: 0 };
  p = moveInGrid(g, p, 'ArrowUp');
  assert.deepEqual(p, { row: 0, col: 0 });
  p = moveInGrid(g, p, 'ArrowDown');
  p = moveInGrid(g, p, 'ArrowDown');
  assert.deepEqual(p, { row: 1, col: 0 });
  p = moveInGrid(g, p, 'End');
  assert.deepEqual(p, { row: 1, col: 1 });
  p = moveInGrid(g, p, 'ArrowRight');
  assert.deepEqual(p, { row: 1, col: 1 });
  assert.equal(moveInGrid(g, p, 'x'), p);
});

test('the DAG layout puts each task right of everything it depends on', () => {
  const tasks = [
    { name: 'load', depends_on: ['extract_a', 'extract_b'] },
    { name: 'extract_a', depends_on: [] },
    { name: 'extract_b', depends_on: [] },
    { name: 'report', depends_on: ['load', 'extract_a'] },
  ];
  const l = layoutDag(tasks);
  const at = new Map(l.nodes.map((n) => [n.name, n]));
  for (const t of tasks) for (const up of t.depends_on) assert.ok(at.get(up)!.x + nodeWidth <= at.get(t.name)!.x, `${up} -> ${t.name}`);
  assert.equal(at.get('report')!.layer, 2);
  assert.equal(l.edges.length, 4);
  const ys = l.nodes.filter((n) => n.layer === 0).map((n) => n.y);
  assert.notEqual(ys[0], ys[1], 'two roots do not overlap');
});

test('an edge that skips a column runs between the boxes of that column, not under them', () => {
  const tasks = [
    { name: 'extract', depends_on: [] },
    { name: 'transform', depends_on: ['extract'] },
    { name: 'check', depends_on: ['extract'] },
    { name: 'load', depends_on: ['transform'] },
    { name: 'publish', depends_on: ['load', 'check'] },
  ];
  const l = layoutDag(tasks);
  const at = new Map(l.nodes.map((n) => [n.name, n]));
  const long = l.edges.find((e) => e.from === 'check' && e.to === 'publish')!;
  assert.equal(long.points.length, 4, 'start, entry and exit of the crossed column, end');
  const [, entry, exit] = long.points;
  const load = at.get('load')!;
  assert.equal(entry[0], load.x);
  assert.equal(exit[0], load.x + nodeWidth);
  assert.equal(entry[1], exit[1]);
  const inside = entry[1] >= load.y && entry[1] <= load.y + 40;
  assert.ok(!inside, `the edge at y=${entry[1]} does not cross load's box (${load.y}..${load.y + 40})`);
  const short = l.edges.find((e) => e.from === 'load')!;
  assert.equal(short.points.length, 2);
  assert.equal(l.nodes.length, 5, 'waypoints are not nodes');
});

test('a server message names the param it is about', () => {
  assert.equal(fieldOfMessage("job greet: parameter 'count' must be an integer, got 'x'"), 'count');
  assert.equal(fieldOfMessage('job greet is paused'), null);
});
