import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyFigures, runsThroughput } from '../../src/lib/copy_figures';
import { applyReport, formatMark, formatRate, isCopyReport, maxSamples, type LiveCopy } from '../../src/lib/copy_live';
import type { CopyTask } from '../../src/lib/types';

const report = (rows_written: number, extra: Record<string, unknown> = {}) => ({ rows_read: rows_written, rows_written, batches: rows_written / 10, rows_per_second: 5, try: 1, ...extra });

test('a copy report is told from a single metric', () => {
  assert.equal(isCopyReport({ metric: 'rows', value: 3, try: 1 }), false);
  assert.equal(isCopyReport(report(10)), true);
  assert.equal(isCopyReport(null), false);
});

test('the throughput series is rows written between reports over the time between them', () => {
  let live = applyReport(undefined, 7, report(10), 1000);
  assert.deepEqual(live.series, [5], 'the first report gives its running average');
  live = applyReport(live, 7, report(30), 3000);
  assert.deepEqual(live.series, [5, 10]);
  live = applyReport(live, 7, report(31, { lag_seconds: 4 }), 3100);
  assert.deepEqual(live.series, [5, 10], 'a report 100 ms later adds no spike');
  assert.equal(live.report.lag_seconds, 4, 'but its figures are shown');
  live = applyReport(live, 7, report(50), 4000);
  assert.deepEqual(live.series, [5, 10, 20], 'measured from the last sample, not the merged report');
});

test('a newer run or try starts over; a late report of an older run is ignored', () => {
  const a = applyReport(applyReport(undefined, 7, report(10), 0), 7, report(20), 1000);
  const b = applyReport(a, 8, report(10, { rows_per_second: 9 }), 2000);
  assert.equal(b.run, 8);
  assert.deepEqual(b.series, [9]);
  assert.equal(applyReport(b, 7, report(99), 3000), b);
  const retry = applyReport(b, 8, report(0, { try: 2, rows_per_second: 0 }), 3000);
  assert.equal(retry.try, 2);
  assert.deepEqual(retry.series, [0]);
});

test('the series keeps the last samples only', () => {
  let live: LiveCopy | undefined;
  for (let i = 0; i < maxSamples + 20; i++) live = applyReport(live, 1, report(i * 10), i * 1000);
  assert.equal(live!.series.length, maxSamples);
  assert.equal(live!.series.at(-1), 10);
});

test('marks and rates as shown', () => {
  assert.equal(formatMark(['2026-01-01 10:00:00', '42']), '2026-01-01 10:00:00, 42');
  assert.equal(formatMark({ cursor: ['a'], mark: ['x', 1] }), 'x, 1');
  assert.equal(formatMark(null), '—');
  assert.equal(formatRate(3.14159), '3.1');
  assert.equal(formatRate(12345.6), '12,346');
  assert.equal(formatRate(undefined), '—');
});

const task = (latest: CopyTask['latest'], recent: CopyTask['recent'] = []): CopyTask => ({
  job: 'j', task: 't', source: 's', sink: 'd', cursor: [], batch_rows: 10, checkpoint: null, latest, recent,
});
const instance = (run: number, state: string, metrics: Record<string, unknown>): NonNullable<CopyTask['latest']> => ({
  run, task: 't', state, try_number: 1, max_tries: 1, queued_at: null, started_at: null, finished_at: null, next_attempt_at: null, error: null, metrics,
});

test('a row shows live reports while its run runs, then the stored metrics of the last attempt', () => {
  const live = applyReport(undefined, 5, report(20, { lag_seconds: 9 }), 0);
  const running = copyFigures(task(instance(5, 'running', { rows_written: 10, rows_deleted: 0 })), live);
  assert.equal(running.live, true);
  assert.equal(running.report.rows_written, 20);
  assert.equal(running.report.rows_deleted, 0, 'stored fields the reports lack stay');
  const ahead = copyFigures(task(instance(4, 'success', { rows_written: 1 })), live);
  assert.equal(ahead.live, true, 'a newer run than the list knows shows live');
  const recent = [{ run: 5, state: 'success', started_at: null, finished_at: null, rows_written: 30, rows_per_second: 3 },
    { run: 4, state: 'success', started_at: null, finished_at: null, rows_written: 1, rows_per_second: 1 }];
  const ended = copyFigures(task(instance(5, 'success', { rows_written: 30 }), recent), live);
  assert.equal(ended.live, false);
  assert.equal(ended.report.rows_written, 30);
  assert.deepEqual(ended.series, [1, 3], 'oldest run first');
  const never = copyFigures(task(null), undefined);
  assert.equal(never.run, null);
  assert.deepEqual(never.series, []);
});

test("an ended copy's page draws the rows/s of its recent runs, its own run's point marked", () => {
  const r = (run: number, rate: number | null) => ({ run, state: 'success', started_at: null, finished_at: null, rows_written: 10, rows_per_second: rate });
  const recent = [r(9, 12.5), r(8, null), r(7, 4), r(6, 8)];
  const mine = runsThroughput(recent, 7);
  assert.deepEqual(mine.values, [8, 4, 12.5], 'oldest first, runs without a figure left out');
  assert.equal(mine.highlight, 1);
  assert.equal(mine.label, 'rows per second of the last 3 runs, run 7 at 4.0');
  const unmeasured = runsThroughput(recent, 8);
  assert.equal(unmeasured.highlight, -1, 'a run without a figure has no point');
  const older = runsThroughput([r(9, 12.5)], 2);
  assert.equal(older.highlight, -1, 'a run older than the recent ones has no point');
  assert.equal(older.label, 'rows per second of the last 1 run');
});
