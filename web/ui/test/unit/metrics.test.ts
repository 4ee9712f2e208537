import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readHistogram } from '../../src/lib/metrics';

const text = `# HELP sluice_schedule_lateness_seconds Actual start of a scheduled run minus its scheduled time.
# TYPE sluice_schedule_lateness_seconds histogram
sluice_schedule_lateness_seconds_bucket{le="0.1"} 10
sluice_schedule_lateness_seconds_bucket{le="1"} 18
sluice_schedule_lateness_seconds_bucket{le="10"} 20
sluice_schedule_lateness_seconds_bucket{le="+Inf"} 20
sluice_schedule_lateness_seconds_sum 14.5
sluice_schedule_lateness_seconds_count 20
sluice_store_commit_seconds_count 7
`;

test('a histogram from the metrics text: count, mean and the bucket holding the 95th percentile', () => {
  assert.deepEqual(readHistogram(text, 'sluice_schedule_lateness_seconds'), { count: 20, mean: 0.725, p95Bound: 10 });
});

test('an empty histogram has no mean; a missing one is null', () => {
  const empty = 'x_bucket{le="1"} 0\nx_bucket{le="+Inf"} 0\nx_sum 0\nx_count 0\n';
  assert.deepEqual(readHistogram(empty, 'x'), { count: 0, mean: null, p95Bound: null });
  assert.equal(readHistogram(text, 'sluice_nothing'), null);
});
